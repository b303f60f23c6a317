"""Parsing an uploaded omics table (CSV text) into samples for the omics engine.

One row per sample; columns named ``<layer>:<feature>`` (``mrna:ENSG00000161896.6``,
``clinical:age_years``); an optional ``id`` (or ``sample_id``) column names the rows. An empty cell
is a missing feature; a layer whose cells are all empty in a row is a missing layer for that row.
Numbers are parsed here; non-numeric text is kept for the clinical layer (its encoding accepts
words such as ``stage iib``) and refused elsewhere, naming the row and column.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from inference.errors import InvalidInput

ID_COLUMNS = ("id", "sample_id")
TEXT_LAYERS = frozenset({"clinical"})


def _number_or_text(cell: str, layer: str, where: str) -> float | str:
    try:
        return float(cell)
    except ValueError:
        if layer in TEXT_LAYERS:
            return cell
        raise InvalidInput(f"{where}: {cell!r} is not a number", field=where) from None


def parse_table(text: str, *, max_rows: int) -> tuple[list[str | None], list[dict[str, Any]]]:
    """Row ids (None when the table has no id column) and one sample per row."""
    rows = list(csv.reader(io.StringIO(text)))
    rows = [row for row in rows if any(cell.strip() for cell in row)]
    if not rows:
        raise InvalidInput("file: the table is empty", field="file")
    header = [cell.strip() for cell in rows[0]]
    body = rows[1:]
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
