"""Parsing an uploaded omics table (CSV text) into samples for the omics engine.

One row per sample; columns named ``<layer>:<feature>`` (``mrna:ENSG00000161896.6``,
``clinical:age_years``); an optional ``id`` (or ``sample_id``) column names the rows. An empty cell
is a missing feature; a layer whose cells are all empty in a row is a missing layer for that row.
Numbers are parsed here; non-numeric text is kept for the clinical layer (its encoding accepts
words such as ``stage iib``) and refused elsewhere, naming the row and column, as is a number that
is not finite (``nan``, ``inf``, ``1e999``). Lines may end in LF, CRLF or CR alone. A cell longer
than ``MAX_CELL_CHARS``, a NUL byte, or text the CSV reader cannot split (an unterminated quote)
is a 400 too.
"""

from __future__ import annotations

import csv
import io
import math
from typing import Any

from inference.errors import InvalidInput

ID_COLUMNS = ("id", "sample_id")
TEXT_LAYERS = frozenset({"clinical"})
# A number, a clinical word, a sample id or a column name: far shorter than this.
MAX_CELL_CHARS = 256
# What one uploaded table may weigh.
MAX_FILE_BYTES = 8 * 1024 * 1024


def _number_or_text(cell: str, layer: str, where: str) -> float | str:
    try:
        number = float(cell)
    except ValueError:
        if layer in TEXT_LAYERS:
            return cell
        raise InvalidInput(f"{where}: {cell!r} is not a number", field=where) from None
    if not math.isfinite(number):
        raise InvalidInput(f"{where}: {cell!r} is not a finite number", field=where)
    return number


def _read_rows(text: str) -> list[list[str]]:
    """The CSV rows (universal line endings), or a 400 naming the line that cannot be read."""
    if "\x00" in text:
        raise InvalidInput("file: holds a NUL byte; expected a CSV text table", field="file")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        return list(reader)
    except csv.Error as exc:
        raise InvalidInput(
            f"file: line {reader.line_num} is not valid CSV ({exc})", field="file"
        ) from None


def _check_lengths(header: list[str], body: list[list[str]]) -> None:
    for i, name in enumerate(header):
        if len(name) > MAX_CELL_CHARS:
            raise InvalidInput(
                f"file: column {i + 1} of the header is longer than {MAX_CELL_CHARS} characters",
                field="file.header",
            )
    for r, row in enumerate(body, start=1):
        for i, cell in enumerate(row):
            if len(cell) > MAX_CELL_CHARS:
                column = header[i] if i < len(header) else f"column {i + 1}"
                where = f"file.row{r}.{column}"
                raise InvalidInput(
                    f"file: row {r}, column {column!r}: the cell is longer than "
                    f"{MAX_CELL_CHARS} characters",
                    field=where,
                )


def parse_table(text: str, *, max_rows: int) -> tuple[list[str | None], list[dict[str, Any]]]:
    """Row ids (None when the table has no id column) and one sample per row."""
    rows = _read_rows(text)
    rows = [row for row in rows if any(cell.strip() for cell in row)]
    if not rows:
        raise InvalidInput("file: the table is empty", field="file")
    header = [cell.strip() for cell in rows[0]]
    body = rows[1:]
    _check_lengths(header, body)
    if not body:
        raise InvalidInput("file: the table has a header but no sample rows", field="file")
    if len(body) > max_rows:
        raise InvalidInput(
            f"file: {len(body)} sample rows, at most {max_rows} per request", field="file"
        )
    id_col: int | None = None
    columns: list[tuple[int, str, str]] = []
    for i, name in enumerate(header):
        if name.lower() in ID_COLUMNS and id_col is None:
            id_col = i
            continue
        layer, sep, feature = name.partition(":")
        if not sep or not layer.strip() or not feature.strip():
            raise InvalidInput(
                f"file: column {name!r} must be named '<layer>:<feature>' (e.g. 'mrna:GENE')",
                field=f"file.{name}",
            )
        columns.append((i, layer.strip().lower(), feature.strip()))
    if not columns:
        raise InvalidInput("file: no '<layer>:<feature>' columns", field="file")
    ids: list[str | None] = []
    samples: list[dict[str, Any]] = []
    for r, row in enumerate(body, start=1):
        if len(row) > len(header):
            raise InvalidInput(f"file: row {r} has more cells than the header", field="file")
        row = row + [""] * (len(header) - len(row))
        ids.append(row[id_col].strip() if id_col is not None else None)
        sample: dict[str, dict[str, Any]] = {}
        for i, layer, feature in columns:
            cell = row[i].strip()
            if not cell:
                continue
            where = f"file.row{r}.{layer}:{feature}"
            sample.setdefault(layer, {})[feature] = _number_or_text(cell, layer, where)
        samples.append(sample)
    return ids, samples
