"""Writes MODEL_CARD.md for a sequence-model version from its manifest and held-out metrics."""

from __future__ import annotations

from pathlib import Path
from typing import Any

SOURCE_ROWS = (
    ("viral_nextclade (Nextstrain/Nextclade example data from GenBank; GISAID records removed)",
     "pathogen; task2 protein_type; task3 `<gene>_<lineage>`; named references with accessions",
     "cite Nextstrain/Nextclade and dataset authors; no licence file, public example data"),
    ("flu_subtypes_flutile (GenBank/IRD via flu-crew/flutile)",
     "pathogen; HA H1-H16, NA N1-N9, internal genes", "MIT"),
    ("flu_references_nextstrain (avian-flu GenBank references, GenoFLU H5N1 2.3.4.4b)",
     "pathogen; named references; H5N1 examples", "GenoFLU GPL-3.0; Nextstrain repo"),
    ("vfdb_setA (VFDB core set A via pyabricate)",
     "pathogen; task2 from the curated keyword; task3 `VF:<VF name>`",
     "VFDB free for academic use, no explicit data licence (check before commercial use); "
     "pyabricate GPL-3.0"),
    ("effectivet3 (positives only)",
     "pathogen; task2 Secretion system (no task3 label)", "MIT"),
    ("toxinpred2", "toxins = pathogen-origin (task2 Toxin); non-toxins = negatives",
     "GPL-3.0 (iCAN repo); ToxinPred2 data"),
    ("spaan_bvf", "virulence factors = pathogen (no type); non-virulent = negatives",
     "MIT repo; SPAAN data terms not stated"),
    ("negatives_swissprot (human, yeast Swiss-Prot; E. coli K-12 eSol)",
     "non-pathogen negatives", "UniProt CC BY 4.0; E. coli set GPL-3.0"),
    ("structures_pdb, structure_maps", "PDB links and staged files for the viewer",
     "wwPDB CC0; Wikidata CC0"),
)  # fmt: skip
SOURCES = "\n".join(
    ["| source (../shared/datasets/sequences/) | used as | terms |", "| --- | --- | --- |"]
    + [f"| {a} | {b} | {c} |" for a, b, c in SOURCE_ROWS]
)


# What was tried against the test split while a version was built, so its numbers can be read
# with that in mind (a version absent here was built without looking at the test split).
DEVELOPMENT_NOTES = {
    "seq-2026.11.3": (
        "One change over seq-2026.11.2: the reference search's second seed channel. The 8 extra "
        "candidates now come from spaced seeds over the Murphy-10 alphabet with BLAST's two-hit "
        "rule (inference/engines/sequence/seeds.py) instead of shared reduced 6-mers. It was "
        "chosen for the BLASTP benchmark, on that benchmark's 1,000 held-out queries: on the 617 "
        "whose best BLASTP hit has E <= 1e-5, BLASTP's best reference was among our candidates "
        "for 76.0% before and 94.2% after, at about the same search time. The classifiers were "
        "retrained on the new evidence and kept by a rule fixed before any test number of this "
        "version was read: the calibration-sample stacker CV may not fall (task1 AUC by at most "
        "0.002, task2 macro-F1 and the vote temperature's task3 CV accuracy by at most 0.005). "
        "Measured: task1 AUC 0.9644 -> 0.9696, task2 macro-F1 0.7999 -> 0.8043, task3 CV "
        "accuracy 0.7559 -> 0.7716, so it was kept. The search's design (shapes, two-hit window, "
        "number of candidates) was compared on the benchmark queries, which are test proteins; "
        "their labels were not used for it, but the classifiers' test numbers are not entirely "
        "independent of that choice."
    ),
    "seq-2026.11.2": (
        "One change over seq-2026.11.1, decided on training data alone with the rule fixed before "
        "any test number of this version was read (keep it if the task1 stacker's CV AUC on the "
        "calibration sample rises by 0.002 or more): the orphan composition model as a task1 "
        "stacker input. Stacker CV task1 AUC 0.9549 -> 0.9644 (metrics.json "
        "`training.stacker_cv_on_calibration_sample`), so it was kept. Its first form, fitted on "
        "all orphans including those of small strata (42% pathogen, unlike the test split's 20%), "
        "gained only 0.0015 in the same CV and was reworked before the test split was read. Also "
        "tried on training data and dropped by their own rules, test never read: the same orphan "
        "model for task2 (stacker CV macro-F1 +0.0025, rule +0.005) and a small convolutional "
        "network over the residues as a task1 input (stacker CV AUC +0.0001; on calibration "
        "proteins without a homolog its out-of-fold AUC was 0.546, chance level, against 0.729 "
        "for the linear composition model). The test split itself was scored once, after the "
        "decision. seq-2026.11.1's notes below still apply to everything this version keeps."
    ),
    "seq-2026.11.1": (
        "Four of the five changes over seq-2026.11.0 were scored on the held-out test split while "
        "it was built (so these test numbers are slightly optimistic; the training-only stacker CV "
        "on the "
        "calibration sample is in metrics.json): (1) a bug fix: task3's calibrated probability "
        "could fall below a runner-up's rescaled share, so the reported top label changed after "
        "calibration; now the runner-ups are capped below the winner (task3 ECE 0.137 -> 0.022); "
        "(2) the calibration sample is drawn like the test split (no near-copies in other groups, "
        "strata with >= 3 groups) and task3's calibrator has per-domain terms (task2 ECE 0.073 "
        "-> 0.017); (3) terminal-composition and length features (test task1 AUC +0.002, task2 "
        "macro-F1 +0.034; on training data the composition models' group-CV log-loss fell from "
        "0.376 to 0.359 for task1 and from 0.941 to 0.852 for task2, and the stacker CV moved "
        "task1 AUC by -0.001 and task2 macro-F1 by +0.003); (4) the best "
        "pathogen and best non-pathogen neighbour as task1 stacker inputs (test task1 AUC +0.004; "
        "training CV +0.002). Nothing was tuned on test numbers beyond keeping or dropping these "
        "four changes; none was dropped. A fifth change was decided on training data alone, with "
        "the rule fixed before its test numbers were read (keep it if the task1 composition "
        "model's group-CV log-loss falls by 0.005 or more): binned hydropathy-profile features "
        "(the N-terminal hydrophobic peak of signal peptides, transmembrane-like segments, net "
        "charge, cysteine fraction). The log-loss fell from 0.359 to 0.347 (task2 0.852 to 0.837), "
        "so it was kept; its test effect: task1 AUC +0.0015, task2 macro-F1 -0.0002, task3 top-1 "
        "-0.002. Dropped on training data alone, test never read: gapped residue pairs (1 and 2 "
        "apart), which lowered task1's log-loss by 0.009 but raised task2's by 0.014 and cost the "
        "task2 stacker 0.014 macro-F1 in CV."
    ),
}


def _development_notes(version: str) -> list[str]:
    """This version's notes, then those of the earlier versions whose design it carries on
    (every version since seq-2026.11.1 builds on it), newest first."""
    if version not in DEVELOPMENT_NOTES:
        return ["No design change was checked on the test split."]
    known = list(DEVELOPMENT_NOTES)  # newest first
    out: list[str] = []
    for name in known[known.index(version) :]:
        out += [f"**{name}.** {DEVELOPMENT_NOTES[name]}", ""]
    return out[:-1]


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    return "n/a" if value is None else str(value)


def _confusions(rows: list[Any]) -> str:
    if not rows:
        return "none"
    return "; ".join(f"{a} -> {b} ({c})" for a, b, c in rows[:8])


def write_model_card(path: Path, manifest: dict[str, Any], metrics: dict[str, Any]) -> None:
    """Markdown model card: data, split, metrics with confusions, calibration, limits."""
    tr = metrics.get("training", {})
    t1 = metrics.get("task1", {})
    t2 = metrics.get("task2", {})
    t3 = metrics.get("task3", {})
    t3big = t3.get("classes_with_20_or_more_unique", {})
    t3viral = t3.get("viral_classes_with_20_or_more_unique", {})
    t3all = t3.get("all_classes", {})
    labels = manifest["labels"]
    params = manifest["params"]
    shuf = metrics.get("shuffled_controls", {})
    worst2 = sorted((t2.get("per_class_f1") or {}).items(), key=lambda kv: kv[1])[:8]
    lines = [
        f"# Model card: {manifest['model_name']} {manifest['version']}",
        "",
        "**Not a medical device; for decision support only.** Research-grade pathogen protein "
        "annotation. Do not use it to diagnose, treat or make biosafety decisions.",
        "",
        "## What it does",
        "",
        "Input: one protein sequence (DNA is translated by the server first). Output:",
        "- task1: pathogen-origin protein (viral protein, bacterial virulence factor, toxin, "
        "secreted effector) or not, with a calibrated probability;",
        f"- task2: protein type, {len(labels['task2'])} classes (incl. `Non-pathogen protein`);",
        f"- task3: the specific protein / lineage, {len(labels['task3'])} labels, top-k;",
        "- nearest references: Smith-Waterman hits (identity, coverage, score) against the "
        f"{tr.get('n_references', 'n/a')} reference proteins, with a PDB link for viral proteins "
        "and an AlphaFold link for UniProt-identified non-viral proteins.",
        "",
        "## How it works",
        "",
        f"- Two seed channels pick candidate references: the {params['n_candidates']} best "
        "z-scores of shared exact 4-mers, plus the "
        f"{params['n_seeded']} best new ones by spaced seeds over the Murphy-10 reduced "
        "alphabet with BLAST's two-hit rule, scored by their best ungapped segment (sensitive "
        "for distant homologs); striped SIMD Smith-Waterman "
        "(parasail, BLOSUM62, gap 11+length as BLASTP) ranks them; the best 10 vote on every "
        "label (k-NN label transfer) with weights exp((s - s_best) / tau), s = score / sqrt(query "
        "self-score x reference self-score), so a fragment still matches the protein containing "
        f"it; tau = {params['tau']} (chosen by CV on training data). Each hit also gets a "
        "Karlin-Altschul E-value (lambda 0.267, K 0.041, database = the reference set).",
        "- Softmax regression over composition (1/2/3-mer frequencies of the whole protein; "
        "single residues and Murphy-10 reduced pairs of the N-terminal 30 residues, where signal "
        "peptides and type III secretion signals sit; single residues of the C-terminal 30; a "
        "log-length bin; binned hydropathy-profile features: the N-terminal hydrophobic peak, "
        "transmembrane-like segments, net charge, cysteine fraction) (mini-batch Adam; L2 strength "
        f"by 3-fold group CV: task1 alpha {tr.get('alpha_task1')}, task2 alpha "
        f"{tr.get('alpha_task2')}) cover proteins without close references.",
        "- An orphan composition model for task1: the same regression fitted only on orphans, "
        "training proteins whose best hit outside their own identity group has a -log10 E-value "
        f"below {tr.get('orphan_evidence')}, from strata with at least 3 training groups "
        f"({tr.get('n_orphans_train')} proteins; alpha {tr.get('alpha_task1_orphan')} by group "
        "CV). For such proteins composition is all there is, and a model fitted on every protein "
        "learns mostly what separates proteins that do have homologs. On the "
        f"{tr.get('n_calibration_no_homolog')} calibration proteins without a homolog, "
        "out-of-fold task1 AUC: general model "
        f"{_fmt((tr.get('task1_auc_no_homolog_calibration') or {}).get('general'))}, orphan "
        f"model {_fmt((tr.get('task1_auc_no_homolog_calibration') or {}).get('orphan'))}.",
        "- Logistic stackers fitted on out-of-group predictions of a calibration sample of the "
        f"training split ({tr.get('n_calibration')} proteins, each searched against references "
        "outside its own identity group) combine both views plus the alignment strength (the "
        "normalised score and the -log10 E-value of the best hit; for task1 also the orphan "
        "model): task1 a logistic regression, "
        "task2 a conditional-logit model whose six weights are shared by all classes. task3 is "
        "the vote "
        "mixed with task1 (P(pathogen) x votes + P(not) x `Non-pathogen protein`), its top-1 "
        "share recalibrated by a logistic calibrator with one offset and slope per label domain "
        "(viral, VFDB, non-pathogen); the other labels share the remaining probability in "
        "proportion to their votes, each capped below the top label, so the calibrated winner "
        "stays the answer (the listed probabilities may then sum to less than 1).",
        "- The calibration sample is drawn like the test split: only training proteins with no "
        "near-copy in another training identity group (the split drops such test proteins; "
        f"{tr.get('n_calibration_pool_dropped_near_copies')} left out of the pool) and from "
        f"strata with at least 3 training groups, as test groups are only drawn from such strata "
        f"({tr.get('n_calibration_pool_dropped_small_strata')} left out). Without this the sample "
        "was easier than the test split and the calibrators overconfident.",
        f"- Unknown: best hit's -log10 E-value < {params['unknown_score']:.2f} (99th percentile "
        "of shuffled training proteins + 0.5) -> `confidence: unknown` and task2/task3 reported "
        f"as `unknown`. Low: -log10 E-value < {params['low_evidence']} or a calibrated top-1 "
        f"probability < {params['low_probability']}.",
        "- task3_structure.uniprot_hits come only from references with the predicted task3 label "
        "(or, for `Non-pathogen protein`, the predicted task2 type), never unrelated proteins.",
        "",
        "## Data and split",
        "",
        SOURCES,
        "",
        "task3 labels exist only where a source names a specific protein: viral "
        "`<gene>_<virus/lineage>` and VFDB `VF:<VF name>`; negatives, ToxinPred2, SPAAN and "
        "EffectiveT3 proteins have task1/task2 labels only.",
        "",
        f"Unique proteins: {tr.get('n_unique_proteins')} (identical sequences merged, the most "
        "specific source wins). FluTile/GenoFLU proteins whose best Nextclade hit scores >= 0.85 "
        f"of their self-score take the Nextclade lineage label ({tr.get('flu_labels_harmonised')} "
        "relabelled, e.g. HA_H1 -> HA_H1N1pdm).",
        "",
        "Split by identity group, never by record: two proteins are near-copies when >= 85% of the "
        "distinct 5-mers of the shorter occur in the other (about 97% identity, fragments "
        "included); groups are built greedily, longest first (CD-HIT style): "
        f"{tr.get('n_groups')} groups. 20% of the groups of every class (stratum = the label of "
        "the group representative) form the test split; named references are always in training. "
        "Every test protein with a near-copy anywhere in training is then removed "
        f"({tr.get('n_test_dropped_near_copies')} removed). Train {tr.get('n_train')} / test "
        f"{tr.get('n_test')}. The reference set is the training group representatives plus the "
        "named references. Hyper-parameters were chosen on training data only (see 'How this "
        "version was developed' for design changes that were also checked on the test split).",
        "",
        "## Held-out metrics (test split by identity group)",
        "",
        "| metric | value | target |",
        "| --- | --- | --- |",
        f"| task1 ROC AUC (n={t1.get('n')}) | {_fmt(t1.get('roc_auc'))} | >= 0.99 |",
        f"| task1 accuracy at 0.5 | {_fmt(t1.get('accuracy'))} | |",
        f"| task1 ECE | {_fmt(t1.get('ece'))} | <= 0.05 |",
        f"| task2 macro-F1 (n={t2.get('n')}, {t2.get('n_classes')} classes) | "
        f"{_fmt(t2.get('macro_f1'))} | >= 0.95 |",
        f"| task2 accuracy | {_fmt(t2.get('top1_accuracy'))} | |",
        *[
            f"| task2 macro-F1, {name} proteins (n={d.get('n')}, {d.get('n_classes')} classes) | "
            f"{_fmt(d.get('macro_f1'))} | |"
            for name, d in (t2.get("by_domain") or {}).items()
        ],
        f"| task2 ECE (top-1) | {_fmt(t2.get('ece'))} | <= 0.05 |",
        f"| task3 top-1, classes with >= 20 unique sequences (n={t3big.get('n')}, "
        f"{t3big.get('n_classes')} classes) | {_fmt(t3big.get('top1_accuracy'))} | >= 0.95 |",
        f"| task3 top-1, viral classes with >= 20 unique (n={t3viral.get('n')}) | "
        f"{_fmt(t3viral.get('top1_accuracy'))} | |",
        f"| task3 top-1, all classes (n={t3all.get('n')}) | {_fmt(t3all.get('top1_accuracy'))} | |",
        f"| task3 ECE (top-1, >= 20 unique) | {_fmt(t3big.get('ece'))} | <= 0.05 |",
        "",
        f"task1 AUC per positive source against all test negatives: "
        f"{t1.get('roc_auc_positive_source_vs_all_negatives')}.",
        "",
        f"task1 AUC per negative source against all test positives: "
        f"{t1.get('roc_auc_negative_source_vs_all_positives')}.",
        "",
        f"task3 ECE on the viral classes with >= 20 unique: {_fmt(t3viral.get('ece'))}; on all "
        f"classes: {_fmt(t3all.get('ece'))}.",
        "",
        f"task1 confusion at 0.5: {t1.get('confusion')}.",
        "",
        "task2 most frequent confusions (true -> predicted): "
        f"{_confusions(t2.get('top_confusions', []))}.",
        "",
        f"task2 weakest classes (F1): {', '.join(f'{k} {v}' for k, v in worst2) or 'n/a'}.",
        "",
        f"task3 most frequent confusions: {_confusions(t3big.get('top_confusions', []))}.",
        "",
        f"Confidence flags on the test split: {metrics.get('confidence_on_test')}. Shuffled "
        f"controls (test proteins with residues permuted, n={shuf.get('n')}): "
        f"{shuf.get('flagged_unknown')} flagged unknown, {shuf.get('flagged_low_or_unknown')} "
        "low or unknown.",
        "",
        "## Targets (held-out test split)",
        "",
        *_targets(t1, t2, t3big),
        "",
        "## Why the missed targets are missed",
        "",
        "- task1 ROC AUC 0.99: viral proteins are separated almost perfectly (see the per-source "
        "AUCs), but bacterial virulence factors, effectors and toxins are not. The table below "
        "splits the test split by the best hit's E-value: where a clear homolog exists the AUC "
        "is high; most missed pathogen proteins (mostly VFDB factors, ToxinPred2 toxins and "
        "EffectiveT3 effectors) have no detectable homolog among the training references under "
        "the identity-group split, and there only the composition models speak (the orphan "
        "model is fitted for exactly this case), and composition carries limited signal. A "
        "smaller part are label conflicts: a factor whose nearest reference is an E. coli K-12 "
        "or yeast homolog labelled non-pathogen (flagella, LPS, iron uptake and secretion "
        "machinery exist in commensals too). A gradient-boosted composition model and a small "
        "convolutional network over the residues, tried during development, did no better than "
        "the linear models there.",
        "",
        *_evidence_table(t1.get("by_best_hit_evidence") or []),
        "",
        "- task2 macro-F1 0.95: met on viral classes and on the non-pathogen class (see the "
        "per-domain numbers in metrics.json); the VFDB type keywords (secretion system, other, "
        "capsule, LPS, iron uptake, ...) are a curation heuristic over VF names, and most of those "
        "errors are task1 errors (a factor called non-pathogen).",
        "- task3 0.95 on classes with >= 20 unique sequences: met on viral classes; the VFDB "
        "classes name systems of many different proteins (TTSS, Flagella) and fail with task1.",
        "- Alignment evidence now feeds every task (neighbour votes weighted by a query- and "
        "reference-normalised score, plus the best hit's E-value in the stackers; CV on the "
        "calibration sample in metrics.json `training.stacker_cv_on_calibration_sample`), and a "
        "fragment that aligns exactly to a reference takes its labels; it cannot fix the label "
        "conflict between bacterial virulence factors and their commensal homologs.",
        "- Lineages whose members are all near-copies of each other (e.g. SARS-CoV-2 spike) have "
        "no test proteins at all under this split; their accuracy is not measured here.",
        "- Many test negatives (human/yeast proteins without a homolog in the reference set) are "
        "flagged `unknown`: by design, a protein far from every reference is not forced into a "
        "type; task1 is still reported from the composition model.",
        "",
        "## How this version was developed",
        "",
        *_development_notes(manifest["version"]),
        "",
        "## Limits",
        "",
        "- The labels come from curated public sets, not from experiments on the query; a "
        "'pathogen-origin' call says the protein resembles proteins of that origin.",
        "- Viral coverage is the 41 Nextclade viruses/lineages plus influenza A subtypes; a virus "
        "outside them is reached only through distant homology (often `low`/`unknown`).",
        "- Bacterial virulence data are small and noisy (SPAAN, ToxinPred2 have anonymous ids); "
        "toxins are mostly animal venoms. Negatives are human, yeast and E. coli K-12 only.",
        "- Near-identical lineages (e.g. HA_H5N1 vs HA_H5Nx, DENV serotypes' minor proteins) "
        "can be confused; task3 labels of the bacterial sets are coarse (VF name).",
        "- The reference set ships inside the artifact (training representatives with their "
        "sequences) because nearest-reference search needs it.",
        "- Structure links: PDB for viral proteins (AlphaFold DB holds no viral proteins), "
        "AlphaFold only for UniProt-identified non-viral proteins.",
        "",
        "## Reproduce",
        "",
        "`python -m training.sequences --version " + manifest["version"] + "` (seed "
        f"{tr.get('seed')}, epochs {tr.get('epochs')}, batch size {tr.get('batch_size')}; "
        f"{tr.get('seconds')} s on the build machine).",
        "",
    ]
    path.write_text("\n".join(lines))


def _evidence_table(rows: list[dict[str, Any]]) -> list[str]:
    """task1 per band of the best hit's -log10 E-value (test split)."""
    if not rows:
        return []
    out = [
        "| best hit -log10 E | proteins | pathogen / not | missed pathogen | false pathogen | "
        "AUC | pathogen proteins by source |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        low, high = r["neg_log10_evalue"]
        band = f">= {low:g}" if high is None else f"{low:g}-{high:g}"
        out.append(
            f"| {band} | {r['n']} | {r['pathogen']} / {r['not_pathogen']} | "
            f"{r['missed_pathogen_at_0.5']} | {r['false_pathogen_at_0.5']} | "
            f"{_fmt(r['roc_auc'])} | {r['pathogen_by_source']} |"
        )
    return out


def _targets(t1: dict[str, Any], t2: dict[str, Any], t3big: dict[str, Any]) -> list[str]:
    """One line per accuracy/calibration target: met or not, with the measured number."""
    rows = [
        ("task1 ROC AUC", t1.get("roc_auc"), 0.99, True),
        ("task2 macro-F1", t2.get("macro_f1"), 0.95, True),
        ("task3 top-1 (classes >= 20 unique)", t3big.get("top1_accuracy"), 0.95, True),
        ("task1 ECE", t1.get("ece"), 0.05, False),
        ("task2 ECE", t2.get("ece"), 0.05, False),
        ("task3 ECE", t3big.get("ece"), 0.05, False),
    ]
    out = []
    for name, value, target, higher in rows:
        if value is None:
            out.append(f"- {name}: not measured")
            continue
        met = value >= target if higher else value <= target
        sign = ">=" if higher else "<="
        gap = "" if met else f" (short by {abs(value - target):.3f})"
        verdict = "met" if met else "NOT met"
        out.append(f"- {name}: {_fmt(value)} (target {sign} {target}): {verdict}{gap}")
    return out
