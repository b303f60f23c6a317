"""Hybrid retrieval over a small bilingual corpus: Korean questions find the Korean passages and
English ones the English passages; an unrelated question scores under the threshold; deleting a
document takes its chunks out of both indexes."""

from __future__ import annotations

import pytest
from django.conf import settings

from cdss.assistant.models import Chunk, Document, DocumentStatus
from cdss.assistant.search import keyword_search, query_terms, search
from cdss.assistant.services import document_delete

pytestmark = pytest.mark.django_db


def _top(question: str) -> Chunk:
    hits = search(question, limit=5)
    assert hits
    return hits[0].chunk


def test_corpus_is_indexed(corpus) -> None:
    assert [d.status for d in corpus] == [DocumentStatus.READY] * 2
    assert {d.language for d in corpus} == {"en", "ko"}
    assert Chunk.objects.count() == 4
    assert all(len(bytes(c.embedding)) == 384 * 4 for c in Chunk.objects.all())


@pytest.mark.parametrize(
    ("question", "language", "heading"),
    [
        ("When should antibiotics be started in sepsis?", "en", "Sepsis management"),
        ("What is the HbA1c target for adults with diabetes?", "en", "Diabetes"),
        ("패혈증 환자에게 항생제는 언제 투여하나요?", "ko", "패혈증 치료"),
        ("당뇨병 환자의 당화혈색소 목표는?", "ko", "당뇨병"),
    ],
)
def test_each_language_finds_its_own_passages(corpus, question, language, heading) -> None:
    top = _top(question)
    assert (top.language, top.heading) == (language, heading)
    assert search(question)[0].score >= settings.CDSS_ASSISTANT_MIN_SCORE


@pytest.mark.parametrize(
    "question", ["What is the capital of France?", "프랑스의 수도는 어디인가요?"]
)
def test_unrelated_questions_score_under_the_threshold(corpus, question) -> None:
    assert search(question)[0].score < settings.CDSS_ASSISTANT_MIN_SCORE


def test_keyword_index_matches_korean_words_with_particles(corpus) -> None:
    found = keyword_search(query_terms("당화혈색소"))
    assert found
    assert Chunk.objects.get(pk=next(iter(found))).heading == "당뇨병"


def test_deleting_a_document_removes_its_chunks_from_both_indexes(corpus, ml_engineer) -> None:
    english = Document.objects.get(language="en")
    document_delete(user=ml_engineer, document=english)
    assert keyword_search(query_terms("HbA1c sepsis antibiotics")) == {}
    assert all(hit.chunk.language == "ko" for hit in search("sepsis antibiotics"))
