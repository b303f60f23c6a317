"""HTTP route of the imaging engine: ``POST /api/v1/imaging/analyze``.

Two ways in:
- multipart upload: ``volume`` (NIfTI or a zip of one DICOM series), optional ``segmentation``
  (a multi-label NIfTI or a zip of ``<structure>.nii.gz`` masks), optional form field ``bundle``;
- JSON ``{"volume_path", "segmentation_path"?, "bundle"?}``: paths of files (or a mask folder)
  under the media root (``CDSS_MEDIA_ROOT``, default ``<repo>/var/media``); anything that resolves
  outside it is a 400.
``bundle`` names an installed MONAI bundle folder under ``CDSS_IMAGING_BUNDLES_DIR`` (default
``<repo>/var/bundles``); a request can never point at an arbitrary folder, because bundle configs
run code. Uploads may be up to ``CDSS_IMAGING_MAX_UPLOAD`` bytes (default 1 GiB) on this route only.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any

from flask import Blueprint, current_app, request
from werkzeug.datastructures import FileStorage

from inference.api import extension, request_json
from inference.config import REPO_ROOT
from inference.errors import InvalidInput

bp = Blueprint("imaging", __name__, url_prefix="/api/v1/imaging")

DEFAULT_MAX_UPLOAD = 1024 * 1024 * 1024
MAX_PATH_LENGTH = 4096
_BUNDLE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}$")
_JSON_FIELDS = {"volume_path", "segmentation_path", "bundle"}


def _setting(name: str, default: str) -> str:
    """App config first (tests, embedding), then the environment."""
    value = current_app.config.get(name) or os.environ.get(name, "").strip()
    return str(value) if value else default


def media_root() -> Path:
    return Path(_setting("CDSS_MEDIA_ROOT", str(REPO_ROOT / "var" / "media"))).resolve()


def bundles_root() -> Path:
    return Path(_setting("CDSS_IMAGING_BUNDLES_DIR", str(REPO_ROOT / "var" / "bundles"))).resolve()


def max_upload() -> int:
    raw = _setting("CDSS_IMAGING_MAX_UPLOAD", str(DEFAULT_MAX_UPLOAD))
    try:
        return int(raw)
    except ValueError:
        return DEFAULT_MAX_UPLOAD


@bp.before_request
def _allow_large_uploads() -> None:
    request.max_content_length = max_upload()


def resolve_media_path(raw: Any, field: str) -> Path:
    """A path inside the media root (relative to it, or absolute inside it), which exists."""
    if not isinstance(raw, str) or not raw.strip():
        raise InvalidInput(f"{field}: must be a non-empty string", field=field)
    if "\x00" in raw:
        raise InvalidInput(f"{field}: contains a NUL byte", field=field)
    if len(raw) > MAX_PATH_LENGTH:
        raise InvalidInput(f"{field}: is longer than {MAX_PATH_LENGTH} characters", field=field)
    root = media_root()
    candidate = Path(raw)
    try:
        path = (candidate if candidate.is_absolute() else root / candidate).resolve()
        inside = path.is_relative_to(root)
        exists = inside and path.exists()
    except OSError:  # a name too long for the filesystem, a symlink loop: no such file
        inside, exists = True, False
    if not inside:
        raise InvalidInput(f"{field}: must be a path under the media root", field=field)
    if not exists:
        raise InvalidInput(f"{field}: file not found under the media root", field=field)
    return path


def resolve_bundle(raw: Any) -> Path | None:
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str) or not _BUNDLE_NAME.match(raw) or ".." in raw:
        raise InvalidInput("bundle: must be the name of an installed bundle folder", field="bundle")
    path = bundles_root() / raw
    if not path.is_dir():
        raise InvalidInput(f"bundle: no installed bundle named {raw!r}", field="bundle")
    return path


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


def _analyze(
    volume: Path, segmentation: Path | None, bundle: Path | None, *, by_path: bool = False
) -> dict[str, Any]:
    engine = extension()["engines"]["imaging"]
    try:
        result: dict[str, Any] = engine.analyze(
            volume_path=volume, segmentation_path=segmentation, bundle_dir=bundle
        )
    except InvalidInput as exc:
        # The engine names its inputs "volume"/"segmentation"; JSON callers sent "<name>_path".
        if by_path and exc.field and exc.field.split(":")[0] in ("volume", "segmentation"):
            raise InvalidInput(exc.message, field=exc.field.split(":")[0] + "_path") from exc
        raise
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
        bundle = resolve_bundle(request.form.get("bundle"))
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
    body = request_json()
    unknown = sorted(set(body) - _JSON_FIELDS)
    if unknown:
        raise InvalidInput(
            f"{unknown[0]}: unknown field (allowed: {sorted(_JSON_FIELDS)})", field=unknown[0]
        )
    if "volume_path" not in body:
        raise InvalidInput(
            "volume_path: required (or upload the volume as multipart 'volume')",
            field="volume_path",
        )
    volume_path = resolve_media_path(body["volume_path"], "volume_path")
    if not volume_path.is_file():
        raise InvalidInput("volume_path: must be a file", field="volume_path")
    seg = body.get("segmentation_path")
    seg_path = resolve_media_path(seg, "segmentation_path") if seg is not None else None
    return _analyze(volume_path, seg_path, resolve_bundle(body.get("bundle")), by_path=True)
