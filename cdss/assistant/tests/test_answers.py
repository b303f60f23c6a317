"""Grounded generation: an answer passes only when each [n] names a passage that supports its
sentence and each number is in the passages; otherwise (or when the model fails) the extractive
answer is given with the reasons. Below the threshold nothing is generated at all."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from cdss.assistant import answers
from cdss.assistant.answers import Passage, compose, grounding_problems
from cdss.assistant.models import AnswerKind, ChatSession, GuardOutcome, PromptTemplate
from cdss.ml.llm import Generation, LlmUnavailable, Message

pytestmark = pytest.mark.django_db

PASSAGES = [
    Passage(
        n=1,
        title="Sepsis management",
        text=(
            "Start broad-spectrum antibiotics within one hour of recognizing sepsis. Give "
            "30 mL/kg of crystalloid for hypotension."
        ),
        score=1.0,
        document_id=1,
    ),
    Passage(
        n=2,
        title="Diabetes",
        text="The HbA1c target for most adults with diabetes is below 7 percent.",
        score=0.95,
        page=4,
        document_id=2,
    ),
]


@dataclass
class FakeGenerator:
    text: str
    provider: str = "openai"
    model: str = "fake-llm"
    seen: list[list[Message]] = field(default_factory=list)
    error: Exception | None = None

    def generate(self, messages: list[Message], *, max_tokens: int) -> Generation:
        self.seen.append(messages)
        if self.error is not None:
            raise self.error
        return Generation(text=self.text, model=self.model)


@pytest.fixture
def session(clinician_a) -> ChatSession:
    return ChatSession.objects.create(user=clinician_a)


def _with(monkeypatch, generator: FakeGenerator) -> FakeGenerator:
    monkeypatch.setattr(answers, "get_generator", lambda: generator)
    return generator


def test_a_grounded_answer_passes(monkeypatch, session) -> None:
    generator = _with(
        monkeypatch,
        FakeGenerator(
            "Start broad-spectrum antibiotics within one hour of recognizing sepsis [1]. "
            "Give 30 mL/kg of crystalloid for hypotension [1]."
        ),
    )
    answer = compose(
        session=session, question="When do antibiotics start in sepsis?", passages=PASSAGES
    )
    assert answer.kind == AnswerKind.GENERATED
    assert answer.guard_outcome == GuardOutcome.PASSED
    assert [c["n"] for c in answer.citations] == [1]
    system = generator.seen[0][0].content
    assert "[1] Sepsis management" in system
    assert "[2] Diabetes (p. 4)" in system


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("Antibiotics start within one hour of sepsis.", "cites no passage"),
        ("Start broad-spectrum antibiotics within one hour of recognizing sepsis [3].", "[3]"),
        ("Give 50 mL/kg of crystalloid for hypotension [1].", "'50'"),
        ("The HbA1c target for adults with diabetes is below 7 percent [1].", "do not support"),
    ],
)
def test_ungrounded_answers_fall_back_to_retrieved_text(monkeypatch, session, text, problem):
    _with(monkeypatch, FakeGenerator(text))
    answer = compose(
        session=session, question="When do antibiotics start in sepsis?", passages=PASSAGES
    )
    assert answer.kind == AnswerKind.RETRIEVED
    assert answer.guard_outcome == GuardOutcome.FELL_BACK
    assert any(problem in note for note in answer.guard_notes), answer.guard_notes
    assert answer.text.startswith(answers.LABEL["en"])


def test_an_unavailable_model_falls_back(monkeypatch, session) -> None:
    _with(monkeypatch, FakeGenerator("", error=LlmUnavailable("down")))
    answer = compose(session=session, question="sepsis antibiotics?", passages=PASSAGES)
    assert answer.kind == AnswerKind.RETRIEVED
    assert "the language model failed: down" in answer.guard_notes


def test_low_scores_abstain_without_asking_the_model(monkeypatch, session) -> None:
    generator = _with(monkeypatch, FakeGenerator("anything [1]"))
    weak = [Passage(n=1, title="x", text="unrelated", score=0.5)]
    answer = compose(session=session, question="What is the capital of France?", passages=weak)
    assert answer.kind == AnswerKind.NOTHING_FOUND
    assert generator.seen == []


def test_the_active_prompt_template_is_used(monkeypatch, session, ml_engineer) -> None:
    PromptTemplate.objects.create(
        name="assistant", language="en", version=1, text="HOUSE RULES\n{passages}", active=True
    )
    generator = _with(monkeypatch, FakeGenerator("Start antibiotics within one hour [1]."))
    compose(session=session, question="sepsis antibiotics?", passages=PASSAGES)
    assert generator.seen[0][0].content.startswith("HOUSE RULES\n[1] Sepsis management")


def test_numbers_of_the_patients_results_are_allowed() -> None:
    patient = Passage(
        n=1,
        title="Analysis #5",
        text="The ROSMAP model classified this sample as AD with a probability of 0.82.",
        score=1.0,
        analysis_id=5,
        numbers=(0.8234,),
    )
    text = "The ROSMAP model classified this sample as AD with a probability of 82% [1]."
    assert grounding_problems(text, [patient]) == []


def test_an_endless_sentence_is_quoted_by_its_start_only():
    """A table or code block has no sentence ends: its quote is clipped at a word, marked."""
    table = " ".join(f"cell{i} value{i}" for i in range(400))
    text, cited = answers.extractive(
        "cell1 value1", [Passage(n=1, title="Table", text=table, score=1.0)], "en"
    )
    (quote,) = [line for line in text.splitlines() if line.startswith("\u201c")]
    assert cited == [1]
    assert len(quote) < answers.MAX_QUOTED_CHARS + 40 and "\u2026" in quote
    assert table.startswith(quote[1 : quote.index(" \u2026")])
