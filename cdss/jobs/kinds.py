"""The registry of analysis kinds: one declared shape per kind, registered from the kind's app.

An app that runs work as analyses declares one ``AnalysisKind`` per kind (in its ``kinds.py``) and
registers them from its ``AppConfig.ready()`` with ``register_kinds``; nothing else registers
kinds. What a kind declares is used everywhere the kind is seen:

- ``input`` validates ``inputs`` when the analysis is submitted (a 400 naming ``inputs.<field>``)
  and documents them in OpenAPI (``POST /api/v1/analyses/`` is a union keyed by ``kind``);
- ``prepare`` resolves what the inputs refer to (uploaded files, earlier analyses) through the
  access selectors, with the submitting user, and returns the inputs to store. Anything missing
  or not the user's is one and the same 400 naming the field (``input_reference_error``);
- ``run`` is called in a worker with the PROCESSING analysis and returns the result (a dict; its
  ``model_name`` and ``model_version`` are copied onto the analysis), or ``RunLater(seconds)``
  when its work goes on elsewhere (the worker is released and ``run`` is called again then, in
  the same attempt; what it must remember goes in ``analysis.state`` through
  ``cdss.jobs.services.analysis_state_save``). Files it produces are stored with
  ``cdss.jobs.services.analysis_artifact_store``;
- ``result`` checks the result at completion (a result that does not match fails the analysis
  with ``internal_error``; the log says why) and documents it in OpenAPI;
- ``queue`` and ``time_limit`` decide where and for how long one run may work.

What ``run`` raises decides what happens next:

- ``cdss.ml.client.InferenceUnavailable`` / ``InferenceTimeout`` / ``InferenceBadResponse``: retried
  with exponential backoff and jitter; after the last attempt FAILED with ``inference_unavailable``
  / ``inference_timeout`` / ``inference_bad_response``;
- ``cdss.common.exceptions.ApplicationError`` (``InferenceRejected`` among them): FAILED at once
  with ``invalid_input`` and the error's message;
- anything else: retried up to ``max_attempts``, then FAILED with ``internal_error`` and a short
  message (the traceback goes to the worker's log, never to clients).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from django.conf import settings
from rest_framework import serializers

from cdss.common.exceptions import ApplicationError

if TYPE_CHECKING:
    from cdss.accounts.models import User
    from cdss.jobs.models import Analysis
    from cdss.patients.models import Patient

Renderer = Callable[[dict[str, Any]], tuple[str, bytes]]
SerializerClass = type[serializers.Serializer]  # type: ignore[type-arg]

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_QUEUE = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")


class Preparer(Protocol):
    def __call__(
        self, *, user: User, patient: Patient | None, inputs: dict[str, Any]
    ) -> dict[str, Any]: ...


@dataclass(frozen=True)
class RunLater:
    """What ``run`` returns while its work goes on elsewhere: run again after ``seconds``."""

    seconds: float


@dataclass(frozen=True)
class AnalysisKind:
    name: str  # e.g. "sequence_batch", "sequence_retrain", "pipeline_check"
    # The inputs: validation (a 400 naming inputs.<field>) and their OpenAPI schema, in one place.
    input: SerializerClass
    # Returns the result JSON, or RunLater(seconds) to be called again, in the same attempt.
    run: Callable[[Analysis], dict[str, Any] | RunLater]
    # The result's shape, checked at completion and published in OpenAPI. A StrictSerializer, so
    # a field it does not declare is an error too.
    result: SerializerClass
    # Resolves what the validated inputs refer to, for this user and patient; returns the inputs
    # to store. Raises ApplicationError (400) naming the field, the same for missing and not yours.
    prepare: Preparer | None = None
    # A queue of its own, "<CDSS_JOBS_QUEUE>.<queue>", for work that must not wait behind (or hold
    # up) the rest; it must be one of CDSS_JOBS_KIND_QUEUES. Empty: CDSS_JOBS_QUEUE itself.
    queue: str = ""
    # Seconds one run may take; None: CELERY_TASK_TIME_LIMIT. Past it the analysis is FAILED with
    # time_limit (and the worker child killed a little later, in a pool that can).
    time_limit: float | None = None
    patient_required: bool = True
    max_attempts: int = 5
    # format -> renderer(result) -> (content type, body); "json" is always available.
    renderers: Mapping[str, Renderer] = field(default_factory=dict)
    # Roles allowed to submit this kind (cdss.accounts.models.Role values); None: any role that
    # may see the patient (or, with no patient, any authenticated user).
    allowed_roles: frozenset[str] | None = None

    @property
    def queue_name(self) -> str:
        """The broker queue this kind's runs are sent to."""
        base = str(settings.CDSS_JOBS_QUEUE)
        return f"{base}.{self.queue}" if self.queue else base

    @property
    def time_limit_seconds(self) -> float:
        limit = self.time_limit if self.time_limit is not None else settings.CELERY_TASK_TIME_LIMIT
        return float(limit)


class UnknownKindError(ApplicationError):
    def __init__(self, name: str) -> None:
        known = sorted(_registry)
        super().__init__(
            f"kind: unknown analysis kind {name!r}; known kinds: {', '.join(known) or 'none'}",
            detail={"kind": [f"Unknown kind. Known: {known}."]},
        )


_registry: dict[str, AnalysisKind] = {}
_lock = threading.Lock()


def _check(kind: AnalysisKind) -> None:
    if not _NAME.match(kind.name):
        raise ValueError(f"{kind.name!r}: a kind's name is lower-case letters, digits and _")
    for role, serializer in (("input", kind.input), ("result", kind.result)):
        if not (isinstance(serializer, type) and issubclass(serializer, serializers.Serializer)):
            raise ValueError(f"{kind.name}: {role} must be a Serializer class")
    if kind.max_attempts < 1:
        raise ValueError(f"{kind.name}: max_attempts must be at least 1")
    if kind.time_limit is not None and kind.time_limit <= 0:
        raise ValueError(f"{kind.name}: time_limit must be positive")
    if kind.queue and not (
        _QUEUE.match(kind.queue)
        and kind.queue in settings.CDSS_JOBS_KIND_QUEUES
        and kind.queue != "control"  # the sweeper's
    ):
        # A worker started without -Q consumes the declared queues only: work sent anywhere
        # else would wait for ever.
        raise ValueError(
            f"{kind.name}: queue {kind.queue!r} is not declared in CDSS_JOBS_KIND_QUEUES "
            f"({settings.CDSS_JOBS_KIND_QUEUES})"
        )


def register_kinds(*kinds: AnalysisKind) -> None:
    """Adds ``kinds``; called from an ``AppConfig.ready()``. Registering the same kind again is a
    no-op, a different kind under a taken name an error."""
    for kind in kinds:
        _check(kind)
    with _lock:
        for kind in kinds:
            existing = _registry.get(kind.name)
            if existing is not None and existing != kind:
                raise ValueError(f"analysis kind {kind.name!r} is already registered")
        for kind in kinds:
            _registry[kind.name] = kind


def get_kind(name: str) -> AnalysisKind:
    """The registered kind, or ``UnknownKindError`` (a 400 naming the field ``kind``)."""
    try:
        return _registry[name]
    except KeyError:
        raise UnknownKindError(name) from None


def kind_names() -> list[str]:
    return sorted(_registry)


def registered_kinds() -> list[AnalysisKind]:
    with _lock:
        return [_registry[name] for name in sorted(_registry)]


def unregister_kind(name: str) -> None:
    """For tests that register throwaway kinds."""
    with _lock:
        _registry.pop(name, None)


def input_reference_error(field_name: str) -> ApplicationError:
    """The one 400 of ``prepare`` for a referenced object that is missing or not the user's (or
    not the analysis's patient's): the same message either way, so it tells nothing about what
    exists."""
    return ApplicationError(
        f"inputs.{field_name}: not found",
        detail={"inputs": {field_name: ["Not found."]}},
    )
