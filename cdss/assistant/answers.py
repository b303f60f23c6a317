"""Answering a question: retrieve, cite, compose, check, store, as one stream of events.

``answer_events`` yields the frames every delivery sends as they are (WebSocket, server-sent
events, or collected into one REST response): ``sources`` (the numbered passages), ``delta``
(pieces of the answer text), then ``done`` (the stored message). A generated text is checked
whole before any of it is sent, so what streams has passed the guards.

- With no generative provider (``cdss.ml.llm.get_generator()`` is None) the answer is extractive:
  each of the best passages' most relevant sentences, quoted with its citation, labelled as
  retrieved text.
- With one, the prompt holds the numbered passages; the answer passes only if it cites, every
  ``[n]`` names a passage whose words support its sentence, and every number it writes is in the
  passages or the patient's results (``cdss.reports.guards.check_numbers``). Otherwise, or when
  the model is unavailable, the extractive answer is given, with the reasons kept.
- When the best passage scores under ``CDSS_ASSISTANT_MIN_SCORE`` nothing is composed: the answer
  says nothing relevant was found.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.conf import settings

from cdss.accounts.models import User
from cdss.assistant import services
from cdss.assistant.embeddings import MODEL_NAME, embed_passages, embed_query
from cdss.assistant.models import AnswerKind, ChatSession, GuardOutcome, Message
from cdss.assistant.search import (
    KEYWORD_WEIGHT,
    LANGUAGE_BONUS,
    analyze,
    query_terms,
    search,
)
from cdss.assistant.selectors import PatientPassage, patient_context, prompt_template_active
from cdss.assistant.text import language_of, sentences
from cdss.ml.client import InferenceBadResponse, InferenceTimeout, InferenceUnavailable
from cdss.ml.llm import Message as LlmMessage
from cdss.ml.llm import get_generator
from cdss.reports.facts import Facts, _numbers_in
from cdss.reports.guards import check_numbers

PROMPT_NAME = "assistant"
EXCERPT_CHARS = 400
PATIENT_BONUS = 0.02
_CITATION = re.compile(r"\[(\d{1,3})\]")
LABEL = {
    "en": "Retrieved text (quoted from the sources, not generated):",
    "ko": "검색된 원문 (출처에서 인용, 생성된 답이 아님):",
}
NOTHING = {
    "en": "I found nothing in the documents that answers this question.",
    "ko": "문서에서 이 질문에 답하는 내용을 찾지 못했습니다.",
}
DEFAULT_PROMPT = {
    "en": (
        "You answer clinicians' questions using only the numbered passages below. Cite each "
        "sentence with the number of the passage that supports it, like [1]. Use only numbers "
        "that appear in the passages. If the passages do not answer the question, say so. "
        "Answer in English.\n\nPassages:\n{passages}"
    ),
    "ko": (
        "아래 번호가 붙은 구절만 사용해 임상의의 질문에 답하십시오. 각 문장 끝에 그 문장을 "
        "뒷받침하는 구절의 번호를 [1]처럼 붙이십시오. 구절에 있는 숫자만 쓰십시오. 구절이 "
        "질문에 답하지 않으면 그렇다고 말하십시오. 한국어로 답하십시오.\n\n구절:\n{passages}"
    ),
}


@dataclass(frozen=True)
class Passage:
    n: int
    title: str
    text: str
    score: float
    page: int | None = None
    section: str = ""
    document_id: int | None = None
    analysis_id: int | None = None
    numbers: tuple[float, ...] = ()

    def citation(self) -> dict[str, Any]:
        excerpt = self.text if len(self.text) <= EXCERPT_CHARS else self.text[:EXCERPT_CHARS] + "…"
        return {
            "n": self.n,
            "document": self.title,
            "section": self.section,
            "document_id": self.document_id,
            "analysis_id": self.analysis_id,
            "page": self.page,
            "excerpt": excerpt,
            "score": round(self.score, 4),
        }


def _patient_passages(
    question: str, vector: np.ndarray, found: list[PatientPassage]
) -> list[tuple[float, PatientPassage]]:
    """Scored like corpus chunks (``cdss.assistant.search``); they are in the question's
    language, and a patient's own results outrank documents of equal similarity."""
    if not found:
        return []
    terms = set(query_terms(question))
    cosines = embed_passages([p.text for p in found]) @ vector
    scored = []
    for cosine, passage in zip(cosines, found, strict=True):
        share = len(terms & set(analyze(passage.text))) / len(terms) if terms else 0.0
        score = float(cosine) + KEYWORD_WEIGHT * share + LANGUAGE_BONUS + PATIENT_BONUS
        scored.append((score, passage))
    return scored


def retrieve(
    *, user: User, session: ChatSession, question: str, limit: int | None = None
) -> list[Passage]:
    """The passages for a question, best first, numbered from 1: the corpus's best chunks and, in a
    session linked to a patient, that patient's analyses (read through the access rule, audited)."""
    limit = limit or int(settings.CDSS_ASSISTANT_TOP_K)
    vector = embed_query(question)
    scored: list[tuple[float, Passage]] = []
    for hit in search(question, limit=limit, vector=vector):
        scored.append(
            (
                hit.score,
                Passage(
                    n=0,
                    title=hit.chunk.document.title,
                    text=hit.chunk.text,
                    score=hit.score,
                    page=hit.chunk.page,
                    section=hit.chunk.heading,
                    document_id=hit.chunk.document_id,
                ),
            )
        )
    language = language_of(question)
    for score, found in _patient_passages(
        question, vector, patient_context(user=user, session=session, language=language)
    ):
        scored.append(
            (
                score,
                Passage(
                    n=0,
                    title=found.title,
                    text=found.text,
                    score=score,
                    analysis_id=found.analysis_id,
                    numbers=found.numbers,
                ),
            )
        )
    scored.sort(key=lambda item: item[0], reverse=True)
    return [
        Passage(
            n=i,
            title=p.title,
            text=p.text,
            score=p.score,
            page=p.page,
            section=p.section,
            document_id=p.document_id,
            analysis_id=p.analysis_id,
            numbers=p.numbers,
        )
        for i, (_, p) in enumerate(scored[:limit], start=1)
    ]


def relevant(passages: list[Passage]) -> list[Passage]:
    threshold = float(settings.CDSS_ASSISTANT_MIN_SCORE)
    return [p for p in passages if p.score >= threshold]


def _best_sentences(question: str, passage: Passage, count: int = 2) -> list[str]:
    wanted = set(analyze(question))
    candidates = sentences(passage.text)
    if not candidates:
        return []
    ranked = sorted(
        range(len(candidates)),
        key=lambda i: (-len(wanted & set(analyze(candidates[i]))), i),
    )
    chosen = sorted(ranked[:count])
    return [_clipped(candidates[i]) for i in chosen]


# A "sentence" of a table, a list or a code block can run for a page: quote its start only.
MAX_QUOTED_CHARS = 400


def _clipped(sentence: str) -> str:
    if len(sentence) <= MAX_QUOTED_CHARS:
        return sentence
    cut = sentence[:MAX_QUOTED_CHARS].rsplit(" ", 1)[0]
    return cut + " …"


def extractive(question: str, passages: list[Passage], language: str) -> tuple[str, list[int]]:
    """(text, cited passage numbers) quoting the best sentences of the best passages."""
    lines = [LABEL[language], ""]
    cited = []
    for passage in passages[:3]:
        picked = _best_sentences(question, passage)
        if not picked:
            continue
        where = passage.title + (f", p. {passage.page}" if passage.page else "")
        lines.append(f"\u201c{' '.join(picked)}\u201d ({where}) [{passage.n}]")
        cited.append(passage.n)
    return "\n".join(lines), cited


def _prompt(session: ChatSession, language: str, passages: list[Passage]) -> str:
    template = session.prompt_template
    if template is None or template.language != language:
        template = prompt_template_active(name=PROMPT_NAME, language=language)
    text = template.text if template is not None else DEFAULT_PROMPT[language]
    numbered = "\n\n".join(
        f"[{p.n}] {p.title}" + (f" (p. {p.page})" if p.page else "") + f"\n{p.text}"
        for p in passages
    )
    # Plain replacement: a template's other braces are text, not format fields.
    return text.replace("{passages}", numbered)


def grounding_problems(text: str, passages: list[Passage]) -> list[str]:
    """Why a generated answer is not grounded in its passages; empty when it is."""
    by_number = {p.n: p for p in passages}
    problems = []
    cited = [int(n) for n in _CITATION.findall(text)]
    if not cited:
        problems.append("the answer cites no passage")
    for n in sorted(set(cited)):
        if n not in by_number:
            problems.append(f"[{n}] names no passage")
    for sentence in sentences(text):
        numbers = [int(n) for n in _CITATION.findall(sentence)]
        words = set(analyze(_CITATION.sub(" ", sentence)))
        if not numbers or len(words) < 3:
            continue
        support = set()
        for n in numbers:
            if n in by_number:
                support |= set(analyze(by_number[n].text))
        if len(words & support) < 0.3 * len(words):
            problems.append(f"the passages cited do not support {sentence[:60]!r}")
    allowed: list[float] = []
    for passage in passages:
        allowed.extend(passage.numbers)
        allowed.extend(_numbers_in(passage.text))
    facts = Facts(
        kind="assistant",
        model_name="",
        model_version="",
        sentences={"en": [], "ko": []},
        numbers=tuple(sorted(set(allowed))),
    )
    problems.extend(check_numbers(_CITATION.sub(" ", text), facts))
    return problems


def compose(*, session: ChatSession, question: str, passages: list[Passage]) -> services.Answer:
    language = language_of(question)
    usable = relevant(passages)
    if not usable:
        return services.Answer(
            text=NOTHING[language],
            kind=AnswerKind.NOTHING_FOUND,
            citations=[],
            provider="extractive",
            model=MODEL_NAME,
        )
    generator = get_generator()
    notes: list[str] = []
    if generator is not None:
        messages = [
            LlmMessage("system", _prompt(session, language, usable)),
            LlmMessage("user", question),
        ]
        try:
            generation = generator.generate(messages, max_tokens=int(settings.CDSS_LLM_MAX_TOKENS))
        except (InferenceUnavailable, InferenceTimeout, InferenceBadResponse) as exc:
            notes.append(f"the language model failed: {exc}")
        else:
            problems = grounding_problems(generation.text, usable)
            if not problems:
                cited = {int(n) for n in _CITATION.findall(generation.text)}
                return services.Answer(
                    text=generation.text.strip(),
                    kind=AnswerKind.GENERATED,
                    citations=[p.citation() for p in usable if p.n in cited],
                    provider=generator.provider,
                    model=generation.model,
                    guard_outcome=GuardOutcome.PASSED,
                    prompt_tokens=sum(len(m.content.split()) for m in messages),
                    completion_tokens=len(generation.text.split()),
                )
            notes.extend(problems)
    text, cited_numbers = extractive(question, usable, language)
    return services.Answer(
        text=text,
        kind=AnswerKind.RETRIEVED,
        citations=[p.citation() for p in usable if p.n in cited_numbers],
        provider="extractive",
        model=MODEL_NAME,
        guard_outcome=(
            GuardOutcome.FELL_BACK if generator is not None else GuardOutcome.NOT_APPLICABLE
        ),
        guard_notes=tuple(notes),
    )


def _pieces(text: str) -> Iterator[str]:
    """The answer in small pieces (words with their spaces), for delta frames."""
    for match in re.finditer(r"\S+\s*", text):
        yield match.group(0)


class Cancelled(Exception):
    pass


def message_payload(message: Message) -> dict[str, Any]:
    from cdss.assistant.schemas import MessageSerializer

    return dict(MessageSerializer(message).data)


def answer_events(
    *,
    user: User,
    session: ChatSession,
    question: str,
    cancel: threading.Event | None = None,
    delta_words: int = 8,
) -> Iterator[dict[str, Any]]:
    """The frames of one answer. The question is stored first; the answer only when it is whole
    (a cancelled one is not stored)."""
    started = time.monotonic()
    cancel = cancel or threading.Event()
    services.message_question_store(session=session, content=question)
    passages = retrieve(user=user, session=session, question=question)
    if cancel.is_set():
        return
    yield {"type": "sources", "sources": [p.citation() for p in relevant(passages)]}
    answer = compose(session=session, question=question, passages=passages)
    buffer: list[str] = []
    for piece in _pieces(answer.text):
        buffer.append(piece)
        if len(buffer) >= delta_words:
            if cancel.is_set():
                return
            yield {"type": "delta", "text": "".join(buffer)}
            buffer = []
    if buffer:
        yield {"type": "delta", "text": "".join(buffer)}
    if cancel.is_set():
        return
    message = services.message_answer_store(
        user=user,
        session=session,
        answer=answer,
        latency_ms=int((time.monotonic() - started) * 1000),
    )
    yield {"type": "done", "message": message_payload(message)}
