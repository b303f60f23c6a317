"""HTTP route of the imaging engine: ``POST /api/v1/imaging/analyze``.

Two ways in:
- multipart upload: ``volume`` (NIfTI or a zip of one DICOM series), optional ``segmentation``
  (a multi-label NIfTI or a zip of ``<structure>.nii.gz`` masks), optional form field ``bundle``;
- JSON ``{"volume_path", "segmentation_path"?, "bundle"?}``: paths of files (or a mask folder)
  under the media root (``InferenceConfig.media_root``, ``CDSS_MEDIA_ROOT``); anything that
  resolves outside it is a 400.
``bundle`` names an installed MONAI bundle folder under ``InferenceConfig.imaging_bundles_dir``
(``CDSS_IMAGING_BUNDLES_DIR``); see ``inference.engines.imaging.inputs``. Uploads may be up to
``InferenceConfig.imaging_max_upload`` bytes (``CDSS_IMAGING_MAX_UPLOAD``, default 1 GiB) on this
route only.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Blueprint, request
from werkzeug.datastructures import FileStorage

from inference.api import request_json, server_state
from inference.engines.imaging.inputs import (
    resolve_bundle,
    resolve_media_path,
    resolve_output_dir,
)
from inference.errors import InvalidInput

bp = Blueprint("imaging", __name__, url_prefix="/api/v1/imaging")

_JSON_FIELDS = {"volume_path", "segmentation_path", "bundle"}
_CT_FIELDS = {*_JSON_FIELDS, "output_dir"}


@bp.before_request
def _allow_large_uploads() -> None:
    request.max_content_length = server_state().config.imaging_max_upload


def _save_upload(upload: FileStorage, folder: Path, stem: str, field: str) -> Path:
    """Write an upload to ``folder`` with a suffix chosen from its content (zip, gzip or raw)."""
    head = upload.stream.read(4)
    upload.stream.seek(0)
    if not head:
        raise InvalidInput(f"{field}: uploaded file is empty", field=field)
    suffix = ".zip" if head == b"PK\x03\x04" else ".nii.gz" if head[:2] == b"\x1f\x8b" else ".nii"
    path = folder / f"{stem}{suffix}"
    upload.save(path)
    return path


@contextmanager
def _fields_as_paths() -> Iterator[None]:
    """The engine names its inputs "volume"/"segmentation"; JSON callers sent "<name>_path"."""
    try:
        yield
    except InvalidInput as exc:
        if exc.field and exc.field.split(":")[0] in ("volume", "segmentation"):
            raise InvalidInput(exc.message, field=exc.field.split(":")[0] + "_path") from exc
        raise


def _json_inputs(
    body: dict[str, Any], allowed: set[str], volume_hint: str = ""
) -> tuple[Path, Path | None, Path | None]:
    """The volume, segmentation and bundle a JSON body names: unknown fields refused, paths
    resolved under the media root, the bundle among the installed ones."""
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise InvalidInput(
            f"{unknown[0]}: unknown field (allowed: {sorted(allowed)})", field=unknown[0]
        )
    if "volume_path" not in body:
        raise InvalidInput(f"volume_path: required{volume_hint}", field="volume_path")
    config = server_state().config
    volume_path = resolve_media_path(body["volume_path"], "volume_path", config.media_root)
    if not volume_path.is_file():
        raise InvalidInput("volume_path: must be a file", field="volume_path")
    seg = body.get("segmentation_path")
    seg_path = (
        resolve_media_path(seg, "segmentation_path", config.media_root) if seg is not None else None
    )
    return volume_path, seg_path, resolve_bundle(body.get("bundle"), config.imaging_bundles_dir)


def _analyze(volume: Path, segmentation: Path | None, bundle: Path | None) -> dict[str, Any]:
    result: dict[str, Any] = (
        server_state()
        .engines["imaging"]
        .analyze(volume_path=volume, segmentation_path=segmentation, bundle_dir=bundle)
    )
    return result


@bp.post("/analyze")
def analyze() -> dict[str, Any]:
    if request.mimetype == "multipart/form-data":
        unknown = sorted(set(request.files) - {"volume", "segmentation"})
        if unknown:
            raise InvalidInput(f"files: unknown upload fields {unknown}", field=unknown[0])
        volume = request.files.get("volume")
        if volume is None:
            raise InvalidInput("volume: upload the CT volume as the 'volume' file", field="volume")
        config = server_state().config
        bundle = resolve_bundle(request.form.get("bundle"), config.imaging_bundles_dir)
        segmentation = request.files.get("segmentation")
        with tempfile.TemporaryDirectory(prefix="cdss-imaging-") as tmp:
            folder = Path(tmp)
            volume_path = _save_upload(volume, folder, "volume", "volume")
            seg_path = (
                _save_upload(segmentation, folder, "segmentation", "segmentation")
                if segmentation is not None
                else None
            )
            return _analyze(volume_path, seg_path, bundle)
    volume_path, seg_path, bundle = _json_inputs(
        request_json(), _JSON_FIELDS, " (or upload the volume as multipart 'volume')"
    )
    with _fields_as_paths():
        return _analyze(volume_path, seg_path, bundle)


@bp.post("/ct")
def ct() -> dict[str, Any]:
    """The CT analysis (``ImagingEngine.analyze_ct``): JSON ``{"volume_path",
    "segmentation_path"?, "bundle"?, "output_dir"}``, every path under the media root;
    ``output_dir`` an empty folder under its ``work/`` folder, where the figures, the system's
    segmentation and the mesh are written (listed in the answer's ``artifacts``)."""
    body = request_json()
    volume_path, seg_path, bundle = _json_inputs(body, _CT_FIELDS)
    if "output_dir" not in body:
        raise InvalidInput("output_dir: required", field="output_dir")
    output_dir = resolve_output_dir(body["output_dir"], server_state().config.media_root)
    engine = server_state().engines["imaging"]
    with _fields_as_paths():
        result: dict[str, Any] = engine.analyze_ct(
            volume_path=volume_path,
            segmentation_path=seg_path,
            bundle_dir=bundle,
            output_dir=output_dir,
        )
    return result
