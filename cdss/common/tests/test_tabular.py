"""TSV exports neutralise spreadsheet formulas (defect 13)."""

from __future__ import annotations

import csv
import io

import pytest

from cdss.common.tabular import tsv_bytes
from cdss.sequences.kinds import render_tsv


def _cells(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode()), delimiter="\t"))


@pytest.mark.parametrize(
    "dangerous",
    ['=HYPERLINK("http://x")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\tx", "\r=1"],
)
def test_formula_cells_become_text(dangerous):
    _, row = _cells(tsv_bytes(["id"], [[dangerous]]))
    assert row == ["'" + dangerous.replace("\t", " ").replace("\r", " ")]


def test_line_breaks_and_tabs_never_split_a_record():
    data = tsv_bytes(["a", "b"], [["one\ntwo\r\nthree", "x\ty"]])
    assert data.decode().splitlines() == ["a\tb", "one two  three\tx y"]


def test_numbers_and_plain_text_are_unchanged():
    _, row = _cells(tsv_bytes(["a", "b", "c", "d"], [[-0.25, 3, "MKV-1", None]]))
    assert row == ["-0.25", "3", "MKV-1", ""]


def test_the_sequence_batch_export_is_safe():
    result = {"results": [{"index": 0, "id": "=cmd|'/C calc'!A0", "ok": False, "error": "-x"}]}
    content_type, data = render_tsv(result)
    assert content_type.startswith("text/tab-separated-values")
    header, row = _cells(data)
    assert row[header.index("id")] == "'=cmd|'/C calc'!A0"
    assert row[header.index("error")] == "'-x"
