"""The text generators behind the plain-language interpretation: one interface, chosen by settings.

``CDSS_INTERPRETATION_PROVIDER`` names the provider:

- ``template`` (the default): no generator at all; the interpretation is rendered from the result
  by rules (``cdss.reports.templates``), and ``get_generator()`` returns None;
- ``openai``: any OpenAI-compatible chat-completions endpoint (vLLM, Ollama, llama.cpp's server,
  a cloud API, Gemini's OpenAI-compatible endpoint) at ``CDSS_LLM_BASE_URL`` (the part before
  ``/chat/completions``, e.g. ``http://127.0.0.1:8080/v1``), with ``CDSS_LLM_MODEL`` and the key
  ``CDSS_LLM_API_KEY``, over one pooled httpx client with explicit timeouts;
- ``local``: a GGUF file the hospital supplies (``CDSS_LLM_GGUF_PATH``), run in this process by
  ``xllamacpp`` (optional extra ``llm-local``), loaded once per process.

Failures are the inference client's typed errors, so they read the same everywhere: nothing
listening -> ``LlmUnavailable``; no answer in ``CDSS_LLM_TIMEOUT`` -> ``LlmTimeout``; a 5xx, a
non-JSON body or one without a message -> ``LlmBadResponse``. What the text says is not checked
here: ``cdss.reports.guards`` does that before anything is stored. Nothing here imports Django
models.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx
from django.conf import settings

from cdss.ml.client import InferenceBadResponse, InferenceTimeout, InferenceUnavailable

PROVIDERS = ("template", "openai", "local")


class LlmUnavailable(InferenceUnavailable):
    pass


class LlmTimeout(InferenceTimeout):
    pass


class LlmBadResponse(InferenceBadResponse):
    pass


@dataclass(frozen=True)
class Message:
    role: str  # system, user or assistant
    content: str


@dataclass(frozen=True)
class Generation:
    text: str
    model: str  # the model that answered, as its server names it


class TextGenerator(Protocol):
    provider: str
    model: str

    def generate(self, messages: list[Message], *, max_tokens: int) -> Generation: ...


def _content(body: Any) -> str:
    """The first choice's message content of a chat-completions answer, or LlmBadResponse."""
    try:
        content = body["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        raise LlmBadResponse("The language model answered without a message.") from None
    if not isinstance(content, str):
        raise LlmBadResponse("The language model's message is not text.")
    return content


class OpenAICompatibleGenerator:
    provider = "openai"

    def __init__(self, *, base_url: str, model: str, api_key: str, timeout: float) -> None:
        self.configured = bool(base_url)
        self.model = model
        self.timeout = timeout
        headers = {"Accept": "application/json"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers=headers,
            limits=httpx.Limits(max_connections=8, max_keepalive_connections=2),
        )

    def close(self) -> None:
        self._http.close()

    def generate(self, messages: list[Message], *, max_tokens: int) -> Generation:
        if not self.configured:
            raise LlmUnavailable("CDSS_LLM_BASE_URL is not set.")
        body: dict[str, Any] = {
            "messages": [{"role": m.role, "content": m.content} for m in messages],
            "max_tokens": max_tokens,
            "temperature": 0,
            "stream": False,
        }
        if self.model:
            body["model"] = self.model
        timeout = httpx.Timeout(self.timeout, connect=min(5.0, self.timeout))
        try:
            response = self._http.post("/chat/completions", json=body, timeout=timeout)
        except httpx.ConnectTimeout as exc:
            raise LlmUnavailable("Language model server unreachable (connect timeout).") from exc
        except httpx.TimeoutException as exc:
            raise LlmTimeout(
                f"Language model server did not answer within {self.timeout:g} s."
            ) from exc
        except httpx.HTTPError as exc:
            raise LlmUnavailable(f"Language model server unreachable: {exc}") from exc
        if response.status_code in (502, 503, 504):
            raise LlmUnavailable(f"Language model server not ready ({response.status_code}).")
        if response.status_code != 200:
            raise LlmBadResponse(f"Language model server answered {response.status_code}.")
        try:
            answer = response.json()
        except ValueError as exc:
            raise LlmBadResponse("Language model server answered a non-JSON body.") from exc
        model = str(answer.get("model") or self.model) if isinstance(answer, dict) else self.model
        return Generation(text=_content(answer), model=model)


class LocalGgufGenerator:
    """A GGUF model run in this process by xllamacpp (llama.cpp's own server engine, which is
    thread safe). Loaded on first use, once per process."""

    provider = "local"

    def __init__(self, *, path: str, threads: int, context: int) -> None:
        self.path = Path(path)
        self.model = self.path.name
        self.threads = threads
        self.context = context
        self._server: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        with self._lock:
            if self._server is None:
                if not self.path.is_file():
                    raise LlmUnavailable(f"CDSS_LLM_GGUF_PATH: no file at {self.path}.")
                try:
                    import xllamacpp
                except ImportError as exc:
                    raise LlmUnavailable(
                        "The local provider needs xllamacpp (pip install '.[llm-local]')."
                    ) from exc
                params = xllamacpp.CommonParams()
                params.model.path = str(self.path)
                params.n_ctx = self.context
                params.cpuparams.n_threads = self.threads
                params.cpuparams_batch.n_threads = self.threads
                # The engine also opens an HTTP port of its own: loopback only, any free port.
                params.hostnames = ["127.0.0.1"]
                params.port = 0
                try:
                    self._server = xllamacpp.Server(params)
                except Exception as exc:
                    raise LlmUnavailable(f"Could not load {self.path.name}: {exc}") from exc
            return self._server

    def generate(self, messages: list[Message], *, max_tokens: int) -> Generation:
        server = self._load()
        try:
            answer = server.handle_chat_completions(
                {
                    "messages": [{"role": m.role, "content": m.content} for m in messages],
                    "max_tokens": max_tokens,
                    "temperature": 0,
                }
            )
        except Exception as exc:
            raise LlmBadResponse(f"The local model failed: {exc}") from exc
        if isinstance(answer, (str, bytes)):
            try:
                answer = json.loads(answer)
            except ValueError as exc:
                raise LlmBadResponse("The local model answered a non-JSON body.") from exc
        if isinstance(answer, dict) and "error" in answer:
            raise LlmBadResponse(f"The local model refused: {answer['error']}")
        return Generation(text=_content(answer), model=self.model)


_generators: dict[tuple[Any, ...], TextGenerator] = {}
_generators_lock = threading.Lock()


def provider_name() -> str:
    """The configured provider: CDSS_INTERPRETATION_PROVIDER, one of PROVIDERS."""
    name = str(settings.CDSS_INTERPRETATION_PROVIDER)
    if name not in PROVIDERS:
        raise ValueError(f"CDSS_INTERPRETATION_PROVIDER={name!r}: one of {PROVIDERS}")
    return name


def get_generator() -> TextGenerator | None:
    """The configured generator (one per process and configuration), or None for ``template``."""
    name = provider_name()
    if name == "template":
        return None
    if name == "openai":
        key: tuple[Any, ...] = (
            name,
            settings.CDSS_LLM_BASE_URL,
            settings.CDSS_LLM_MODEL,
            settings.CDSS_LLM_API_KEY,
            float(settings.CDSS_LLM_TIMEOUT),
        )
    else:
        key = (name, settings.CDSS_LLM_GGUF_PATH, int(settings.CDSS_LLM_THREADS))
    with _generators_lock:
        generator = _generators.get(key)
        if generator is None:
            generator = (
                OpenAICompatibleGenerator(
                    base_url=str(settings.CDSS_LLM_BASE_URL),
                    model=str(settings.CDSS_LLM_MODEL),
                    api_key=str(settings.CDSS_LLM_API_KEY),
                    timeout=float(settings.CDSS_LLM_TIMEOUT),
                )
                if name == "openai"
                else LocalGgufGenerator(
                    path=str(settings.CDSS_LLM_GGUF_PATH),
                    threads=int(settings.CDSS_LLM_THREADS),
                    context=int(settings.CDSS_LLM_CONTEXT),
                )
            )
            _generators[key] = generator
        return generator
