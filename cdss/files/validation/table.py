"""Omics tables: UTF-8 (a byte-order mark is fine) CSV or TSV, checked for structure only.

The delimiter is sniffed from the header line (a tab makes it TSV, else CSV). One row per sample;
columns named ``<layer>:<feature>`` (``mrna:ENSG00000161896.6``), plus at most one ``id`` or
``sample_id`` column; no column twice; at least one sample row; no row longer than the header;
no cell over ``max_cell_chars``; no NUL byte; rows and columns within their caps. Blank lines are
skipped. Whether the values suit a model (numbers, known features) is the analysis's question.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from pathlib import Path
from typing import Any

from cdss.files.validation.base import FileLimits, FileRejected

ID_COLUMNS = ("id", "sample_id")


def decode_utf8(data: bytes, what: str) -> str:
    """``data`` as text, or a refusal naming the line and byte where it stops being UTF-8."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        start = exc.start + (3 if data.startswith(b"\xef\xbb\xbf") else 0)
        line = data.count(b"\n", 0, start) + 1
        raise FileRejected(
            f"file: not UTF-8 text (line {line}, byte {start}); {what} must be UTF-8"
        ) from None
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise FileRejected(f"file: holds a NUL byte (line {line}); {what} must be text")
    return text


def _header(row: list[str], limits: FileLimits) -> dict[str, Any]:
    names = [cell.strip() for cell in row]
    if len(names) > limits.max_table_columns:
        raise FileRejected(
            f"file: {len(names)} columns, over the limit of {limits.max_table_columns}"
        )
    ids = [n for n in names if n.lower() in ID_COLUMNS]
    if len(ids) > 1:
        raise FileRejected(f"file: more than one id column ({', '.join(ids)})")
    repeated = sorted(name for name, count in Counter(names).items() if count > 1)
    if repeated:
        raise FileRejected(f"file: column {repeated[0]!r} appears more than once")
    layers: Counter[str] = Counter()
    for name in names:
        if name.lower() in ID_COLUMNS:
            continue
        layer, sep, feature = name.partition(":")
        if not sep or not layer.strip() or not feature.strip():
            shown = name if len(name) <= 60 else name[:57] + "..."
            raise FileRejected(
                f"file: column {shown!r} must be named '<layer>:<feature>' (e.g. 'mrna:GENE') "
                "or be the id column"
            )
        layers[layer.strip().lower()] += 1
    if not layers:
        raise FileRejected("file: no '<layer>:<feature>' columns")
    return {"columns": len(names), "layers": dict(sorted(layers.items())), "id_column": bool(ids)}


def check_table(path: Path, limits: FileLimits) -> tuple[str, dict[str, Any]]:
    """(format, metadata) of an omics table: ``csv`` or ``tsv``."""
    text = decode_utf8(path.read_bytes(), "an omics_table")
    lines = text.lstrip("\r\n").splitlines()
    first_line = lines[0] if lines else ""
    delimiter, fmt = ("\t", "tsv") if "\t" in first_line else (",", "csv")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    header: dict[str, Any] | None = None
    rows = 0
    try:
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            for i, cell in enumerate(row):
                if len(cell) > limits.max_cell_chars:
                    raise FileRejected(
                        f"file: line {reader.line_num}, column {i + 1}: a cell of {len(cell)} "
                        f"characters, over the limit of {limits.max_cell_chars}"
                    )
            if header is None:
                header = _header(row, limits)
                continue
            rows += 1
            if rows > limits.max_table_rows:
                raise FileRejected(
                    f"file: more than {limits.max_table_rows} sample rows (the limit)"
                )
            if len(row) > header["columns"]:
                raise FileRejected(
                    f"file: line {reader.line_num} has {len(row)} cells, the header "
                    f"{header['columns']}"
                )
    except csv.Error as exc:
        raise FileRejected(
            f"file: line {reader.line_num} is not valid {fmt.upper()} ({exc})"
        ) from None
    if header is None:
        raise FileRejected("file: the table is empty")
    if rows == 0:
        raise FileRejected("file: the table has a header but no sample rows")
    return fmt, {"rows": rows, **header}
