"""The model catalog: every model version this project ships, read from the repository's files.

A trained model is a folder ``models/<family>/<version>/`` holding a ``MODEL_CARD.md`` (the
family's ``CURRENT`` file names the version the inference server loads); its name is the one its
results carry (``manifest.json`` ``model_name``, else ``metrics.json`` ``model_name`` or ``name``,
else ``cdss-<family>``). A rule-based model has no folder, only a card ``docs/models/<slug>.md``
whose title ends with ``(`<name>` <version>)``. Cards are looked up only among the entries found
here, never by joining a requested name onto a path, so no request can reach any other file.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings

MODEL_CARD = "MODEL_CARD.md"
# The metrics worth a glance in a list; the card and metrics.json have the rest.
_METRIC_KEY = re.compile(r"(auc|accuracy|acc|f1|brier|c_?index|dice|ece)$", re.IGNORECASE)
_MAX_METRICS = 8
_MAX_DEPTH = 3
# The names results carry that no file of the version states: one version folder holds several
# models (inference/engines/omics/engine.py MODEL_NAMES; the imaging engine's adrenal classifier
# in a CT result's ``models``). A test checks these against the inference server's code.
SUBMODEL_NAMES: dict[str, tuple[str, ...]] = {
    "omics": ("omics-rosmap-late-fusion-logreg", "omics-paad-ridge-cox"),
    "imaging": ("adrenal-shape-cnn",),
}
_RULES_TITLE = re.compile(r"^#\s.*\(`(?P<name>[^`]+)`\s+(?P<version>[^\s)]+)\)\s*$")


@dataclass(frozen=True)
class CatalogEntry:
    name: str
    version: str
    kind: str  # "trained" (weights in models/) or "rules" (fixed rules, a card only)
    family: str
    current: bool
    card: Path
    metrics: dict[str, float] = field(default_factory=dict)
    also_known_as: tuple[str, ...] = ()

    def answers_to(self, name: str) -> bool:
        """The name its results carry (any of them), or its folder's (or card's) short name."""
        return name in (self.name, self.family, *self.also_known_as)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def metrics_summary(metrics: dict[str, Any]) -> dict[str, float]:
    """A few headline numbers (AUC, accuracy, F1, Brier, ECE, C-index, Dice) keyed by their dotted
    path in metrics.json, shallowest first, rounded to 4 places."""
    found: list[tuple[int, str, float]] = []

    def walk(value: Any, path: list[str]) -> None:
        if isinstance(value, dict):
            if len(path) < _MAX_DEPTH:
                for key, child in value.items():
                    walk(child, [*path, str(key)])
        elif (
            isinstance(value, int | float)
            and not isinstance(value, bool)
            and path
            and _METRIC_KEY.search(path[-1])
        ):
            found.append((len(path), ".".join(path), round(float(value), 4)))

    walk(metrics, [])
    found.sort(key=lambda item: item[0])
    return {key: number for _, key, number in found[:_MAX_METRICS]}


def _model_name(version_dir: Path, family: str) -> str:
    sources = (("manifest.json", ("model_name",)), ("metrics.json", ("model_name", "name")))
    for source, keys in sources:
        data = _read_json(version_dir / source)
        for key in keys:
            if isinstance(data.get(key), str) and data[key]:
                return str(data[key])
    return f"cdss-{family}"


def _trained(models_dir: Path) -> list[CatalogEntry]:
    entries = []
    for family_dir in sorted(p for p in models_dir.iterdir() if p.is_dir()):
        current_file = family_dir / "CURRENT"
        current = current_file.read_text().strip() if current_file.is_file() else ""
        for version_dir in sorted(p for p in family_dir.iterdir() if p.is_dir()):
            card = version_dir / MODEL_CARD
            if not card.is_file():
                continue  # not a shipped version: every shipped one has its card
            entries.append(
                CatalogEntry(
                    name=_model_name(version_dir, family_dir.name),
                    version=version_dir.name,
                    kind="trained",
                    family=family_dir.name,
                    current=version_dir.name == current,
                    card=card,
                    metrics=metrics_summary(_read_json(version_dir / "metrics.json")),
                    also_known_as=SUBMODEL_NAMES.get(family_dir.name, ()),
                )
            )
    return entries


def _rules(cards_dir: Path) -> list[CatalogEntry]:
    entries = []
    for card in sorted(cards_dir.glob("*.md")):
        with card.open(encoding="utf-8") as handle:
            title = _RULES_TITLE.match(handle.readline().strip())
        if title is None:
            continue  # not a model card of a rule-based model
        entries.append(
            CatalogEntry(
                name=title["name"],
                version=title["version"],
                kind="rules",
                family=card.stem,
                # The rules in the code are the only ones there are: their card's version is live.
                current=True,
                card=card,
            )
        )
    return entries


def model_catalog(
    *, models_dir: Path | None = None, cards_dir: Path | None = None
) -> list[CatalogEntry]:
    """Every shipped model version: trained ones by family and version, then rule-based ones."""
    models_dir = models_dir or Path(settings.BASE_DIR) / "models"
    cards_dir = cards_dir or Path(settings.BASE_DIR) / "docs" / "models"
    entries: list[CatalogEntry] = []
    if models_dir.is_dir():
        entries += _trained(models_dir)
    if cards_dir.is_dir():
        entries += _rules(cards_dir)
    return entries


def model_card_get(
    *, name: str, version: str, models_dir: Path | None = None, cards_dir: Path | None = None
) -> tuple[CatalogEntry, str] | None:
    """The catalog entry named ``name`` (its name or short name) at ``version`` and its card's
    Markdown; None when the catalog has no such entry."""
    for entry in model_catalog(models_dir=models_dir, cards_dir=cards_dir):
        if entry.version == version and entry.answers_to(name):
            return entry, entry.card.read_text(encoding="utf-8")
    return None
