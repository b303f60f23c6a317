"""Tab-separated exports that are safe to open in a spreadsheet.

A text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is a formula to
Excel, LibreOffice and Google Sheets (CSV/formula injection): a sequence id such as
``=HYPERLINK(...)`` would run when a clinician opens the export. Such cells get a leading
apostrophe, which spreadsheets show as text. Numbers are written as numbers, negative ones included.
Tabs and line breaks inside a text cell become spaces, so every record is exactly one line.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

TSV_CONTENT_TYPE = "text/tab-separated-values; charset=utf-8"
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_LAYOUT = str.maketrans({"\t": " ", "\r": " ", "\n": " "})


def spreadsheet_safe(value: Any) -> Any:
    if value is None:
        return ""
    if not isinstance(value, str):
        return value
    if value.startswith(_FORMULA_STARTS):
        value = "'" + value
    return value.translate(_LAYOUT)


def tsv_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter="\t", lineterminator="\n")
    writer.writerow([spreadsheet_safe(v) for v in header])
    for row in rows:
        writer.writerow([spreadsheet_safe(v) for v in row])
    return out.getvalue().encode("utf-8")
