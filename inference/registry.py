"""The engine registry: which model version is active for each kind, and the loaded engines.

For each configured kind (a row of ``inference.engines.ENGINES`` named by the config) it resolves
the active version (``<runtime>/<kind>/CURRENT`` wins over ``<models>/<kind>/CURRENT``), builds
the engine from the server's config and loads it once per process. A worker re-reads the CURRENT
files at most every ``reload_check_interval_s`` seconds; when the version changed (a retrain
promoted a new one, possibly from another worker), the new engine is loaded in a background thread
and swapped in whole while the old one keeps answering.

Engines are reached through ``ServerState.engines[kind]``: a mapping that raises ``NotReady``
(503) for a kind that is not configured or failed to load.
"""

from __future__ import annotations

import importlib
import logging
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inference.config import InferenceConfig
from inference.engines import ENGINES
from inference.engines.base import Engine
from inference.errors import InferenceError, NotReady

log = logging.getLogger(__name__)

EngineClass = type[Engine]


def import_engine_class(kind: str) -> EngineClass:
    """Import the engine class of the table's row ``kind`` (lazily: imaging pulls in torch)."""
    module_name, _, attr = ENGINES[kind].engine_class.partition(":")
    engine_class: EngineClass = getattr(importlib.import_module(module_name), attr)
    return engine_class


@dataclass(frozen=True)
class ResolvedVersion:
    """Where the active version of one kind lives, and which CURRENT file named it."""

    version: str
    path: Path
    current_file: Path


def resolve_version(kind: str, config: InferenceConfig) -> ResolvedVersion:
    """Read the CURRENT file that applies to ``kind``; raise ``NotReady`` when there is none."""
    for root in (config.runtime_models_dir, config.models_dir):
        current = root / kind / "CURRENT"
        if not current.is_file():
            continue
        version = current.read_text(encoding="utf-8").strip()
        if not version or "/" in version or "\\" in version or version.startswith("."):
            raise NotReady(f"{kind}: {current} does not name a version")
        path = root / kind / version
        if not path.is_dir():
            raise NotReady(f"{kind}: {current} names {version!r}, but {path} does not exist")
        return ResolvedVersion(version=version, path=path, current_file=current)
    raise NotReady(
        f"{kind}: no CURRENT file under {config.runtime_models_dir / kind} "
        f"or {config.models_dir / kind}"
    )


@dataclass
class _Slot:
    """One kind's state: the serving engine, its version, and the last load error."""

    engine: Engine | None = None
    version: str | None = None
    path: Path | None = None
    error: str | None = None
    loading: bool = False
    # The version/path last tried, loaded or failed: a failed version is not retried until
    # CURRENT names another one.
    attempted: tuple[str, Path] | None = None


class EngineRegistry:
    """Loads the configured engines once and hands them out; reloads on a version change."""

    def __init__(
        self,
        config: InferenceConfig,
        factories: Mapping[str, EngineClass] | None = None,
    ) -> None:
        """``factories`` replaces the table's engine classes (tests host stand-in engines)."""
        self.config = config
        self._factories = dict(factories) if factories is not None else None
        self._slots: dict[str, _Slot] = {kind: _Slot() for kind in config.engines}
        self._lock = threading.Lock()
        self._last_check = time.monotonic()
        self.engines: EngineMapping = EngineMapping(self)

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(self._slots)

    def engine_class(self, kind: str) -> EngineClass:
        """The class that serves ``kind`` (imported on first use)."""
        if self._factories is not None and kind in self._factories:
            return self._factories[kind]
        return import_engine_class(kind)

    def _build(self, kind: str, resolved: ResolvedVersion) -> Engine:
        # Every setting an engine uses comes from the server's config (never from os.environ).
        engine = self.engine_class(kind)(self.config)
        engine.load(resolved.path)
        if not engine.loaded:
            raise NotReady(f"{kind}: engine reports not loaded after loading {resolved.path}")
        return engine

    def _load_into_slot(self, kind: str) -> None:
        slot = self._slots[kind]
        try:
            resolved = resolve_version(kind, self.config)
            with self._lock:
                slot.attempted = (resolved.version, resolved.path)
            engine = self._build(kind, resolved)
        except Exception as exc:  # any failure leaves the old engine serving; /ready says why
            if isinstance(exc, InferenceError):
                log.warning("the %s engine is not loaded: %s", kind, exc.message)
                message = exc.message
            else:
                log.exception("loading the %s engine failed", kind)
                message = f"{kind}: {type(exc).__name__}: {exc}"
            with self._lock:
                slot.error = message
                slot.loading = False
            return
        with self._lock:
            slot.engine, slot.version, slot.path = engine, resolved.version, resolved.path
            slot.error = None
            slot.loading = False
        log.info("loaded the %s engine, version %s from %s", kind, resolved.version, resolved.path)

    def load_all(self) -> None:
        """Load every configured engine now (at worker start); failures are recorded, not raised."""
        for kind in self._slots:
            self._load_into_slot(kind)
        self._last_check = time.monotonic()

    def reload(self, kind: str, *, wait: bool = True) -> threading.Thread | None:
        """Load the active version of ``kind`` again; the old engine serves meanwhile."""
        if kind not in self._slots:
            raise NotReady(f"{kind}: engine is not configured on this server")
        with self._lock:
            slot = self._slots[kind]
            if slot.loading:
                return None
            slot.loading = True
        if wait:
            self._load_into_slot(kind)
            return None
        thread = threading.Thread(
            target=self._load_into_slot, args=(kind,), name=f"reload-{kind}", daemon=True
        )
        thread.start()
        return thread

    def refresh_if_changed(self, *, force: bool = False) -> list[threading.Thread]:
        """Start background reloads for kinds whose CURRENT now names another version."""
        now = time.monotonic()
        if not force and now - self._last_check < self.config.reload_check_interval_s:
            return []
        self._last_check = now
        threads = []
        for kind, slot in self._slots.items():
            try:
                resolved = resolve_version(kind, self.config)
            except NotReady:
                continue  # keep serving what is loaded; the CURRENT file may be mid-rewrite
            if slot.attempted != (resolved.version, resolved.path):
                thread = self.reload(kind, wait=False)
                if thread is not None:
                    threads.append(thread)
        return threads

    def get(self, kind: str) -> Engine:
        """The serving engine for ``kind``; ``NotReady`` when it is not configured or not loaded."""
        slot = self._slots.get(kind)
        if slot is None:
            raise NotReady(f"{kind}: engine is not configured on this server", field=None)
        engine = slot.engine
        if engine is None:
            reason = slot.error or ("loading" if slot.loading else "not loaded")
            raise NotReady(f"{kind}: model not loaded ({reason})")
        return engine

    def version(self, kind: str) -> str | None:
        slot = self._slots.get(kind)
        return slot.version if slot else None

    def status(self) -> dict[str, dict[str, Any]]:
        """Per kind: loaded, version, path, error, reloading."""
        with self._lock:
            return {
                kind: {
                    "loaded": slot.engine is not None,
                    "version": slot.version,
                    "path": str(slot.path) if slot.path else None,
                    "error": slot.error,
                    "reloading": slot.loading,
                }
                for kind, slot in self._slots.items()
            }

    def not_loaded(self) -> list[str]:
        return [kind for kind, slot in self._slots.items() if slot.engine is None]


class EngineMapping(Mapping[str, Any]):
    """Read-only view ``kind -> engine`` for the blueprints; a missing engine raises ``NotReady``.

    Values are typed ``Any`` because each blueprint calls its own engine's methods.
    """

    def __init__(self, registry: EngineRegistry) -> None:
        self._registry = registry

    def __getitem__(self, kind: str) -> Any:
        return self._registry.get(kind)

    def __iter__(self) -> Iterator[str]:
        return iter(self._registry.kinds)

    def __len__(self) -> int:
        return len(self._registry.kinds)

    def __contains__(self, kind: object) -> bool:
        return kind in self._registry.kinds
