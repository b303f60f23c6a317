"""The built-in ``pipeline_check`` kind: needs no patient and returns at once.

Operators submit it to check that workers answer end to end (API -> broker -> worker -> database
-> live status); the jobs benchmark submits it by the thousand.
"""

from __future__ import annotations

import json
import os
import socket
from typing import TYPE_CHECKING, Any

from django.utils import timezone
from rest_framework import serializers

from cdss.common.serializers import StrictInputSerializer, StrictSerializer
from cdss.common.tabular import TSV_CONTENT_TYPE, tsv_bytes
from cdss.jobs.kinds import AnalysisKind

if TYPE_CHECKING:
    from cdss.jobs.models import Analysis

NAME = "pipeline_check"


class PipelineCheckInputSerializer(StrictInputSerializer):
    note = serializers.CharField(max_length=200, required=False, allow_blank=True)


class PipelineCheckResultSerializer(StrictSerializer):
    ok = serializers.BooleanField()
    note = serializers.CharField(allow_blank=True)
    worker = serializers.CharField(help_text="host:pid of the worker that ran it")
    checked_at = serializers.DateTimeField()


def run(analysis: Analysis) -> dict[str, Any]:
    return {
        "ok": True,
        "note": analysis.inputs.get("note", ""),
        "worker": f"{socket.gethostname()}:{os.getpid()}",
        "checked_at": timezone.now().isoformat(),
    }


def _render_tsv(result: dict[str, Any]) -> tuple[str, bytes]:
    rows = [(k, json.dumps(v)) for k, v in sorted(result.items())]
    return TSV_CONTENT_TYPE, tsv_bytes(["key", "value"], rows)


PIPELINE_CHECK = AnalysisKind(
    name=NAME,
    input=PipelineCheckInputSerializer,
    run=run,
    result=PipelineCheckResultSerializer,
    time_limit=60,
    patient_required=False,
    max_attempts=3,
    renderers={"tsv": _render_tsv},
)

KINDS = (PIPELINE_CHECK,)
