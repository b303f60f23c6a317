"""Locating and loading AdrenalMNIST3D (64^3 masks, official train/val/test splits)."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[2]
DATASET_REL = Path("imaging/adrenalmnist3d_64/adrenalmnist3d_64.npz")
OFFICIAL_MD5 = "17721accfe9fb005146a47d33bc54b2f"


def datasets_dir() -> Path:
    """``CDSS_DATASETS_DIR`` or ``<repo>/../shared/datasets``."""
    return Path(os.environ.get("CDSS_DATASETS_DIR", REPO_ROOT.parent / "shared" / "datasets"))


@dataclass(frozen=True)
class Split:
    """Masks ``(N, 64, 64, 64)`` uint8 {0, 255} and labels ``(N,)`` (1 = mass)."""

    images: np.ndarray
    labels: np.ndarray


def file_md5(path: Path) -> str:
    h = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def load_adrenal(path: Path | None = None) -> dict[str, Split]:
    """The three official splits keyed ``train``, ``val``, ``test``."""
    path = path or datasets_dir() / DATASET_REL
    if not path.is_file():
        raise FileNotFoundError(f"AdrenalMNIST3D not found at {path} (set CDSS_DATASETS_DIR)")
    with np.load(path) as d:
        return {
            s: Split(images=d[f"{s}_images"], labels=d[f"{s}_labels"].ravel().astype(np.int64))
            for s in ("train", "val", "test")
        }
