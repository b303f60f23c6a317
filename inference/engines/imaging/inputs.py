"""The imaging engine's inputs named by path: a volume or segmentation under the media root, and an
installed MONAI bundle under the bundles folder.

A request may name a file only inside ``InferenceConfig.media_root`` (the web backend's media
folder) and a bundle only by the name of a folder in ``InferenceConfig.imaging_bundles_dir``: a
request can never point at an arbitrary folder, because bundle configs run code. Anything else is
an ``InvalidInput`` naming the field. No Flask here.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from inference.errors import InvalidInput

MAX_PATH_LENGTH = 4096
_BUNDLE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}$")


def resolve_media_path(raw: Any, field: str, media_root: Path) -> Path:
    """A path inside ``media_root`` (relative to it, or absolute inside it), which exists."""
    if not isinstance(raw, str) or not raw.strip():
        raise InvalidInput(f"{field}: must be a non-empty string", field=field)
    if "\x00" in raw:
        raise InvalidInput(f"{field}: contains a NUL byte", field=field)
    if len(raw) > MAX_PATH_LENGTH:
        raise InvalidInput(f"{field}: is longer than {MAX_PATH_LENGTH} characters", field=field)
    root = media_root.resolve()
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


def resolve_bundle(raw: Any, bundles_dir: Path) -> Path | None:
    """The folder of the installed bundle named ``raw``; ``None`` when no bundle is asked for."""
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str) or not _BUNDLE_NAME.match(raw) or ".." in raw:
        raise InvalidInput("bundle: must be the name of an installed bundle folder", field="bundle")
    path = bundles_dir.resolve() / raw
    if not path.is_dir():
        raise InvalidInput(f"bundle: no installed bundle named {raw!r}", field="bundle")
    return path


# The only folder under the media root the server writes into: the web backend creates one empty
# folder per CT analysis attempt under it, and moves what the server wrote into artifacts.
WORK_FOLDER = "work"


def resolve_output_dir(raw: Any, media_root: Path) -> Path:
    """An existing, empty folder under ``<media root>/work/`` (not a symlink): where a CT
    analysis writes its figures, segmentation and mesh."""
    path = resolve_media_path(raw, "output_dir", media_root)
    work = (media_root.resolve() / WORK_FOLDER).resolve()
    if not path.is_relative_to(work) or path == work:
        raise InvalidInput(
            f"output_dir: must be a folder under the media root's {WORK_FOLDER}/ folder",
            field="output_dir",
        )
    if not path.is_dir():
        raise InvalidInput("output_dir: must be a folder", field="output_dir")
    if any(path.iterdir()):
        raise InvalidInput("output_dir: must be empty", field="output_dir")
    return path
