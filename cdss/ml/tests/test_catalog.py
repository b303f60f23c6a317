"""The model catalog (cdss.ml.catalog) and its routes: GET /api/v1/models/ and
GET /api/v1/models/{name}/{version}/card/."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.conf import settings

from cdss.ml.catalog import metrics_summary, model_card_get, model_catalog

LIST = "/api/v1/models/"


def _shipped() -> list[tuple[str, str]]:
    """(family, version) of every folder under models/ with a card, read here independently."""
    root = Path(settings.BASE_DIR) / "models"
    return sorted(
        (card.parent.parent.name, card.parent.name) for card in root.glob("*/*/MODEL_CARD.md")
    )


def test_catalog_lists_every_shipped_version_and_the_rule_based_cards():
    entries = model_catalog()
    trained = sorted((e.family, e.version) for e in entries if e.kind == "trained")
    assert trained == _shipped() and trained
    rules = [e for e in entries if e.kind == "rules"]
    assert ("cdss-ct-hu-rules", "2026.11.1") in {(e.name, e.version) for e in rules}
    for entry in entries:
        if entry.kind == "trained":
            current = (Path(settings.BASE_DIR) / "models" / entry.family / "CURRENT").read_text()
            assert entry.current == (current.strip() == entry.version)


def test_names_are_the_ones_results_carry():
    names = {e.family: e.name for e in model_catalog() if e.kind == "trained"}
    manifest = json.loads(
        next((Path(settings.BASE_DIR) / "models" / "sequence").glob("*/manifest.json")).read_text()
    )
    assert names["sequence"] == manifest["model_name"]
    assert names["imaging"] == "cdss-imaging"


def test_every_name_a_result_carries_finds_its_card():
    from inference.engines.imaging import ct
    from inference.engines.omics.engine import MODEL_NAMES

    entries = model_catalog()
    omics = next(e for e in entries if e.family == "omics")
    imaging = next(e for e in entries if e.family == "imaging")
    for name in MODEL_NAMES.values():
        assert model_card_get(name=name, version=omics.version) is not None, name
    assert model_card_get(name="adrenal-shape-cnn", version=imaging.version) is not None
    assert model_card_get(name=ct.HU_RULES_NAME, version=ct.HU_RULES_VERSION) is not None


def test_metrics_summary_keeps_headline_numbers_shallowest_first():
    metrics = {
        "task1": {"roc_auc": 0.95123, "n": 10, "deep": {"deeper": {"auc": 0.5}}},
        "accuracy": 0.9,
        "flag": True,
        "notes": "x",
    }
    assert metrics_summary(metrics) == {"accuracy": 0.9, "task1.roc_auc": 0.9512}
    many = {f"m{i}": {"auc": i / 10} for i in range(20)}
    assert len(metrics_summary(many)) == 8


def _fake_tree(tmp_path: Path) -> tuple[Path, Path]:
    models, cards = tmp_path / "models", tmp_path / "cards"
    for version in ("v1", "v2"):
        folder = models / "demo" / version
        folder.mkdir(parents=True)
        (folder / "MODEL_CARD.md").write_text(f"# Demo {version}\n")
        (folder / "metrics.json").write_text(json.dumps({"name": "demo-net", "auc": 0.7}))
    (models / "demo" / "v3-unfinished").mkdir()
    (models / "demo" / "CURRENT").write_text("v2\n")
    cards.mkdir()
    (cards / "rules.md").write_text("# Model card: some rules (`demo-rules` 1.0)\n\nBody\n")
    (cards / "notes.md").write_text("# Not a card\n")
    (tmp_path / "secret.md").write_text("secret")
    return models, cards


def test_catalog_reads_any_tree_and_skips_folders_without_a_card(tmp_path):
    models, cards = _fake_tree(tmp_path)
    entries = model_catalog(models_dir=models, cards_dir=cards)
    assert [(e.name, e.version, e.kind, e.current) for e in entries] == [
        ("demo-net", "v1", "trained", False),
        ("demo-net", "v2", "trained", True),
        ("demo-rules", "1.0", "rules", True),
    ]
    assert entries[1].metrics == {"auc": 0.7}
    found = model_card_get(name="demo", version="v1", models_dir=models, cards_dir=cards)
    assert found is not None and found[1] == "# Demo v1\n"


@pytest.mark.parametrize(
    ("name", "version"),
    [("demo-net", "v3-unfinished"), ("demo-net", ".."), ("..", "secret.md"), ("rules", "2.0")],
)
def test_only_catalog_entries_have_cards(tmp_path, name, version):
    models, cards = _fake_tree(tmp_path)
    assert model_card_get(name=name, version=version, models_dir=models, cards_dir=cards) is None


@pytest.mark.django_db
def test_list_route_is_public_and_lists_cards(make_client):
    body = make_client(None).get(LIST).json()
    rows = body["results"]
    assert sorted((r["family"], r["version"]) for r in rows if r["kind"] == "trained") == (
        _shipped()
    )
    sequence = next(r for r in rows if r["family"] == "sequence")
    assert sequence["card_url"] == (
        f"/api/v1/models/{sequence['name']}/{sequence['version']}/card/"
    )
    assert sequence["metrics"] and all(isinstance(v, float) for v in sequence["metrics"].values())


@pytest.mark.django_db
def test_card_route_answers_markdown(make_client):
    sequence = next(e for e in model_catalog() if e.family == "sequence")
    # No token needed, and a bad one is not looked at.
    client = make_client(None)
    bad = client.get(
        f"/api/v1/models/sequence/{sequence.version}/card/", HTTP_AUTHORIZATION="Bearer x"
    )
    assert bad.status_code == 200
    for row in model_catalog():
        response = client.get(f"/api/v1/models/{row.name}/{row.version}/card/")
        assert response.status_code == 200
        assert response["Content-Type"] == "text/markdown; charset=utf-8"
        assert response.content.decode() == row.card.read_text(encoding="utf-8")
    # The short name (its folder) answers too.
    short = client.get(f"/api/v1/models/sequence/{sequence.version}/card/")
    assert short.status_code == 200 and short.content.decode().startswith("#")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/models/cdss-imaging/nope/card/",
        "/api/v1/models/nope/img-2026.11.1/card/",
        "/api/v1/models/imaging/..%2F..%2Fpyproject.toml/card/",
        "/api/v1/models/%2E%2E/%2E%2E/card/",
    ],
)
def test_card_of_anything_else_is_the_json_404(make_client, clinician_a, path):
    response = make_client(clinician_a).get(path, HTTP_ACCEPT="text/markdown")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert set(response.json()) == {"error", "detail"}
