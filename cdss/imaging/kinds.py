"""The CT analysis kind. It takes ``{volume_file, segmentation_file?, bundle?}``: patient files of
roles ``ct_volume`` and ``segmentation`` of the same patient, resolved through the file access
rule in ``prepare``. ``run`` gives the inference server the files' paths under the shared media
root and an empty work folder there; the server writes ``slices.png``, ``segmentation.nii.gz``,
``mesh.json`` and ``volume.nii.gz`` (the volume on the labels' grid, for the web viewer) into it,
which become artifacts beside ``result.json``; the folder is removed.
"""

from __future__ import annotations

import json
import secrets
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings

from cdss.files.selectors import patient_file_get_for_user
from cdss.imaging.schemas import CtInputSerializer, CtResultSerializer
from cdss.jobs.kinds import AnalysisKind, input_reference_error
from cdss.jobs.services import analysis_artifact_store
from cdss.ml.client import InferenceBadResponse, get_client

if TYPE_CHECKING:
    from cdss.accounts.models import User
    from cdss.jobs.models import Analysis
    from cdss.patients.models import Patient

# The files the server may hand back, with the content type we serve them as (never the
# server's word for it), and what one may weigh.
SERVER_ARTIFACTS = {
    "slices.png": "image/png",
    "segmentation.nii.gz": "application/gzip",
    "mesh.json": "application/json",
    "volume.nii.gz": "application/gzip",
}
MAX_ARTIFACT_BYTES = 256 * 1024 * 1024
WORK_FOLDER = "work"


def _prepare(*, user: User, patient: Patient | None, inputs: dict[str, Any]) -> dict[str, Any]:
    volume = patient_file_get_for_user(
        user=user, file_id=inputs["volume_file"], patient=patient, role="ct_volume"
    )
    if volume is None:
        raise input_reference_error("volume_file")
    prepared: dict[str, Any] = {"volume_file": volume.pk}
    if inputs.get("segmentation_file") is not None:
        segmentation = patient_file_get_for_user(
            user=user, file_id=inputs["segmentation_file"], patient=patient, role="segmentation"
        )
        if segmentation is None:
            raise input_reference_error("segmentation_file")
        prepared["segmentation_file"] = segmentation.pk
    if inputs.get("bundle"):
        prepared["bundle"] = inputs["bundle"]
    return prepared


def _media_relative(path: Path) -> str:
    """A stored file's path as the inference server is given it: relative to the media root,
    which both processes share (mounted wherever each host likes)."""
    return path.resolve().relative_to(Path(settings.MEDIA_ROOT).resolve()).as_posix()


def _collect(analysis: Analysis, work: Path, listed: list[dict[str, Any]]) -> None:
    """Store what the server says it wrote, only the names we expect, each read from disk."""
    names = [str(item.get("name")) for item in listed]
    if sorted(names) != sorted(SERVER_ARTIFACTS):
        raise InferenceBadResponse(f"Inference server listed unexpected CT files: {names}.")
    for name, content_type in SERVER_ARTIFACTS.items():
        path = work / name
        if not path.is_file() or path.is_symlink():
            raise InferenceBadResponse(f"Inference server did not write {name}.")
        if path.stat().st_size > MAX_ARTIFACT_BYTES:
            raise InferenceBadResponse(f"Inference server wrote an oversized {name}.")
        analysis_artifact_store(
            analysis=analysis, name=name, content_type=content_type, data=path.read_bytes()
        )


def _run_ct(analysis: Analysis) -> dict[str, Any]:
    from cdss.files.models import PatientFile

    volume = PatientFile.objects.get(pk=analysis.inputs["volume_file"])
    seg_id = analysis.inputs.get("segmentation_file")
    segmentation = PatientFile.objects.get(pk=seg_id) if seg_id is not None else None
    work = Path(settings.MEDIA_ROOT) / WORK_FOLDER / f"ct-{analysis.pk}-{secrets.token_hex(8)}"
    work.mkdir(parents=True, mode=0o770)
    try:
        answer = get_client().imaging_ct(
            volume_path=_media_relative(volume.path),
            segmentation_path=_media_relative(segmentation.path) if segmentation else None,
            output_dir=_media_relative(work),
            bundle=analysis.inputs.get("bundle"),
        )
        _collect(analysis, work, answer["artifacts"])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result = {"ok": True, **{k: v for k, v in answer.items() if k != "artifacts"}}
    analysis_artifact_store(
        analysis=analysis,
        name="result.json",
        content_type="application/json",
        data=json.dumps(result, ensure_ascii=False, indent=1).encode("utf-8"),
    )
    return result


CT = AnalysisKind(
    name="ct",
    input=CtInputSerializer,
    prepare=_prepare,
    run=_run_ct,
    result=CtResultSerializer,
    queue="imaging",
    # The server's own limit is 600 s per request; a retry must fit beside it.
    time_limit=900,
    max_attempts=3,
)

KINDS = (CT,)
