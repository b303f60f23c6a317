"""Writes one interpretation: the configured generator under the guards, or the template.

With a generator (``openai`` or ``local``), the prompt carries the sentences the template would
state; the answer is checked by ``cdss.reports.guards``. A refused answer, or a provider error,
is tried once more (told why); after that the template's text is used and the reasons are kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cdss.ml.client import InferenceError
from cdss.ml.llm import Message, TextGenerator
from cdss.reports.facts import DISCLAIMER, TEMPLATE_VERSION, Facts
from cdss.reports.guards import guard_problems
from cdss.reports.models import GeneratedBy, GuardOutcome

ATTEMPTS = 2
TEMPLATE_MODEL = "cdss-interpretation-template"
_LANGUAGE_NAMES = {"ko": "Korean (한국어)", "en": "English"}


@dataclass(frozen=True)
class Written:
    text: str
    generated_by: str
    provider: str
    model: str
    guard_outcome: str
    guard_notes: list[str] = field(default_factory=list)
    attempts: int = 0
    prompt_version: str = TEMPLATE_VERSION


def prompt(facts: Facts, language: str) -> list[Message]:
    rules = (
        "You explain the result of an AI analysis to a clinician in plain "
        f"{_LANGUAGE_NAMES[language]}. Use only the facts below. Copy every number exactly as "
        "the facts write it and write no other number. Keep every label as the facts state it: "
        "never negate it, never replace it with its opposite, never add a diagnosis. Name the "
        f"model and its version. Write 3 to 6 sentences in {_LANGUAGE_NAMES[language]}. End with "
        f"this sentence, word for word: {DISCLAIMER[language]}"
    )
    listed = "\n".join(f"- {sentence}" for sentence in facts.sentences[language])
    return [Message("system", rules), Message("user", f"Facts:\n{listed}")]


def template_written(facts: Facts, language: str) -> Written:
    return Written(
        text=facts.text(language),
        generated_by=GeneratedBy.RULES,
        provider="template",
        model=TEMPLATE_MODEL,
        guard_outcome=GuardOutcome.NOT_APPLICABLE,
    )


def interpret(
    *, facts: Facts, language: str, generator: TextGenerator | None, max_tokens: int = 400
) -> Written:
    """The interpretation in ``language``: generated and checked, or the template's."""
    if generator is None:
        return template_written(facts, language)
    messages = prompt(facts, language)
    notes: list[str] = []
    model = generator.model
    for attempt in range(1, ATTEMPTS + 1):
        try:
            answer = generator.generate(messages, max_tokens=max_tokens)
        except InferenceError as exc:
            notes.append(f"attempt {attempt}: {exc.code}: {exc.message}"[:500])
            continue
        model = answer.model or model
        text = answer.text.strip()
        problems = guard_problems(text, facts, language)
        if not problems:
            return Written(
                text=text,
                generated_by=GeneratedBy.AI,
                provider=generator.provider,
                model=model,
                guard_outcome=GuardOutcome.PASSED,
                guard_notes=notes,
                attempts=attempt,
            )
        notes.append(f"attempt {attempt}: " + "; ".join(problems[:8])[:500])
        messages = [
            *messages,
            Message("assistant", text[:4000]),
            Message(
                "user",
                "That answer was refused: " + "; ".join(problems[:8]) + ". Write it again, "
                "following every rule.",
            ),
        ]
    fallback = template_written(facts, language)
    return Written(
        text=fallback.text,
        generated_by=GeneratedBy.RULES,
        provider=generator.provider,
        model=f"{TEMPLATE_MODEL} (fallback from {model})"[:200],
        guard_outcome=GuardOutcome.FELL_BACK,
        guard_notes=notes,
        attempts=ATTEMPTS,
    )
