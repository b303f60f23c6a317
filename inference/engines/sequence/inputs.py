"""The sequence engine's inputs: validation of sequences, DNA/RNA translation, and the bounds of
every request field (published in model-info as the engine's limits).

Turns what a caller sent (``sequence``, ``seq_type``, ``frame``) into a clean upper-case protein
string plus the ``translation`` block of the response, or raises ``InvalidInput`` naming the field
and the problem. Pure Python, no Flask: the routes call it, and so can anything else.

Rules (also stated in the API docs):

- ``seq_type``: ``protein``, ``dna``, ``rna`` or ``auto`` (case-insensitive; default ``protein``).
  ``auto`` calls the input nucleotide when every letter is a nucleotide code and at least 90% are
  A/C/G/T/U, else protein.
- Whitespace and line breaks are ignored; one FASTA header line (``>...``) may lead; a single
  trailing ``*`` on a protein is dropped.
- Protein letters: the 20 standard amino acids, U (selenocysteine), O (pyrrolysine) and the IUPAC
  ambiguity codes B, Z, X. Nucleotides: A C G T U and the IUPAC ambiguity codes
  R Y S W K M B D H V N.
- Lengths: a protein (given or translated) has 8..10,000 residues; a nucleotide input has at most
  30,000 nt. The minimum of 8 is what the seed's own DNA example translates to.
- Frames: 0-2 read the given strand from offset 0, 1, 2; 3-5 read the reverse complement from
  offset 0, 1, 2. With a frame, the longest open reading frame in that frame is used; without one,
  the longest of all six frames (ties go to the lower frame number), and the response says which.
- An open reading frame runs from an ATG to the next stop codon (or the sequence end), as NCBI
  ORFfinder's default. When no such ORF reaches the minimum length (a fragment cut inside a gene,
  with no start codon), the longest stop-free stretch is used instead (``orf_type`` says which).
  Codons with ambiguity codes translate to the amino acid all their readings agree on, else X.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import Any

from inference.errors import InvalidInput

MIN_PROTEIN_LENGTH = 8
MAX_PROTEIN_LENGTH = 10_000
MAX_NUCLEOTIDE_LENGTH = 30_000
SEQ_TYPES = ("protein", "dna", "rna", "auto")
# Per request: items of a batch, references and task3 labels returned, organism hint characters.
MAX_BATCH_ITEMS = 10_000
MAX_TOP_K = 50
MAX_ORGANISM_HINT = 200
# A retraining request's arguments.
MAX_EPOCHS = 500
MAX_BATCH_SIZE = 4096
DEFAULT_EPOCHS = 10
DEFAULT_BATCH_SIZE = 32

PROTEIN_LETTERS = frozenset("ACDEFGHIKLMNPQRSTVWY" + "UO" + "BZX")
NUCLEOTIDE_LETTERS = frozenset("ACGTU" + "RYSWKMBDHVN")
_UNAMBIGUOUS_NT = frozenset("ACGTU")
_AUTO_NUCLEOTIDE_FRACTION = 0.9

# The standard genetic code (NCBI translation table 1), bases in TCAG order: codon i is
# BASES[i // 16] + BASES[(i // 4) % 4] + BASES[i % 4].
_BASES = "TCAG"
_AMINO_ACIDS = "FFLLSSSSYY**CC*WLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG"
CODON_TABLE: dict[str, str] = {
    a + b + c: _AMINO_ACIDS[16 * i + 4 * j + k]
    for (i, a), (j, b), (k, c) in itertools.product(enumerate(_BASES), repeat=3)
}
STOP = "*"

_IUPAC_EXPANSION: dict[str, str] = {
    "A": "A",
    "C": "C",
    "G": "G",
    "T": "T",
    "R": "AG",
    "Y": "CT",
    "S": "CG",
    "W": "AT",
    "K": "GT",
    "M": "AC",
    "B": "CGT",
    "D": "AGT",
    "H": "ACT",
    "V": "ACG",
    "N": "ACGT",
}
_COMPLEMENT = str.maketrans("ACGTRYSWKMBDHVN", "TGCAYRSWMKVHDBN")
_WHITESPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Translation:
    """A validated protein and the ``translation`` block that describes where it came from."""

    protein: str
    info: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"protein_sequence": self.protein, "info": dict(self.info)}


def _translate_codon(codon: str) -> str:
    amino = CODON_TABLE.get(codon)
    if amino is not None:
        return amino
    readings = {
        CODON_TABLE[a + b + c]
        for a in _IUPAC_EXPANSION[codon[0]]
        for b in _IUPAC_EXPANSION[codon[1]]
        for c in _IUPAC_EXPANSION[codon[2]]
    }
    return readings.pop() if len(readings) == 1 else "X"


def translate(nucleotides: str) -> str:
    """Translate a DNA string (A/C/G/T + IUPAC codes, no U) codon by codon; stops become ``*``."""
    return "".join(
        _translate_codon(nucleotides[i : i + 3]) for i in range(0, len(nucleotides) - 2, 3)
    )


def reverse_complement(nucleotides: str) -> str:
    return nucleotides.translate(_COMPLEMENT)[::-1]


def _describe_positions(sequence: str, allowed: frozenset[str]) -> tuple[str, str]:
    """The distinct invalid letters (in order of appearance) and their first positions (1-based)."""
    bad_letters: dict[str, None] = {}
    positions: list[int] = []
    for index, letter in enumerate(sequence):
        if letter not in allowed:
            bad_letters.setdefault(letter, None)
            positions.append(index + 1)
    shown = ", ".join(str(p) for p in positions[:10])
    if len(positions) > 10:
        shown += f", ... ({len(positions)} in all)"
    return "".join(bad_letters), shown


def clean_sequence(raw: Any, *, field: str = "sequence") -> str:
    """Strip a FASTA header and whitespace, upper-case; reject empty and non-string input."""
    if raw is None:
        raise InvalidInput(f"{field}: is required", field=field)
    if not isinstance(raw, str):
        raise InvalidInput(
            f"{field}: must be a string, got {type(raw).__name__}",
            field=field,
        )
    text = raw.strip()
    if text.startswith(">"):
        header_end = text.find("\n")
        text = "" if header_end < 0 else text[header_end + 1 :]
        if ">" in text:
            raise InvalidInput(
                f"{field}: holds more than one FASTA record; send several sequences as 'items'",
                field=field,
            )
    cleaned = _WHITESPACE.sub("", text).upper()
    if not cleaned:
        raise InvalidInput(f"{field}: is empty", field=field)
    return cleaned


def parse_seq_type(raw: Any, *, field: str = "seq_type") -> str:
    """Return one of ``SEQ_TYPES``; ``None`` means protein (the seed's default)."""
    if raw is None:
        return "protein"
    if not isinstance(raw, str):
        raise InvalidInput(f"{field}: must be a string, one of {list(SEQ_TYPES)}", field=field)
    value = raw.strip().lower()
    if value not in SEQ_TYPES:
        raise InvalidInput(
            f"{field}: unknown seq_type {raw!r}; expected one of {list(SEQ_TYPES)}",
            field=field,
        )
    return value


def parse_frame(raw: Any, *, field: str = "frame") -> int | None:
    """Return a frame 0..5, or ``None`` for "find the longest ORF"."""
    if raw is None:
        return None
    if isinstance(raw, bool):
        raise InvalidInput(f"{field}: must be an integer 0-5, got {raw!r}", field=field)
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, float) and raw.is_integer():
        value = int(raw)
    elif isinstance(raw, str) and raw.strip().isdigit():
        value = int(raw.strip())
    else:
        raise InvalidInput(f"{field}: must be an integer 0-5, got {raw!r}", field=field)
    if not 0 <= value <= 5:
        raise InvalidInput(
            f"{field}: must be 0-2 (forward) or 3-5 (reverse complement), got {value}",
            field=field,
        )
    return value


def _check_protein(protein: str, *, field: str, what: str) -> None:
    if len(protein) < MIN_PROTEIN_LENGTH:
        raise InvalidInput(
            f"{field}: {what} is too short: {len(protein)} residues, "
            f"the minimum is {MIN_PROTEIN_LENGTH}",
            field=field,
        )
    if len(protein) > MAX_PROTEIN_LENGTH:
        raise InvalidInput(
            f"{field}: {what} is too long: {len(protein)} residues, "
            f"the maximum is {MAX_PROTEIN_LENGTH}",
            field=field,
        )


def _looks_nucleotide(sequence: str) -> bool:
    if any(letter not in NUCLEOTIDE_LETTERS for letter in sequence):
        return False
    plain = sum(1 for letter in sequence if letter in _UNAMBIGUOUS_NT)
    return plain >= _AUTO_NUCLEOTIDE_FRACTION * len(sequence)


@dataclass(frozen=True)
class _Orf:
    frame: int
    start: int  # codon index within the frame's translation (inclusive)
    end: int  # codon index (exclusive)
    protein: str
    stop_codon: bool
    kind: str  # "atg" (ATG to stop) or "stop_to_stop" (no start codon in the stretch)


def _orfs_in_frame(translated: str, frame: int) -> tuple[_Orf | None, _Orf | None]:
    """The longest ATG-initiated ORF and the longest stop-free stretch of one frame."""
    best_atg: _Orf | None = None
    best_stretch: _Orf | None = None
    position = 0
    for segment in translated.split(STOP):
        seg_start = position
        seg_end = position + len(segment)
        position = seg_end + 1
        if not segment:
            continue
        stop_codon = seg_end < len(translated)
        if best_stretch is None or len(segment) > len(best_stretch.protein):
            best_stretch = _Orf(frame, seg_start, seg_end, segment, stop_codon, "stop_to_stop")
        offset = segment.find("M")
        if offset >= 0 and (best_atg is None or len(segment) - offset > len(best_atg.protein)):
            best_atg = _Orf(frame, seg_start + offset, seg_end, segment[offset:], stop_codon, "atg")
    return best_atg, best_stretch


def _longer(current: _Orf | None, candidate: _Orf | None) -> _Orf | None:
    if candidate is None:
        return current
    if current is None or len(candidate.protein) > len(current.protein):
        return candidate
    return current


def _strand_coordinates(orf: _Orf, length: int) -> tuple[int, int]:
    """1-based inclusive coordinates of the ORF (stop codon included) on the input strand."""
    offset = orf.frame % 3
    first = offset + 3 * orf.start
    last = offset + 3 * (orf.end + (1 if orf.stop_codon else 0)) - 1
    if orf.frame < 3:
        return first + 1, last + 1
    return length - last, length - first


def translate_nucleotides(
    nucleotides: str,
    *,
    frame: int | None,
    input_type: str,
    field: str = "sequence",
    frame_field: str = "frame",
) -> Translation:
    """Translate a cleaned nucleotide string (already validated) in ``frame`` or the best frame."""
    dna = nucleotides.replace("U", "T")
    if len(dna) < 3 * MIN_PROTEIN_LENGTH:
        raise InvalidInput(
            f"{field}: is too short: {len(dna)} nt; at least {3 * MIN_PROTEIN_LENGTH} nt "
            f"({MIN_PROTEIN_LENGTH} codons) are needed",
            field=field,
        )
    reverse = reverse_complement(dna)
    frames = range(6) if frame is None else (frame,)
    best_atg: _Orf | None = None
    best_stretch: _Orf | None = None
    for current in frames:
        strand = dna if current < 3 else reverse
        atg, stretch = _orfs_in_frame(translate(strand[current % 3 :]), current)
        best_atg = _longer(best_atg, atg)
        best_stretch = _longer(best_stretch, stretch)
    use_atg = best_atg is not None and len(best_atg.protein) >= MIN_PROTEIN_LENGTH
    best = best_atg if use_atg else best_stretch
    error_field = frame_field if frame is not None else field
    where = f"frame {frame}" if frame is not None else "any of the six frames"
    if best is None:
        raise InvalidInput(
            f"{error_field}: no open reading frame in {where} (every codon is a stop codon)",
            field=error_field,
        )
    if len(best.protein) < MIN_PROTEIN_LENGTH:
        raise InvalidInput(
            f"{error_field}: the longest open reading frame in {where} has "
            f"{len(best.protein)} codons, the minimum is {MIN_PROTEIN_LENGTH}",
            field=error_field,
        )
    _check_protein(best.protein, field=field, what="the translated protein")
    start, end = _strand_coordinates(best, len(dna))
    info: dict[str, Any] = {
        "input_type": input_type,
        "length": len(best.protein),
        "nucleotide_length": len(dna),
        "frame": best.frame,
        "frame_source": "given" if frame is not None else "longest_orf",
        "orf_type": best.kind,
        "strand": "+" if best.frame < 3 else "-",
        "orf_start": start,
        "orf_end": end,
        "ends_with_stop_codon": best.stop_codon,
    }
    return Translation(protein=best.protein, info=info)


def prepare_sequence(
    sequence: Any,
    seq_type: Any = None,
    frame: Any = None,
    *,
    prefix: str = "",
) -> Translation:
    """Validate one request item and return the protein to predict on with its translation info.

    ``prefix`` is prepended to field names in errors (``items[3].sequence``) for batch items.
    """
    seq_field, type_field, frame_field = (
        f"{prefix}{name}" for name in ("sequence", "seq_type", "frame")
    )
    kind = parse_seq_type(seq_type, field=type_field)
    parsed_frame = parse_frame(frame, field=frame_field)
    cleaned = clean_sequence(sequence, field=seq_field)

    if kind == "auto":
        kind = (
            ("rna" if "U" in cleaned and "T" not in cleaned else "dna")
            if _looks_nucleotide(cleaned)
            else "protein"
        )

    if kind == "protein":
        if parsed_frame is not None:
            raise InvalidInput(
                f"{frame_field}: applies only to dna or rna input, not to a protein",
                field=frame_field,
            )
        if cleaned.endswith(STOP):
            cleaned = cleaned[:-1]
        bad, positions = _describe_positions(cleaned, PROTEIN_LETTERS)
        if bad:
            raise InvalidInput(
                f"{seq_field}: contains invalid characters {bad!r} at positions {positions} "
                "(allowed: the 20 amino acids, U, O, B, Z, X)",
                field=seq_field,
            )
        _check_protein(cleaned, field=seq_field, what="the protein")
        return Translation(protein=cleaned, info={"input_type": "protein", "length": len(cleaned)})

    bad, positions = _describe_positions(cleaned, NUCLEOTIDE_LETTERS)
    if bad:
        raise InvalidInput(
            f"{seq_field}: contains invalid characters {bad!r} at positions {positions} "
            f"for seq_type {kind!r} (allowed: A, C, G, T, U and IUPAC codes R Y S W K M B D H V N)",
            field=seq_field,
        )
    if len(cleaned) > MAX_NUCLEOTIDE_LENGTH:
        raise InvalidInput(
            f"{seq_field}: is too long: {len(cleaned)} nt, the maximum is {MAX_NUCLEOTIDE_LENGTH}",
            field=seq_field,
        )
    return translate_nucleotides(
        cleaned, frame=parsed_frame, input_type=kind, field=seq_field, frame_field=frame_field
    )
