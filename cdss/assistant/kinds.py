"""The ``assistant_index`` analysis kind: parse, chunk and embed one uploaded document in a worker.

Submitted by ``cdss.assistant.services.document_index_submit`` (ML engineers and administrators;
no patient). Its progress is the document's ``chunks_done`` of ``chunks_total``, updated as each
batch is embedded; a run delivered twice indexes again and swaps the same chunks in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cdss.accounts.models import Role
from cdss.assistant.embeddings import MODEL_NAME
from cdss.assistant.models import Document
from cdss.assistant.schemas import IndexInputSerializer, IndexResultSerializer
from cdss.assistant.services import INDEX_KIND, document_index, document_index_failed
from cdss.common.exceptions import ApplicationError
from cdss.jobs.kinds import AnalysisKind, input_reference_error

if TYPE_CHECKING:
    from cdss.accounts.models import User
    from cdss.jobs.models import Analysis
    from cdss.patients.models import Patient

INDEX_VERSION = "2026.11.0"


def _prepare(*, user: User, patient: Patient | None, inputs: dict[str, Any]) -> dict[str, Any]:
    if patient is not None or not Document.objects.filter(pk=inputs["document"]).exists():
        raise input_reference_error("document")
    return {"document": inputs["document"]}


def _run(analysis: Analysis) -> dict[str, Any]:
    document_id = int(analysis.inputs["document"])
    try:
        document = document_index(document_id=document_id)
    except ApplicationError as exc:
        document_index_failed(document_id=document_id, message=exc.message)
        raise
    return {
        "ok": True,
        "document": document.pk,
        "pages": document.pages,
        "chunks": document.chunk_count,
        "language": document.language,
        "model_name": MODEL_NAME,
        "model_version": INDEX_VERSION,
    }


INDEX = AnalysisKind(
    name=INDEX_KIND,
    input=IndexInputSerializer,
    prepare=_prepare,
    run=_run,
    result=IndexResultSerializer,
    time_limit=3600,
    patient_required=False,
    max_attempts=3,
    allowed_roles=frozenset({Role.ML_ENGINEER, Role.ADMIN}),
)

KINDS = (INDEX,)
