"""The registry of analysis kinds. An app that runs work as analyses registers one
``AnalysisKind`` per kind from its ``AppConfig.ready()``.

``run`` is called in a worker with the PROCESSING analysis and returns the result JSON (a dict; it
may carry ``model_name`` and ``model_version``, which are copied onto the analysis). What ``run``
raises decides what happens next:

- ``cdss.ml.client.InferenceUnavailable`` / ``InferenceTimeout`` / ``InferenceBadResponse``: retried
  with exponential backoff and jitter; after the last attempt FAILED with ``inference_unavailable``
  / ``inference_timeout`` / ``inference_bad_response``;
- ``cdss.common.exceptions.ApplicationError`` (``InferenceRejected`` among them): FAILED at once
  with ``invalid_input`` and the error's message;
- anything else: retried up to ``max_attempts``, then FAILED with ``internal_error`` and a short
  message (the traceback goes to the worker's log, never to clients).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cdss.common.exceptions import ApplicationError

if TYPE_CHECKING:
    from cdss.jobs.models import Analysis

Renderer = Callable[[dict[str, Any]], tuple[str, bytes]]


@dataclass(frozen=True)
class AnalysisKind:
    name: str  # e.g. "sequence_batch", "sequence_retrain", "pipeline_check"
    # Returns the cleaned inputs; raises ApplicationError (400) naming the bad field.
    validate_inputs: Callable[[dict[str, Any]], dict[str, Any]]
    # Returns the result JSON; may set "model_name"/"model_version" in it.
    run: Callable[[Analysis], dict[str, Any]]
    patient_required: bool = True
    max_attempts: int = 5
    # format -> renderer(result) -> (content type, body); "json" is always available.
    renderers: Mapping[str, Renderer] = field(default_factory=dict)
    # Roles allowed to submit this kind (cdss.accounts.models.Role values); None: any role that
    # may see the patient (or, with no patient, any authenticated user).
    allowed_roles: frozenset[str] | None = None


class UnknownKindError(ApplicationError):
    def __init__(self, name: str) -> None:
        known = sorted(_registry)
        super().__init__(
            f"kind: unknown analysis kind {name!r}; known kinds: {', '.join(known) or 'none'}",
            detail={"kind": [f"Unknown kind. Known: {known}."]},
        )


_registry: dict[str, AnalysisKind] = {}
_lock = threading.Lock()


def register_kind(kind: AnalysisKind) -> None:
    """Adds ``kind``; registering the same kind again is a no-op, a different one an error."""
    if kind.max_attempts < 1:
        raise ValueError(f"{kind.name}: max_attempts must be at least 1")
    with _lock:
        existing = _registry.get(kind.name)
        if existing is not None and existing != kind:
            raise ValueError(f"analysis kind {kind.name!r} is already registered")
        _registry[kind.name] = kind


def get_kind(name: str) -> AnalysisKind:
    """The registered kind, or ``UnknownKindError`` (a 400 naming the field ``kind``)."""
    try:
        return _registry[name]
    except KeyError:
        raise UnknownKindError(name) from None


def kind_names() -> list[str]:
    return sorted(_registry)


def unregister_kind(name: str) -> None:
    """For tests that register throwaway kinds."""
    with _lock:
        _registry.pop(name, None)
