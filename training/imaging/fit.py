"""Training one AdrenalNet: seeded, CPU-friendly, flip/shift augmentation, one-cycle schedule."""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch.nn import functional as F

from inference.engines.imaging.network import AdrenalNet, predict_proba
from training.imaging.metrics import auc

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FitConfig:
    """Hyper-parameters of one run (chosen on train/val only)."""

    input_size: int = 28
    width: int = 8
    dropout: float = 0.3
    epochs: int = 12
    batch_size: int = 64
    lr: float = 3e-3
    weight_decay: float = 1e-3
    max_shift: int = 2
    seed: int = 0

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def _augment(x: torch.Tensor, gen: torch.Generator, max_shift: int) -> torch.Tensor:
    """Random flip along each axis and a random integer shift, per sample."""
    x = x.clone()
    n = x.shape[0]
    for d in (2, 3, 4):
        sel = torch.rand(n, generator=gen) < 0.5
        if sel.any():
            x[sel] = torch.flip(x[sel], (d,))
    if max_shift > 0:
        shifts = torch.randint(-max_shift, max_shift + 1, (n, 3), generator=gen)
        for i in range(n):
            x[i] = torch.roll(x[i], shifts=tuple(int(s) for s in shifts[i]), dims=(1, 2, 3))
    return x


def fit(
    cfg: FitConfig,
    x_train: torch.Tensor,
    y_train: np.ndarray,
    x_val: torch.Tensor | None = None,
    y_val: np.ndarray | None = None,
) -> tuple[AdrenalNet, list[dict[str, float]]]:
    """Train from scratch; the final-epoch model and a per-epoch history (val AUC if given)."""
    torch.manual_seed(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    model = AdrenalNet(cfg.input_size, cfg.width, cfg.dropout)
    model.to(memory_format=torch.channels_last_3d)  # type: ignore[call-overload]  # stubs lack it
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps_per_epoch = int(np.ceil(len(x_train) / cfg.batch_size))
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=cfg.lr, total_steps=cfg.epochs * steps_per_epoch, pct_start=0.15
    )
    y_t = torch.as_tensor(y_train, dtype=torch.float32)
    history: list[dict[str, float]] = []
    for epoch in range(cfg.epochs):
        t0 = time.perf_counter()
        model.train()
        perm = torch.randperm(len(x_train), generator=gen)
        total = 0.0
        for i in range(0, len(perm), cfg.batch_size):
            idx = perm[i : i + cfg.batch_size]
            if len(idx) < 2:
                continue
            xb = _augment(x_train[idx], gen, cfg.max_shift).contiguous(
                memory_format=torch.channels_last_3d
            )
            loss = F.binary_cross_entropy_with_logits(model(xb), y_t[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach()) * len(idx)
        row = {
            "epoch": epoch + 1,
            "train_loss": total / len(x_train),
            "seconds": time.perf_counter() - t0,
        }
        if x_val is not None and y_val is not None:
            row["val_auc"] = auc(y_val, predict_proba(model, x_val, tta=False))
        history.append(row)
        log.info("size=%d seed=%d %s", cfg.input_size, cfg.seed, row)
    model.eval()
    return model, history
