"""Model engines hosted by the inference server, one sub-package per analysis kind, and
``ENGINES``: the one table that lists them.

Every engine has the same shape: ``inference/engines/<name>/`` holds the engine class (it
implements ``inference.engines.base.Engine``) and its inputs (validation of what a caller sends),
and ``inference/api/<name>.py`` holds its Flask blueprint ``bp``. The app factory registers the
blueprint of every row, the registry loads the rows named by ``CDSS_INFERENCE_ENGINES``, and the
config accepts no other name: adding an engine is adding a row here (a test checks that no other
module lists engine names). Engines load their artifacts once per worker and answer plain dicts;
they never import Flask or Django. This module imports nothing, so that the config and the
registry may both read the table without importing any engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType


@dataclass(frozen=True)
class EngineSpec:
    """One row of the table: the engine's name and where its class and its routes live.

    Both are import paths, not objects: the engine class is imported only when the engine is
    loaded (imaging imports torch), the blueprint module when the app is built.
    """

    name: str
    engine_class: str  # "<module>:<class>"
    api_module: str  # module with the Blueprint ``bp``, named after the engine

    @property
    def engine_module(self) -> str:
        return self.engine_class.partition(":")[0]


ENGINES: Mapping[str, EngineSpec] = MappingProxyType(
    {
        spec.name: spec
        for spec in (
            EngineSpec(
                "sequence", "inference.engines.sequence:SequenceEngine", "inference.api.sequence"
            ),
            EngineSpec("omics", "inference.engines.omics:OmicsEngine", "inference.api.omics"),
            EngineSpec(
                "imaging", "inference.engines.imaging:ImagingEngine", "inference.api.imaging"
            ),
        )
    }
)
