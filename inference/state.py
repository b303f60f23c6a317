"""``ServerState``: what one server process holds, attached to the app as
``app.extensions["cdss"]`` and read by the blueprints through ``inference.api.server_state()``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from inference.config import InferenceConfig
from inference.registry import EngineMapping, EngineRegistry
from inference.retrain import RetrainManager

EXTENSION_KEY = "cdss"


@dataclass(frozen=True)
class ServerState:
    """The config the app was built with, its engines (through the registry), the retraining
    manager, and when the process started serving (UTC)."""

    config: InferenceConfig
    registry: EngineRegistry
    retrain: RetrainManager
    started_at: datetime

    @property
    def engines(self) -> EngineMapping:
        """``kind -> loaded engine``; ``NotReady`` (503) for one not configured or not loaded."""
        return self.registry.engines
