"""The generalized 3D U-Net of pyliverlesionseg 0.3, rebuilt in PyTorch for its two trained models.

pyliverlesionseg (Xikai Tang, Georg Schramm et al., KU Leuven, Apache-2.0) ships Keras weights of
two U-Nets: whole liver at 3 mm and liver lesions at 1x1x3 mm. This module is our own network with
the same graph, so ``training/imaging/convert_liver.py`` can map every Keras weight into it:

- Levels are joined by max pooling (factor 3 for the liver net, 2 for the lesion net). Each level
  has a down stage of two convolutions and, except the deepest, an up stage of two; every
  convolution but the network's first is preceded by instance normalisation
  ``(x - mean) / (std + 1e-7)`` (per sample and channel, over space; population std) and a leaky
  ReLU (slope 0.01). A 1x1x1 convolution gives the logits (Keras applies a sigmoid there; here
  the caller does).
- Kernels are (3, 3, 1) then (3, 3, 3) on the way down and (3, 3, 3) then (3, 3, 1) on the way up,
  on axes (x, y, z) of an RAS volume (the deepest liver stage is (3, 3, 3) twice).
- The liver net pads ``same`` and upsamples ``linear`` (Keras: repeat each voxel f times, then a
  stride-1 box average of width f, i.e. linear interpolation giving f*(n-1)+1 voxels): its output is
  the input less 13 voxels on each side, for inputs that are multiples of 27.
- The lesion net pads ``valid``, upsamples by copying and has residual stages (the stage input,
  centre-cropped, through a 1x1x1 convolution when the channel count changes, is added to the
  stage output): its output is the input less 44, 44 and 22 voxels on each side.
- Skip connections are centre-cropped to the upsampled map and concatenated before it.

The forward pass works in place where the graph allows, keeps only the cropped part of each skip
connection and computes instance-norm statistics by blocks, so memory stays near the largest two
or three full-resolution maps: measured in float32, a liver tile of 163x136x136 output voxels (the
package's patch) needs 1.6 GB, one of 136x109x136 1.15 GB, a lesion tile of 100x100x42 0.7 GB;
callers tile larger volumes. Nothing here reads files or knows about HU (``liver.py`` does).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn
from torch.nn import functional as F

Kernel = tuple[int, int, int]
Shape3 = tuple[int, int, int]

NORM_EPS = 1e-7  # Keras K.epsilon(), added to the standard deviation (not to the variance)
LEAKY_SLOPE = 0.01
_CHANNELS_LAST = torch.channels_last_3d
_UPSAMPLE_CHANNELS = 8  # channels upsampled at a time when merging (bounds the temporary)
_SHORTCUT_CHUNK_VOXELS = 1 << 20  # voxels per slab of a residual 1x1x1 convolution
_STATS_ROWS = 1 << 16  # voxels per block when summing a channels-last map


@dataclass(frozen=True)
class StageSpec:
    """Two convolutions: their output channel counts and kernels (axes x, y, z)."""

    features: tuple[int, int]
    kernels: tuple[Kernel, Kernel]

    def shrink(self, axis: int, padding: str) -> int:
        """Voxels a ``valid`` stage removes along ``axis`` (both sides together)."""
        return 0 if padding == "same" else sum(k[axis] - 1 for k in self.kernels)


@dataclass(frozen=True)
class UNetSpec:
    """One pyliverlesionseg U-Net configuration."""

    name: str
    factor: int
    down: tuple[StageSpec, ...]  # from full resolution to the deepest level
    up: tuple[StageSpec, ...]  # one per level but the deepest, from full resolution down
    padding: Literal["same", "valid"]
    upsample: Literal["linear", "copy"]
    residual: bool
    in_channels: int = 1

    def __post_init__(self) -> None:
        if len(self.up) != len(self.down) - 1:
            raise ValueError("a U-Net has one up stage per level but the deepest")


_DOWN_KERNELS: tuple[Kernel, Kernel] = ((3, 3, 1), (3, 3, 3))
_UP_KERNELS: tuple[Kernel, Kernel] = ((3, 3, 3), (3, 3, 1))
_UP_STAGES = (
    StageSpec((40, 20), _UP_KERNELS),
    StageSpec((80, 40), _UP_KERNELS),
    StageSpec((160, 80), _UP_KERNELS),
)

LIVER_SPEC = UNetSpec(
    name="liver",
    factor=3,
    down=(
        StageSpec((20, 40), _DOWN_KERNELS),
        StageSpec((40, 80), _DOWN_KERNELS),
        StageSpec((80, 160), _DOWN_KERNELS),
        StageSpec((160, 160), ((3, 3, 3), (3, 3, 3))),
    ),
    up=_UP_STAGES,
    padding="same",
    upsample="linear",
    residual=False,
)

LESION_SPEC = UNetSpec(
    name="lesion",
    factor=2,
    down=(
        StageSpec((20, 40), _DOWN_KERNELS),
        StageSpec((40, 80), _DOWN_KERNELS),
        StageSpec((80, 160), _DOWN_KERNELS),
        StageSpec((160, 160), _DOWN_KERNELS),
    ),
    up=_UP_STAGES,
    padding="valid",
    upsample="copy",
    residual=True,
)

SPECS: dict[str, UNetSpec] = {LIVER_SPEC.name: LIVER_SPEC, LESION_SPEC.name: LESION_SPEC}


def instance_norm_lrelu_(h: torch.Tensor) -> torch.Tensor:
    """Keras ``(x - mean) / (std + eps)`` over space per channel, then leaky ReLU, in place.

    For a channels-last map the statistics come from matrix products over blocks of voxels (two
    passes: the mean, then the spread about it), several times faster on CPU than ``var_mean``
    over the strided spatial axes.
    """
    if h.is_contiguous(memory_format=_CHANNELS_LAST) and not h.is_contiguous():
        for sample in h:
            rows = sample.permute(1, 2, 3, 0).reshape(-1, sample.shape[0])  # a view
            rows.sub_(_column_sums(rows, square=False).div_(rows.shape[0]).to(rows.dtype))
            var = _column_sums(rows, square=True).div_(rows.shape[0])
            rows.div_(var.sqrt_().add_(NORM_EPS).to(rows.dtype))
    else:
        var, mean = torch.var_mean(h, dim=(2, 3, 4), keepdim=True, correction=0)
        h.sub_(mean).div_(var.sqrt_().add_(NORM_EPS))
    return F.leaky_relu_(h, LEAKY_SLOPE)


def _column_sums(rows: torch.Tensor, square: bool) -> torch.Tensor:
    """Float64 sums of each column of ``rows`` (or of its squares), block by block."""
    block = min(_STATS_ROWS, rows.shape[0])
    # Reduced-precision maps are summed in float32 (bfloat16 sums would lose the statistics).
    dtype = rows.dtype if rows.dtype in (torch.float32, torch.float64) else torch.float32
    ones = torch.ones((1, block), dtype=dtype)
    buffer = torch.empty((block, rows.shape[1]), dtype=dtype)
    total = torch.zeros((1, rows.shape[1]), dtype=torch.float64)
    for r0 in range(0, rows.shape[0], block):
        part = rows[r0 : r0 + block]
        if dtype != rows.dtype:
            part = buffer[: part.shape[0]].copy_(part)
        if square:
            part = torch.mul(part, part, out=buffer[: part.shape[0]])
        total += (ones[:, : part.shape[0]] @ part).double()
    return total


def centre_crop(h: torch.Tensor, shape: Shape3) -> torch.Tensor:
    """The centre ``shape`` of ``h`` (a view); Keras ``Cropping3D`` with equal margins."""
    index: list[slice] = [slice(None), slice(None)]
    for n, m in zip(h.shape[2:], shape, strict=True):
        if (n - m) % 2 or n < m:
            raise ValueError(f"cannot centre-crop {tuple(h.shape[2:])} to {shape}")
        index.append(slice((n - m) // 2, (n - m) // 2 + m))
    return h[tuple(index)]


class Stage(nn.Module):
    """Two (norm, leaky ReLU, conv) steps, optionally residual (see the module docstring)."""

    def __init__(self, c_in: int, spec: StageSpec, padding: str, residual: bool) -> None:
        super().__init__()
        self.kernels = spec.kernels
        self.padding = padding
        channels = (c_in, *spec.features)
        self.convs = nn.ModuleList(
            nn.Conv3d(
                channels[i],
                channels[i + 1],
                kernel_size=k,
                padding=(k[0] // 2, k[1] // 2, k[2] // 2) if padding == "same" else 0,
            )
            for i, k in enumerate(spec.kernels)
        )
        self.residual = residual
        self.skip: nn.Conv3d | None = (
            nn.Conv3d(c_in, spec.features[-1], kernel_size=1)
            if residual and c_in != spec.features[-1]
            else None
        )

    def output_shape(self, shape: Shape3) -> Shape3:
        if self.padding == "same":
            return shape
        out = [n - sum(k[axis] - 1 for k in self.kernels) for axis, n in enumerate(shape)]
        return (out[0], out[1], out[2])

    def forward(self, h: torch.Tensor, normalize_input: bool = True) -> torch.Tensor:
        """``h`` is normalised in place when ``normalize_input``: pass a tensor nobody keeps."""
        kept: torch.Tensor | None = None
        term: torch.Tensor | None = None
        if self.residual:
            crop = centre_crop(h, self.output_shape(_spatial(h)))
            if self.skip is not None and self.skip.out_channels < self.skip.in_channels:
                term = self.skip(crop)  # smaller than the input it comes from
            else:
                kept = crop if not normalize_input else crop.clone()
        for i, conv in enumerate(self.convs):
            if i or normalize_input:
                h = instance_norm_lrelu_(h)
            h = conv(h)
        if term is not None:
            h.add_(term)
        elif kept is not None:
            _add_shortcut_(h, kept, self.skip)
        return h


class UNet3d(nn.Module):
    """The pyliverlesionseg U-Net for ``spec``: ``(N, C, x, y, z)`` in, logits out.

    The Keras model ends in a sigmoid: ``torch.sigmoid(net(x))`` is its output. Valid input
    shapes are those of ``spec``'s geometry (see ``output_shape``); the output
    ``(N, 1, *output_shape(input))`` is centred on the input.
    """

    def __init__(self, spec: UNetSpec) -> None:
        super().__init__()
        self.spec = spec
        down: list[Stage] = []
        c = spec.in_channels
        for stage in spec.down:
            down.append(Stage(c, stage, spec.padding, spec.residual))
            c = stage.features[-1]
        up: list[Stage] = []
        for level, stage in enumerate(spec.up):
            # The concatenation: the skip of this level, then the upsampled deeper map.
            deeper = spec.down[-1] if level == len(spec.up) - 1 else spec.up[level + 1]
            c_cat = spec.down[level].features[-1] + deeper.features[-1]
            up.append(Stage(c_cat, stage, spec.padding, spec.residual))
        self.down = nn.ModuleList(down)
        self.up = nn.ModuleList(up)
        self.head = nn.Conv3d(spec.up[0].features[-1], 1, kernel_size=1)

    # Geometry ------------------------------------------------------------------------------

    def _trace_axis(self, n: int, axis: int) -> tuple[int, list[int]] | None:
        """Along one axis: the output size and, per level but the deepest, the size of the
        upsampled map (where that level's skip is cropped to); None when ``n`` is not valid."""
        f = self.spec.factor
        pad = self.spec.padding
        skips: list[int] = []
        for level, stage in enumerate(self.spec.down):
            if level:
                if n % f:
                    return None
                n //= f
            n -= stage.shrink(axis, pad)
            if n < 1:
                return None
            skips.append(n)
        targets = [0] * len(self.spec.up)
        for level in reversed(range(len(self.spec.up))):
            n = f * (n - 1) + 1 if self.spec.upsample == "linear" else f * n
            if skips[level] < n or (skips[level] - n) % 2:
                return None
            targets[level] = n
            n -= self.spec.up[level].shrink(axis, pad)
            if n < 1:
                return None
        return n, targets

    def _trace(self, shape: Shape3) -> tuple[Shape3, list[Shape3]] | None:
        axes = [self._trace_axis(n, axis) for axis, n in enumerate(shape)]
        if any(a is None for a in axes):
            return None
        (ox, tx), (oy, ty), (oz, tz) = (a for a in axes if a is not None)
        return (ox, oy, oz), list(zip(tx, ty, tz, strict=True))

    def output_shape(self, shape: Shape3) -> Shape3:
        """The output's spatial shape for an input of spatial ``shape`` (ValueError if invalid)."""
        traced = self._trace(shape)
        if traced is None:
            raise ValueError(f"{self.spec.name} U-Net: {shape} is not a valid input shape")
        return traced[0]

    def input_size(self, min_output: int, axis: int) -> int:
        """The smallest valid input size along ``axis`` whose output is at least ``min_output``."""
        n = max(min_output, 1)
        while True:
            traced = self._trace_axis(n, axis)
            if traced is not None and traced[0] >= min_output:
                return n
            n += 1

    def margin(self, axis: int) -> int:
        """Input voxels on each side of the output along ``axis`` (the same for every valid
        size: the output is the centre of the input)."""
        n = self.input_size(1, axis)
        traced = self._trace_axis(n, axis)
        assert traced is not None
        return (n - traced[0]) // 2

    # Forward -------------------------------------------------------------------------------

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        traced = self._trace(_spatial(x))
        if traced is None:
            raise ValueError(
                f"{self.spec.name} U-Net: {tuple(x.shape[2:])} is not a valid input shape"
            )
        _, targets = traced
        skips: list[torch.Tensor] = []
        h = x
        for level, stage in enumerate(self.down):
            if level:
                h = F.max_pool3d(h, self.spec.factor)
            h = stage(h, normalize_input=level > 0)
            if level < len(self.up):
                # Keep only what the up stage will concatenate (the crop is a fresh tensor).
                skip = centre_crop(h, targets[level])
                if skip.shape != h.shape:
                    skip = skip.contiguous(memory_format=_memory_format(h))
                skips.append(skip)
        for level in reversed(range(len(self.up))):
            h = self._merge(skips.pop(), h)
            h = self.up[level](h, normalize_input=True)
        return self.head(instance_norm_lrelu_(h))

    def _merge(self, left: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """``cat([left, upsample(h)])`` without a full-size temporary of the upsampled map."""
        c_left, c_h = left.shape[1], h.shape[1]
        out = torch.empty(
            (left.shape[0], c_left + c_h, *left.shape[2:]),
            dtype=left.dtype,
            device=left.device,
            memory_format=_memory_format(left),
        )
        out[:, :c_left] = left
        size = _spatial(left)
        for c0 in range(0, c_h, _UPSAMPLE_CHANNELS):
            part = h[:, c0 : c0 + _UPSAMPLE_CHANNELS]
            if self.spec.upsample == "linear":
                up = F.interpolate(part, size=size, mode="trilinear", align_corners=True)
            else:
                up = F.interpolate(part, scale_factor=float(self.spec.factor), mode="nearest")
            out[:, c_left + c0 : c_left + c0 + part.shape[1]] = up
        return out


def _add_shortcut_(h: torch.Tensor, kept: torch.Tensor, skip: nn.Conv3d | None) -> None:
    """``h += skip(kept)`` a slab at a time (slabs along x are contiguous in channels-last), the
    1x1x1 convolution as a matrix product over channels: no full-size temporary, and fast even
    for one input channel (where a convolution kernel is slow)."""
    plane = max(1, h.shape[0] * h.shape[3] * h.shape[4])
    step = max(1, _SHORTCUT_CHUNK_VOXELS // plane)
    weight = bias = None
    if skip is not None:
        weight = skip.weight.reshape(skip.out_channels, skip.in_channels).t()
        bias = skip.bias
    for x0 in range(0, h.shape[2], step):
        out = h[:, :, x0 : x0 + step]
        part = kept[:, :, x0 : x0 + step]
        if weight is None:
            out += part
            continue
        if out.is_contiguous(memory_format=_CHANNELS_LAST):
            rows = out.permute(0, 2, 3, 4, 1).reshape(-1, out.shape[1])  # a view of ``h``
            src = part.permute(0, 2, 3, 4, 1).reshape(-1, part.shape[1])
            rows.addmm_(src, weight)
            if bias is not None:
                rows += bias
        else:
            assert skip is not None
            out += skip(part)


def _spatial(h: torch.Tensor) -> Shape3:
    return (int(h.shape[2]), int(h.shape[3]), int(h.shape[4]))


def _memory_format(h: torch.Tensor) -> torch.memory_format:
    return (
        _CHANNELS_LAST if h.is_contiguous(memory_format=_CHANNELS_LAST) else torch.contiguous_format
    )


def build_unet(spec_name: str) -> UNet3d:
    """An untrained network of the named spec (``"liver"`` or ``"lesion"``), in eval mode."""
    net = UNet3d(SPECS[spec_name])
    net.eval()
    return net
