"""Loading of the two omics data sets from ``CDSS_DATASETS_DIR`` into plain numpy arrays.

ROSMAP comes from MOGONET's preprocessed release (three views, 200 features each, fixed 245/106
split). TCGA-PAAD comes from paad-survival-bench (miRNA, copy number, clinical; the 100/45 split
in ``rds/data_split.rds`` indexes the 145 patients with a follow-up time above zero, in file order,
exactly as that benchmark's ``prepare_tasks.R`` builds them).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from training.omics.rds import read_int_vector_list

REPO_ROOT = Path(__file__).resolve().parents[2]
ROSMAP_VIEWS = ("mrna", "methylation", "mirna")
ROSMAP_LABELS = ("control", "AD")  # index = the label value in labels_*.csv


def datasets_dir() -> Path:
    """``CDSS_DATASETS_DIR`` or ``<repo>/../shared/datasets``."""
    env = os.environ.get("CDSS_DATASETS_DIR", "").strip()
    return Path(env) if env else REPO_ROOT.parent / "shared" / "datasets"


@dataclass(frozen=True)
class RosmapData:
    """Per view: train and test matrices (rows = samples) and feature ids; labels 1 = AD."""

    x_train: dict[str, np.ndarray]
    x_test: dict[str, np.ndarray]
    features: dict[str, list[str]]
    y_train: np.ndarray
    y_test: np.ndarray
    source: Path


def load_rosmap(root: Path | None = None) -> RosmapData:
    folder = (root or datasets_dir()) / "omics" / "rosmap_mogonet"
    if not folder.is_dir():
        raise FileNotFoundError(f"ROSMAP data not found at {folder} (set CDSS_DATASETS_DIR)")

    def matrix(name: str) -> np.ndarray:
        return np.loadtxt(folder / name, delimiter=",", ndmin=2)

    x_train, x_test, features = {}, {}, {}
    for number, view in enumerate(ROSMAP_VIEWS, start=1):
        x_train[view] = matrix(f"{number}_tr.csv")
        x_test[view] = matrix(f"{number}_te.csv")
        names = (folder / f"{number}_featname.csv").read_text(encoding="utf-8").split()
        if len(names) != x_train[view].shape[1] or x_test[view].shape[1] != len(names):
            raise ValueError(f"ROSMAP view {view}: feature names do not match the matrices")
        features[view] = names
    y_train = np.loadtxt(folder / "labels_tr.csv").astype(int)
    y_test = np.loadtxt(folder / "labels_te.csv").astype(int)
    for view in ROSMAP_VIEWS:
        if len(x_train[view]) != len(y_train) or len(x_test[view]) != len(y_test):
            raise ValueError(f"ROSMAP view {view}: row counts do not match the labels")
    return RosmapData(x_train, x_test, features, y_train, y_test, folder)


@dataclass(frozen=True)
class PaadData:
    """The 145 usable TCGA-PAAD patients: omics blocks, raw clinical table, survival, split."""

    patients: list[str]
    mirna: np.ndarray
    mirna_features: list[str]
    cnv: np.ndarray
    cnv_features: list[str]
    clinical: pd.DataFrame
    time: np.ndarray  # days
    event: np.ndarray  # 1 = death observed
    train_idx: np.ndarray  # 0-based rows of the 145
    test_idx: np.ndarray
    source: Path


def load_paad(root: Path | None = None) -> PaadData:
    folder = (root or datasets_dir()) / "omics" / "tcga_paad"
    if not folder.is_dir():
        raise FileNotFoundError(f"TCGA-PAAD data not found at {folder} (set CDSS_DATASETS_DIR)")
    clinical = pd.read_csv(folder / "clinical.csv")
    mirna = pd.read_csv(folder / "mirna_mat.csv.gz")
    cnv = pd.read_csv(folder / "cna_snp_mat.csv.gz")
    if not (clinical.patient.equals(mirna.patient) and clinical.patient.equals(cnv.patient)):
        raise ValueError("TCGA-PAAD: patient order differs between the clinical and omics files")
    dead = clinical.vital_status.to_numpy() == 1
    time = np.where(dead, clinical.days_to_death, clinical.days_to_last_followup).astype(float)
    keep = np.isfinite(time) & (time > 0)
    train, test = read_int_vector_list(folder / "rds" / "data_split.rds")
    train_idx, test_idx = np.asarray(train) - 1, np.asarray(test) - 1
    n = int(keep.sum())
    if set(train_idx) & set(test_idx) or max(train_idx.max(), test_idx.max()) >= n:
        raise ValueError("TCGA-PAAD: the data split does not fit the 145 usable patients")
    return PaadData(
        patients=clinical.patient[keep].tolist(),
        mirna=mirna.iloc[:, 1:].to_numpy(float)[keep],
        mirna_features=list(mirna.columns[1:]),
        cnv=cnv.iloc[:, 1:].to_numpy(float)[keep],
        cnv_features=list(cnv.columns[1:]),
        clinical=clinical[keep].reset_index(drop=True),
        time=time[keep],
        event=dead[keep].astype(int),
        train_idx=train_idx,
        test_idx=test_idx,
        source=folder,
    )
