"""The adrenal-mass classifier network: a small 3D CNN over a binary adrenal shape mask.

Shared by the training code (``training.imaging``) and the engine, so a state_dict written by one
loads into the other, and both prepare inputs with ``to_model_input``. Input contract (as in
AdrenalMNIST3D): a 64 mm cube at 1 mm voxels centred on the gland's centroid, values in [0, 1];
the 28^3 model sees that cube area-downsampled. Output: one logit per sample (mass vs normal).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

CUBE_MM = 64
INPUT_SIZES = (28, 64)


def _block(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv3d(c_in, c_out, kernel_size=3, padding=1, bias=False),
        nn.BatchNorm3d(c_out),
        nn.ReLU(inplace=True),
    )


class AdrenalNet(nn.Module):
    """A stem, three conv stages with max-pooling, global average pooling and a linear head.

    The 64^3 model's stem has stride 2, so both input sizes reach a similar grid (14^3 / 16^3)
    after the first pooling and cost about the same.
    """

    def __init__(self, input_size: int = 28, width: int = 12, dropout: float = 0.3) -> None:
        super().__init__()
        if input_size not in INPUT_SIZES:
            raise ValueError(f"input_size must be one of {INPUT_SIZES}, got {input_size}")
        self.input_size = input_size
        w = width
        stem: nn.Module
        if input_size == 64:
            stem = nn.Sequential(
                nn.Conv3d(1, w, kernel_size=4, stride=2, padding=1, bias=False),
                nn.BatchNorm3d(w),
                nn.ReLU(inplace=True),
            )
        else:
            stem = _block(1, w)
        self.features = nn.Sequential(
            stem,
            nn.MaxPool3d(2),
            _block(w, 2 * w),
            _block(2 * w, 2 * w),
            nn.MaxPool3d(2),
            _block(2 * w, 4 * w),
            _block(4 * w, 4 * w),
            nn.MaxPool3d(2),
            _block(4 * w, 8 * w),
            nn.AdaptiveAvgPool3d(1),
        )
        self.head = nn.Sequential(nn.Flatten(), nn.Dropout(dropout), nn.Linear(8 * w, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x)).squeeze(1)


def to_model_input(cubes: np.ndarray | torch.Tensor, size: int) -> torch.Tensor:
    """Turn ``(N, 64, 64, 64)`` masks (any numeric type, nonzero = gland) into ``(N, 1, S, S, S)``.

    Downsampling uses area averaging, so the 28^3 input keeps partial-volume fractions.
    """
    t = torch.as_tensor(np.asarray(cubes) if not isinstance(cubes, torch.Tensor) else cubes)
    if t.ndim != 4 or tuple(t.shape[1:]) != (CUBE_MM, CUBE_MM, CUBE_MM):
        raise ValueError(f"expected (N, 64, 64, 64) masks, got {tuple(t.shape)}")
    x = (t > 0).to(torch.float32).unsqueeze(1)
    if size != CUBE_MM:
        x = F.interpolate(x, size=(size, size, size), mode="area")
    return x


def flip_views(x: torch.Tensor) -> list[torch.Tensor]:
    """The 8 combinations of flips along the three spatial axes (test-time augmentation)."""
    views = []
    for mask in range(8):
        dims = [d + 2 for d in range(3) if mask >> d & 1]
        views.append(torch.flip(x, dims) if dims else x)
    return views


@torch.no_grad()
def predict_proba(
    model: nn.Module, x: torch.Tensor, *, tta: bool = True, batch: int = 64
) -> np.ndarray:
    """Probability of "mass" per sample, averaged over the 8 flip views when ``tta``.

    The views of a chunk go through the network as one batch (much faster on CPU than 8 calls).
    """
    model.eval()
    out = []
    chunk = max(batch // 8, 1) if tta else batch
    for i in range(0, len(x), chunk):
        xb = x[i : i + chunk]
        views = flip_views(xb) if tta else [xb]
        batch_x = torch.cat(views).contiguous(memory_format=torch.channels_last_3d)
        logits = model(batch_x).reshape(len(views), len(xb))
        out.append(torch.sigmoid(logits).mean(0))
    return torch.cat(out).numpy().astype(np.float64) if out else np.zeros(0)
