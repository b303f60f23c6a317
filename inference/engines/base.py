"""The interface every engine implements, so the app factory can load, list and serve them alike."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol, runtime_checkable

DISCLAIMER = "Not a medical device; for decision support only."


@runtime_checkable
class Engine(Protocol):
    """A loaded model (or set of models) for one analysis kind.

    ``name`` is the engine's key in model-info ("sequence", "omics", "imaging").
    ``load`` reads artifacts from ``model_dir`` once; it is called at worker start.
    ``info`` describes what is loaded: name, version, tasks, labels, metrics (from the model card).
    Every result dict an engine returns carries ``model_name`` and ``model_version``.
    """

    name: str

    def load(self, model_dir: Path) -> None: ...

    @property
    def loaded(self) -> bool: ...

    def info(self) -> dict[str, Any]: ...
