"""Resource ids: deterministic, derived from database ids, so every resource can be read back.

A DiagnosticReport is ``a<analysis id>``; a finding of it (Observation, RiskAssessment) is
``a<analysis id>-<finding key>`` (``a123-organ-volumes``); a CT volume's DocumentReference is
``f<file id>``; a Device is its model's name and version (``pathogen-seq-2026.11.0``). Ids keep to
FHIR's ``[A-Za-z0-9\\-\\.]{1,64}``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cdss.common.serializers import MAX_DB_INT

_ANALYSIS_ID = re.compile(r"^a([0-9]{1,19})(?:-([a-z0-9][a-z0-9.-]{0,40}))?$")
_FILE_ID = re.compile(r"^f([0-9]{1,19})$")
_PLAIN_ID = re.compile(r"^[0-9]{1,19}$")
_NOT_ID_CHARS = re.compile(r"[^A-Za-z0-9.-]+")


@dataclass(frozen=True)
class AnalysisRef:
    analysis_id: int
    key: str | None


def _db_int(text: str) -> int | None:
    number = int(text)
    return number if 0 < number <= MAX_DB_INT else None


def analysis_resource_id(analysis_id: int, key: str | None = None) -> str:
    return f"a{analysis_id}-{key}" if key else f"a{analysis_id}"


def parse_analysis_resource_id(resource_id: str) -> AnalysisRef | None:
    match = _ANALYSIS_ID.match(resource_id)
    if match is None:
        return None
    analysis_id = _db_int(match.group(1))
    return AnalysisRef(analysis_id, match.group(2)) if analysis_id is not None else None


def file_resource_id(file_id: int) -> str:
    return f"f{file_id}"


def parse_file_resource_id(resource_id: str) -> int | None:
    match = _FILE_ID.match(resource_id)
    return _db_int(match.group(1)) if match else None


def parse_plain_id(resource_id: str) -> int | None:
    """A Patient's id: its database id."""
    return _db_int(resource_id) if _PLAIN_ID.match(resource_id) else None


def device_resource_id(model_name: str, model_version: str) -> str:
    """The Device of one model version. Two versions whose names differ only in characters FHIR
    ids cannot hold would collide; the read resolves an id against the stored versions and takes
    the first, so the model names shipped here (letters, digits, dots, dashes) never do."""
    slug = _NOT_ID_CHARS.sub("-", f"{model_name}-{model_version}").strip("-")
    return slug[:64] or "unknown"
