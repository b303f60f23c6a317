"""The assistant_index analysis: run by the jobs engine, it indexes the document and completes
with its counts; a document that cannot be read fails the analysis and the document."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cdss.assistant.models import Chunk, DocumentStatus
from cdss.assistant.services import document_upload
from cdss.assistant.tests.pdf import pdf_with_pages
from cdss.jobs.models import Analysis, AnalysisResult, Status
from cdss.jobs.services import analysis_execute

pytestmark = pytest.mark.django_db


def test_the_index_job_indexes_and_reports(ml_engineer) -> None:
    document = document_upload(
        user=ml_engineer,
        upload=SimpleUploadedFile("notes.md", "# 항생제\n\n패혈증에는 1시간 이내 투여.\n".encode()),
    )
    job = Analysis.objects.get(kind="assistant_index")
    analysis_execute(analysis_id=job.pk)
    job.refresh_from_db()
    assert job.status == Status.COMPLETED, (job.error_code, job.error_message)
    result = AnalysisResult.objects.get(analysis=job).data
    assert (result["document"], result["chunks"], result["language"]) == (document.pk, 1, "ko")
    document.refresh_from_db()
    assert (document.status, document.chunk_count, document.chunks_done) == ("ready", 1, 1)
    analysis_execute(analysis_id=job.pk)  # delivered again: nothing changes
    assert Chunk.objects.filter(document=document).count() == 1


def test_an_unreadable_document_fails(ml_engineer) -> None:
    broken = b"%PDF-1.4\nnot a pdf body at all\n%%EOF\n"
    document = document_upload(user=ml_engineer, upload=SimpleUploadedFile("b.pdf", broken))
    job = Analysis.objects.get(kind="assistant_index")
    analysis_execute(analysis_id=job.pk)
    job.refresh_from_db()
    document.refresh_from_db()
    assert job.status == Status.FAILED
    assert document.status == DocumentStatus.FAILED
    assert document.error


def test_a_pdf_without_text_fails_saying_so(ml_engineer) -> None:
    document = document_upload(
        user=ml_engineer, upload=SimpleUploadedFile("scan.pdf", pdf_with_pages([""]))
    )
    analysis_execute(analysis_id=Analysis.objects.get(kind="assistant_index").pk)
    document.refresh_from_db()
    assert document.status == DocumentStatus.FAILED
    assert "no text" in document.error
