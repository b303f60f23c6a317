"""HTTP client of the inference server, with typed errors.

The server answers JSON. Connection refused or reset -> ``InferenceUnavailable`` (503); no answer
within the call's timeout -> ``InferenceTimeout`` (504); a non-JSON or mis-shaped answer, or a 5xx
-> ``InferenceBadResponse`` (502); a 4xx with an error body -> ``InferenceRejected`` with the same
status and the server's message (the caller's input was at fault).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import httpx
from django.conf import settings

from cdss.common.exceptions import ApplicationError
from cdss.common.metrics import INFERENCE_CLIENT_LATENCY
from cdss.common.parsers import JsonInputError, json_loads_strict
from cdss.common.request_context import get_request_context

# How long what model-info publishes per engine is trusted before it is read again.
ENGINE_INFO_TTL_SECONDS = 300.0
# The server's answers nest a few levels (batches of predictions, imaging findings); far deeper
# is a broken or hostile answer.
RESPONSE_MAX_DEPTH = 64


class InferenceError(ApplicationError):
    """Base of every failure to get an answer from the inference server."""

    code = "inference_error"
    status_code = 502


class InferenceUnavailable(InferenceError):
    code = "inference_unavailable"
    status_code = 503


class InferenceTimeout(InferenceError):
    code = "inference_timeout"
    status_code = 504


class InferenceBadResponse(InferenceError):
    code = "inference_bad_response"
    status_code = 502


class InferenceRejected(InferenceError):
    """The server refused the input (4xx); ``status_code`` is the server's."""

    code = "invalid_input"

    def __init__(self, message: str, *, status_code: int, detail: dict[str, Any]) -> None:
        super().__init__(message, detail=detail)
        self.status_code = status_code


@dataclass(frozen=True)
class Timeouts:
    single: float = 30.0
    batch: float = 60.0
    retrain: float = 300.0
    imaging: float = 600.0
    status: float = 5.0
    connect: float = 3.0


class InferenceClient:
    def __init__(self, base_url: str, *, timeouts: Timeouts | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeouts = timeouts or Timeouts()
        self._http = httpx.Client(
            base_url=self.base_url,
            limits=httpx.Limits(max_connections=32, max_keepalive_connections=8),
            headers={"Accept": "application/json"},
            trust_env=False,  # a local-only server: never through a proxy
        )
        self._info: tuple[float, dict[str, dict[str, Any]]] | None = None
        self._info_lock = threading.Lock()

    def close(self) -> None:
        self._http.close()

    def _timeout(self, seconds: float) -> httpx.Timeout:
        return httpx.Timeout(seconds, connect=min(self.timeouts.connect, seconds))

    def _call(
        self,
        method: str,
        path: str,
        *,
        timeout: float,
        json: Any = None,
        files: Any = None,
        data: Any = None,
    ) -> dict[str, Any]:
        response = self._send(method, path, timeout=timeout, json=json, files=files, data=data)
        return self._json_body(response)

    def _send(
        self,
        method: str,
        path: str,
        *,
        timeout: float,
        json: Any = None,
        files: Any = None,
        data: Any = None,
    ) -> httpx.Response:
        """One request; transport failures become the typed errors, any status is returned."""
        # The inference server logs under the same request id as the Django request it serves.
        request_id = get_request_context().request_id
        headers = {"X-Request-ID": request_id} if request_id != "-" else None
        try:
            response = self._timed_request(
                method,
                path,
                json=json,
                files=files,
                data=data,
                headers=headers,
                timeout=self._timeout(timeout),
            )
        except httpx.TimeoutException as exc:
            if isinstance(exc, httpx.ConnectTimeout):
                raise InferenceUnavailable(
                    "Inference server unreachable (connect timeout)."
                ) from exc
            raise InferenceTimeout(
                f"Inference server did not answer within {timeout:g} s."
            ) from exc
        except (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError) as exc:
            raise InferenceUnavailable(f"Inference server unreachable: {exc}") from exc
        except httpx.HTTPError as exc:
            raise InferenceUnavailable(f"Inference server transport error: {exc}") from exc
        return response

    def _timed_request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """``self._http.request``, its latency observed per engine, route and outcome (the
        status class, or timeout / unavailable) for /metrics."""
        started = time.perf_counter()
        outcome = "unavailable"
        try:
            response = self._http.request(method, path, **kwargs)
            outcome = f"{response.status_code // 100}xx"
            return response
        except httpx.TimeoutException as exc:
            outcome = "unavailable" if isinstance(exc, httpx.ConnectTimeout) else "timeout"
            raise
        finally:
            engine, route = inference_route_labels(path)
            INFERENCE_CLIENT_LATENCY.labels(engine=engine, route=route, outcome=outcome).observe(
                time.perf_counter() - started
            )

    @staticmethod
    def _json_body(response: httpx.Response) -> dict[str, Any]:
        try:
            # Strict: a non-finite number or invalid Unicode would fail later, inside the
            # database or a client's JSON parser; here it is a 502 that says so.
            body = json_loads_strict(response.content, max_depth=RESPONSE_MAX_DEPTH)
        except JsonInputError as exc:
            raise InferenceBadResponse(f"Inference server answered unusable JSON: {exc}") from exc
        except ValueError as exc:
            raise InferenceBadResponse(
                f"Inference server answered {response.status_code} with a non-JSON body."
            ) from exc
        if not isinstance(body, dict):
            raise InferenceBadResponse("Inference server answered JSON that is not an object.")
        if 400 <= response.status_code < 500:
            message = str(
                body.get("error") or f"Inference server refused ({response.status_code})."
            )
            detail = {k: v for k, v in body.items() if k != "error"}
            raise InferenceRejected(message, status_code=response.status_code, detail=detail)
        if response.status_code == 503:
            raise InferenceUnavailable(str(body.get("error") or "Inference server not ready."))
        if response.status_code >= 500:
            raise InferenceBadResponse(
                f"Inference server failed ({response.status_code}): {body.get('error', '')}".strip()
            )
        return body

    def health(self) -> dict[str, Any]:
        return self._call("GET", "/health", timeout=self.timeouts.status)

    def model_info(self) -> dict[str, Any]:
        return self._call("GET", "/api/v1/model-info", timeout=self.timeouts.status * 2)

    def engine_info(self, engine: str) -> dict[str, Any] | None:
        """What the server publishes about ``engine`` in model-info (version, models, metrics,
        limits, result schema), cached for ENGINE_INFO_TTL_SECONDS so a check or a report does
        not fetch the whole model-info again; None while the server cannot be asked."""
        now = time.monotonic()
        with self._info_lock:
            cached = self._info
        if cached is None or now - cached[0] > ENGINE_INFO_TTL_SECONDS:
            try:
                info = self.model_info()
            except InferenceError:
                return None
            engines = info.get("engines")
            if not isinstance(engines, dict):
                engines = {}
            cached = (now, {k: v for k, v in engines.items() if isinstance(v, dict)})
            with self._info_lock:
                self._info = cached
        return cached[1].get(engine)

    def engine_limits(self, engine: str) -> dict[str, Any] | None:
        """The input limits the server publishes for ``engine``. Django checks inputs against
        these, never against copies of its own; None while the server cannot be asked (its own
        checks still apply then)."""
        limits = (self.engine_info(engine) or {}).get("limits")
        return dict(limits) if isinstance(limits, dict) else None

    def predict(self, payload: dict[str, Any], *, batch: bool = False) -> dict[str, Any]:
        timeout = self.timeouts.batch if batch else self.timeouts.single
        body = self._call("POST", "/api/v1/predict", timeout=timeout, json=payload)
        expected = "results" if batch else "prediction"
        if expected not in body and body.get("ok", True):
            raise InferenceBadResponse(f"Inference server answer has no '{expected}'.")
        return body

    def omics_predict_table(
        self, *, model: str, table: bytes, filename: str, top_k: int
    ) -> dict[str, Any]:
        """An omics table (CSV, one sample per row) answered as a batch, one result per row."""
        body = self._call(
            "POST",
            "/api/v1/omics/predict",
            timeout=self.timeouts.batch,
            data={"model": model, "top_k": str(top_k)},
            files={"file": (filename, table, "text/csv")},
        )
        if not isinstance(body.get("results"), list):
            raise InferenceBadResponse("Inference server answer has no 'results'.")
        return body

    def omics_template(self, model: str) -> dict[str, Any]:
        """The input columns of an omics model and an example row it accepts."""
        body = self._call(
            "GET", f"/api/v1/omics/template?model={model}", timeout=self.timeouts.status
        )
        if not isinstance(body.get("columns"), list) or not isinstance(body.get("example"), list):
            raise InferenceBadResponse("Inference server template has no columns.")
        return body

    def imaging_ct(
        self,
        *,
        volume_path: str,
        output_dir: str,
        segmentation_path: str | None = None,
        bundle: str | None = None,
    ) -> dict[str, Any]:
        """The CT analysis of a volume under the shared media root; the server writes its files
        into ``output_dir`` (an empty folder under the media root's ``work/``) and lists them in
        the answer's ``artifacts``."""
        payload: dict[str, Any] = {"volume_path": volume_path, "output_dir": output_dir}
        if segmentation_path is not None:
            payload["segmentation_path"] = segmentation_path
        if bundle:
            payload["bundle"] = bundle
        body = self._call("POST", "/api/v1/imaging/ct", timeout=self.timeouts.imaging, json=payload)
        if not isinstance(body.get("findings"), list) or not isinstance(
            body.get("artifacts"), list
        ):
            raise InferenceBadResponse("Inference server CT answer has no findings or artifacts.")
        return body

    def structure(self, pdb_id: str, *, max_bytes: int) -> bytes:
        """The staged PDB file of ``pdb_id`` (plain text), as the server serves it to viewers.
        A 404 (not staged) is ``InferenceRejected``; a file over ``max_bytes`` is a bad answer."""
        response = self._send("GET", f"/api/v1/structures/{pdb_id}", timeout=self.timeouts.batch)
        if response.status_code != 200:
            self._json_body(response)  # raises the typed error of a 4xx/5xx JSON answer
            raise InferenceBadResponse(f"Inference server answered {response.status_code}.")
        if len(response.content) > max_bytes:
            raise InferenceBadResponse(f"Inference server sent an oversized structure {pdb_id}.")
        return response.content

    def retrain(self, payload: dict[str, Any]) -> dict[str, Any]:
        return self._call("POST", "/api/v1/retrain", timeout=self.timeouts.retrain, json=payload)

    def retrain_status(self) -> dict[str, Any]:
        """The retraining run's progress: running, state, message, version, metrics, promoted,
        and the job id it belongs to."""
        return self._call("GET", "/api/v1/retrain/status", timeout=self.timeouts.status)


# The inference server's routes, by the engine that answers them (metric labels); anything else
# (health, model-info) is the server's own.
_ENGINE_PREFIXES = (
    ("/api/v1/imaging/", "imaging"),
    ("/api/v1/omics/", "omics"),
    ("/api/v1/predict", "sequence"),
    ("/api/v1/retrain", "sequence"),
    ("/api/v1/structures/", "sequence"),
)


def inference_route_labels(path: str) -> tuple[str, str]:
    """(engine, route) of a call: the route without its query string, and without the id of
    the one route that carries one (a structure's PDB id), so labels stay few."""
    route = path.split("?", 1)[0]
    if route.startswith("/api/v1/structures/"):
        route = "/api/v1/structures/<pdb_id>"
    for prefix, engine in _ENGINE_PREFIXES:
        if route.startswith(prefix):
            return engine, route
    return "server", route


_client: InferenceClient | None = None
_client_key: tuple[str, Timeouts] | None = None
_lock = threading.Lock()


def get_client() -> InferenceClient:
    """The process-wide pooled client for the current inference settings (URL and timeouts)."""
    global _client, _client_key
    key = (
        settings.CDSS_INFERENCE_URL,
        Timeouts(
            single=settings.CDSS_INFERENCE_TIMEOUT_SINGLE,
            batch=settings.CDSS_INFERENCE_TIMEOUT_BATCH,
            retrain=settings.CDSS_INFERENCE_TIMEOUT_RETRAIN,
            imaging=settings.CDSS_INFERENCE_TIMEOUT_IMAGING,
        ),
    )
    with _lock:
        if _client is None or _client_key != key:
            if _client is not None:
                _client.close()
            _client = InferenceClient(key[0], timeouts=key[1])
            _client_key = key
        return _client
