"""Analysis jobs: the lifecycle PENDING -> PROCESSING -> COMPLETED | FAILED (or CANCELLED) of long
work run by Celery workers, the kind registry that analysis apps plug into, the REST API under
``/api/v1/analyses/``, the sweeper that recovers lost work, and live status over ``/ws/analyses/``.

The database is the source of truth; the broker only carries analysis ids. Every write goes
through ``services`` (with its audit event and status event), every read through ``selectors`` and
the patient access path. Nothing here knows a particular kind of analysis: those live in their own
apps and register an ``AnalysisKind`` from their ``AppConfig.ready()``.
"""
