"""Analysis jobs: the lifecycle PENDING -> PROCESSING -> COMPLETED | FAILED (or CANCELLED) of long
work run by Celery workers, the kind registry that analysis apps plug into, the files analyses
produce (artifacts), the REST API under ``/api/v1/analyses/``, the sweeper that recovers lost work,
and live status over ``/ws/analyses/``.

The database is the source of truth; the broker only carries analysis ids. Every write goes
through ``services`` (with its audit event and status event), every read through ``selectors``,
whose one rule (``analysis_visible_q``, built on the patient access path) decides who may see an
analysis for the API and the WebSocket alike. Nothing here knows a particular kind of analysis:
those live in their own apps and register their ``AnalysisKind``s from their
``AppConfig.ready()``.
"""
