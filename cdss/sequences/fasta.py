"""Multi-FASTA parsing into batch items, with errors that name the record at fault."""

from __future__ import annotations

from typing import Any

from cdss.common.exceptions import ApplicationError

MAX_FASTA_RECORDS = 10_000


def fasta_to_items(text: str, *, seq_type: str = "auto") -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    header: str | None = None
    chunks: list[str] = []

    def flush() -> None:
        if header is None:
            return
        sequence = "".join(chunks)
        if not sequence:
            raise ApplicationError(
                f"fasta: record '{header}' has no sequence", detail={"fasta": header}
            )
        items.append({"id": header, "sequence": sequence, "seq_type": seq_type})

    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith(";"):
            continue
        if line.startswith(">"):
            flush()
            header = line[1:].split()[0] if line[1:].strip() else f"record{len(items) + 1}"
            chunks = []
            if len(items) >= MAX_FASTA_RECORDS:
                raise ApplicationError(
                    f"fasta: more than {MAX_FASTA_RECORDS} records",
                    detail={"fasta": "too many records"},
                )
        elif header is None:
            raise ApplicationError(
                f"fasta: line {lineno} comes before any '>' header",
                detail={"fasta": f"line {lineno}"},
            )
        else:
            chunks.append(line.replace(" ", ""))
    flush()
    if not items:
        raise ApplicationError("fasta: no records found", detail={"fasta": "empty"})
    return items
