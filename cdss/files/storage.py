"""Where patient files live on disk, and how an upload gets there without a half-written file.

A file is stored once per content under ``MEDIA_ROOT/files/<sha256[:2]>/<sha256>`` (owner-only),
however many uploads name it. An upload streams, hashed as it arrives, into a temporary file in
``MEDIA_ROOT/files/tmp/`` (``StagingUploadHandler``): on the same file system as the store, so
keeping it is one hard link (atomic, and it never replaces a stored file), and the temporary name
is removed when the upload is closed, kept or not. A process killed in the middle leaves at most a
temporary file, which ``manage.py files_sweep`` removes.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import uuid
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopFutureHandlers

FILES_DIR = "files"
STAGING_DIR = "tmp"


def files_root() -> Path:
    return Path(settings.MEDIA_ROOT) / FILES_DIR


def staging_dir() -> Path:
    return files_root() / STAGING_DIR


def blob_relative_path(sha256: str) -> str:
    """The stored file's path relative to MEDIA_ROOT (what the database keeps)."""
    return f"{FILES_DIR}/{sha256[:2]}/{sha256}"


def blob_path(relative: str) -> Path:
    return Path(settings.MEDIA_ROOT) / relative


class StagedUpload(UploadedFile):
    """An uploaded file in the staging folder, with its SHA-256 computed while it was written.

    Closing it removes the temporary name (a stored copy made by ``blob_store`` stays).
    """

    def __init__(self, name: str, content_type: str, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self._temp: IO[bytes] = tempfile.NamedTemporaryFile(  # noqa: SIM115 - see close()
            dir=directory, prefix="upload-", suffix=".part"
        )
        super().__init__(self._temp, name, content_type, 0)
        # As the client sent it (UploadedFile shortens ``name`` without regard to ".nii.gz").
        self.client_name = name
        self._hash = hashlib.sha256()

    def write_chunk(self, data: bytes) -> None:
        self._temp.write(data)
        self._hash.update(data)

    def finish(self, size: int) -> None:
        self._temp.flush()
        self._temp.seek(0)
        self.size = size

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()

    def temporary_file_path(self) -> str:
        return str(self._temp.name)

    def close(self) -> None:
        # Kept files were linked, not moved, so the temporary name is normally still there.
        with contextlib.suppress(FileNotFoundError):
            self._temp.close()


class StagingUploadHandler(FileUploadHandler):
    """Streams every file part of a request into the staging folder; nothing is held in memory.

    ``discard()`` closes (and so removes) every temporary file it made, whatever happened.
    """

    chunk_size = 1024 * 1024

    def __init__(self, request: Any = None) -> None:
        super().__init__(request)
        self.staged: list[StagedUpload] = []
        self.current: StagedUpload | None = None

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.current = StagedUpload(
            self.file_name or "upload", self.content_type or "", staging_dir()
        )
        self.staged.append(self.current)
        raise StopFutureHandlers()

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        assert self.current is not None
        self.current.write_chunk(raw_data)
        return None

    def file_complete(self, file_size: int) -> StagedUpload | None:
        if self.current is None:
            return None
        upload, self.current = self.current, None
        upload.finish(file_size)
        return upload

    def upload_interrupted(self) -> None:
        self.discard()

    def discard(self) -> None:
        for upload in self.staged:
            upload.close()


def blob_store(upload: StagedUpload, relative: str) -> bool:
    """Links the staged file into the store at ``relative``; False when it was there already.

    A stored file of another size (damaged on disk) is replaced, atomically.
    """
    target = blob_path(relative)
    target.parent.mkdir(parents=True, exist_ok=True)
    source = upload.temporary_file_path()
    # Staged files are owner-only; the stored one is readable by the web server's group too
    # (nginx sends it with X-Accel-Redirect, deploy/README.md), as analysis artifacts are.
    os.chmod(source, 0o640)
    try:
        os.link(source, target)
        return True
    except FileExistsError:
        if target.stat().st_size == upload.size:
            return False
    replacement = target.with_name(f"{target.name}.{uuid.uuid4().hex}.replace")
    os.link(source, replacement)
    os.replace(replacement, target)
    return True


def blob_remove(relative: str) -> None:
    blob_path(relative).unlink(missing_ok=True)
