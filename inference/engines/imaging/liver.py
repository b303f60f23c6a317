"""Liver and liver-lesion segmentation of a CT volume with the converted pyliverlesionseg U-Nets.

``LiverSegmenter.load(model_dir)`` reads a version folder of ``models/liver/`` (``liver_unet.pt``,
``lesion_unet.pt`` and ``liver_config.json``, written by ``training/imaging/convert_liver.py``).
``segment(volume)`` returns both masks on the volume's own grid (RAS, its shape), the liver's
volume and mean HU, and one row per lesion candidate, largest first.

Liver (3 mm net). The preprocessing the net was trained with: resample to 1.5 mm, 3x3x3 median,
resample to 3 mm, window [-200, 200] HU -> [-0.5, 0.5]. The net then sees the body's in-plane box
over all slices, with 0 around it (the package's padding value), never the package's guess of
where the liver lies (its cropping heuristic cuts off the liver dome on some scans: Dice 0.62
instead of 0.96). The net normalises each tile by the tile's own statistics, so context matters:
one tile just covering the body when it fits the package's patch (489x408x408 mm); otherwise
tiles of at most that patch, then one more tile centred on the liver they found, which replaces
them where it reaches. The 0.5-thresholded probability is opened as the package does
(18-connected erosion, largest 6-connected component, dilation), and the probability inside what
is kept is resampled linearly onto the volume grid and thresholded at 0.5.

Lesions (1x1x3 mm net), only around the liver: the windowed volume is resampled there, set to
-0.5 outside the liver dilated by two 18-connected steps and cut to that box (tiles reaching
beyond it see 0, as in the package). Tiles are at least the 92x84x42 voxels the net was trained
on, at most a fifth more per axis, on a grid over the liver's box, and only where there is
liver. The 0.5-thresholded probability, resampled to the volume grid and kept inside the liver,
is the lesion mask; connected lesions (26-connectivity) under ``MIN_LESION_ML`` are dropped.
Lesions are decision support, unvalidated on our data.

Resampling is separable (one small weight matrix per axis: linear interpolation when refining,
area averaging when coarsening, as pymirc's ``zoom3d`` that the package used; edges repeated) and
done a few slices at a time: no float64 and no second full-size copy of a large volume. Torch runs
under ``inference_mode`` with ``threads`` threads (restored afterwards).
"""

from __future__ import annotations

import json
import math
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from itertools import product
from pathlib import Path
from typing import Any

import numpy as np
import torch
from scipy import ndimage
from scipy.spatial import ConvexHull, QhullError

from inference.engines.imaging.unet import Shape3, UNet3d, build_unet
from inference.engines.imaging.volume import Volume

CONFIG_FILE = "liver_config.json"
MODEL_NAME = "liver-lesion-unet"

HU_WINDOW = 200.0  # the package's window: clip(HU / 1000, -0.2, 0.2) * 2.5 -> [-0.5, 0.5]
PAD_VALUE = 0.0  # what the package feeds its nets beyond the image
OUTSIDE_LIVER = -0.5  # the lesion net's input outside the dilated liver
THRESHOLD = 0.5
LESION_DILATION_STEPS = 2  # the package's dilation of the liver before the lesion net
# Connected lesion candidates smaller than this are dropped: 0.1 mL is a sphere of 5.8 mm, about
# four voxels of the lesion net's 1x1x3 mm grid, below which its output is mostly edge noise.
MIN_LESION_ML = 0.1
DEFAULT_THREADS = 2

# The largest output tile of each net: the package's own (the liver's is 489x408x408 mm). Both nets
# normalise each tile by its own statistics, so tiles keep the context they were trained with:
# the liver net loses Dice on smaller tiles (0.92 instead of 0.96 with two tiles along z on the
# example CT).
LIVER_TILE: Shape3 = (163, 136, 136)
# The lesion net was trained on 92x84x42 tiles: ours are at least that, and up to a fifth more
# per axis, which halves the work (4 tiles cover the example CT's liver instead of 9).
LESION_TRAINED_TILE: Shape3 = (92, 84, 42)
LESION_TILE: Shape3 = (108, 100, 50)
BODY_HU = -150.0  # the body's in-plane box: the largest region above this (the package's value)
BODY_MARGIN = 2  # voxels of the liver net's grid around that box

_S18 = ndimage.generate_binary_structure(3, 2)
_S26 = np.ones((3, 3, 3), dtype=bool)
_CHUNK_VOXELS = 4 << 20  # output voxels resampled at a time


@dataclass
class LiverOutput:
    """Masks on the volume's grid (RAS, its shape) and what was measured on them."""

    liver: np.ndarray
    lesions: np.ndarray
    lesion_rows: list[dict[str, Any]]
    liver_volume_ml: float
    liver_hu_mean: float  # 0.0 when no liver was found
    timings_s: dict[str, float] = field(default_factory=dict)


# Grids and resampling ------------------------------------------------------------------------


@dataclass(frozen=True)
class Grid:
    """Voxel centres at ``origin + i * step`` along each axis, in voxel-index units of the volume
    (the volume itself is ``origin 0, step 1``; a 3 mm grid has ``step = 3 / spacing``)."""

    shape: Shape3
    origin: tuple[float, float, float]
    step: tuple[float, float, float]

    @classmethod
    def of_volume(cls, shape: Shape3) -> Grid:
        return cls(shape, (0.0, 0.0, 0.0), (1.0, 1.0, 1.0))

    @classmethod
    def covering(cls, lo: np.ndarray, hi: np.ndarray, step: np.ndarray) -> Grid:
        """The grid of ``step`` centred on volume voxels ``lo..hi`` (inclusive) that covers them,
        as ``zoom3d`` of pymirc lays out its output (the package's resampler)."""
        shape = [
            max(1, math.ceil((h - lo_ + 1) / s - 1e-6))
            for lo_, h, s in zip(lo, hi, step, strict=True)
        ]
        origin = [
            (lo_ + h) / 2 - (n - 1) / 2 * s
            for lo_, h, n, s in zip(lo, hi, shape, step, strict=True)
        ]
        return cls(_shape3(shape), _float3(origin), _float3(step))

    def box(self, start: np.ndarray, stop: np.ndarray) -> Grid:
        """The part of this grid from voxel ``start`` to ``stop`` (exclusive)."""
        return Grid(
            _shape3(np.asarray(stop) - np.asarray(start)),
            _float3(np.asarray(self.origin) + np.asarray(start) * np.asarray(self.step)),
            self.step,
        )

    def centres(self, axis: int) -> np.ndarray:
        return self.origin[axis] + np.arange(self.shape[axis]) * self.step[axis]

    def extent(self) -> tuple[np.ndarray, np.ndarray]:
        """Volume-index coordinates of the first and last voxel centres."""
        o, s = np.asarray(self.origin), np.asarray(self.step)
        return o, o + (np.asarray(self.shape) - 1) * s


def _shape3(v: Any) -> Shape3:
    return (int(v[0]), int(v[1]), int(v[2]))


def _float3(v: Any) -> tuple[float, float, float]:
    return (float(v[0]), float(v[1]), float(v[2]))


def axis_weights(src: Grid, dst: Grid, axis: int) -> np.ndarray:
    """``(dst n, src n)`` float32 weights from ``src`` to ``dst`` along ``axis``.

    Refining (dst step <= src step): linear interpolation. Coarsening: the average of the source
    voxels under each destination voxel, by overlap (area). Beyond the source its edge voxels are
    repeated. Each row sums to 1.
    """
    n = src.shape[axis]
    pos = (dst.centres(axis) - src.origin[axis]) / src.step[axis]
    ratio = dst.step[axis] / src.step[axis]
    j = np.arange(n, dtype=np.float64)[None, :]
    if ratio > 1.0 + 1e-6:
        lo = np.clip(pos - ratio / 2, -0.5, n - 0.5)[:, None]
        hi = np.clip(pos + ratio / 2, -0.5, n - 0.5)[:, None]
        w = np.clip(np.minimum(hi, j + 0.5) - np.maximum(lo, j - 0.5), 0.0, None)
        empty = w.sum(axis=1) <= 0
        if empty.any():  # wholly beyond the source: the nearest edge voxel
            w[empty] = np.abs(j - np.clip(pos[empty], 0, n - 1)[:, None]) < 0.5 + 1e-9
    else:
        p = np.clip(pos, 0, n - 1)[:, None]
        w = np.clip(1.0 - np.abs(j - p), 0.0, None)
    w /= w.sum(axis=1, keepdims=True)
    return w.astype(np.float32)


def _source_range(w: np.ndarray) -> tuple[int, int]:
    used = np.flatnonzero(w.any(axis=0))
    return int(used[0]), int(used[-1]) + 1


def _resample_chunks(data: np.ndarray, src: Grid, dst: Grid, transform: Any = None) -> Any:
    """Yield ``(z0, z1, block)``: ``data`` (on ``src``) resampled onto ``dst`` slices z0..z1.

    ``transform`` (float32 ndarray -> ndarray) is applied to each source slab first (windowing).
    """
    w = [axis_weights(src, dst, axis) for axis in range(3)]
    x0, x1 = _source_range(w[0])
    y0, y1 = _source_range(w[1])
    wx = torch.from_numpy(np.ascontiguousarray(w[0][:, x0:x1]))
    wy = torch.from_numpy(np.ascontiguousarray(w[1][:, y0:y1]))
    plane = max(1, dst.shape[0] * dst.shape[1], (x1 - x0) * (y1 - y0))
    step = max(1, _CHUNK_VOXELS // plane)
    for z0 in range(0, dst.shape[2], step):
        z1 = min(z0 + step, dst.shape[2])
        wz = w[2][z0:z1]
        s0, s1 = _source_range(wz)
        slab = data[x0:x1, y0:y1, s0:s1]
        if transform is not None:  # on a copy: the source is never changed
            slab = transform(np.array(slab, dtype=np.float32))
        t = torch.from_numpy(np.ascontiguousarray(slab, dtype=np.float32))
        t = torch.tensordot(
            t, torch.from_numpy(np.ascontiguousarray(wz[:, s0:s1])), dims=([2], [1])
        )
        t = torch.tensordot(wx, t, dims=([1], [0]))  # (dst x, src y, z)
        t = torch.tensordot(wy, t, dims=([1], [1]))  # (dst y, dst x, z)
        yield z0, z1, t.permute(1, 0, 2).numpy()


def resample(data: np.ndarray, src: Grid, dst: Grid, transform: Any = None) -> np.ndarray:
    """``data`` (on ``src``) resampled onto ``dst`` as float32."""
    out = np.empty(dst.shape, dtype=np.float32)
    for z0, z1, block in _resample_chunks(data, src, dst, transform):
        out[:, :, z0:z1] = block
    return out


def resample_mask(data: np.ndarray, src: Grid, dst: Grid, threshold: float) -> np.ndarray:
    """Where ``data`` (on ``src``) resampled onto ``dst`` reaches ``threshold`` (bool)."""
    out = np.empty(dst.shape, dtype=bool)
    for z0, z1, block in _resample_chunks(data, src, dst):
        out[:, :, z0:z1] = block >= threshold
    return out


def window(hu: np.ndarray) -> np.ndarray:
    """HU -> the nets' input range [-0.5, 0.5] (in place on a float32 slab)."""
    np.clip(hu, -HU_WINDOW, HU_WINDOW, out=hu)
    hu *= 0.5 / HU_WINDOW
    return hu


def median3(data: np.ndarray, threads: int) -> np.ndarray:
    """3x3x3 median filter (scipy's, edges reflected), in slabs on ``threads`` threads."""
    n = data.shape[2]
    parts = max(1, min(threads, n // 8))
    bounds = np.linspace(0, n, parts + 1).astype(int)

    def one(i: int) -> np.ndarray:
        z0, z1 = int(bounds[i]), int(bounds[i + 1])
        lo, hi = max(z0 - 1, 0), min(z1 + 1, n)
        return ndimage.median_filter(data[:, :, lo:hi], size=3)[:, :, z0 - lo : z0 - lo + z1 - z0]

    if parts == 1:
        return one(0)
    out = np.empty_like(data)
    with ThreadPoolExecutor(parts) as pool:
        for i, block in enumerate(pool.map(one, range(parts))):
            out[:, :, bounds[i] : bounds[i + 1]] = block
    return out


# Tiled inference -----------------------------------------------------------------------------


def tile_size(net: UNet3d, shape: Shape3, max_tile: Shape3, min_tile: Shape3 = (1, 1, 1)) -> Shape3:
    """Output size of the fewest tiles of at most ``max_tile`` that cover ``shape``: along each
    axis the smallest valid size covering an even split (one tile when the axis fits), and at
    least ``min_tile`` (the context a net was trained with)."""
    sizes = []
    for axis, n in enumerate(shape):
        count = math.ceil(n / max_tile[axis])
        need = max(math.ceil(n / count), min_tile[axis])
        sizes.append(net.input_size(need, axis) - 2 * net.margin(axis))
    return _shape3(sizes)


def grid_starts(shape: Shape3, tile: Shape3) -> list[tuple[int, int, int]]:
    """Starts of a regular grid of ``tile``-sized tiles covering ``shape``."""
    return [_shape3(s) for s in product(*(_starts(n, t) for n, t in zip(shape, tile, strict=True)))]


def _starts(n: int, size: int) -> list[int]:
    """Tile starts covering ``0..n`` with tiles of ``size`` (centred when one is larger)."""
    if size >= n:
        return [-((size - n) // 2)]
    count = math.ceil(n / size)
    return [round(i * (n - size) / (count - 1)) for i in range(count)]


def covering_tiles(net: UNet3d, needed: np.ndarray) -> tuple[Shape3, list[tuple[int, int, int]]]:
    """The fewest ``LESION_TILE``-bounded tiles on a regular grid over the box of ``needed`` that
    cover it, less those without a needed voxel: their output size and starts."""
    box = _bbox(needed)
    if box is None:
        return LESION_TILE, []
    lo, hi = box
    extent = _shape3(hi - lo + 1)
    tile = tile_size(net, extent, LESION_TILE, LESION_TRAINED_TILE)
    starts = [_shape3(np.array(s) + lo) for s in grid_starts(extent, tile)]
    return tile, needed_starts(starts, tile, needed)


def needed_starts(
    starts: list[tuple[int, int, int]], tile: Shape3, needed: np.ndarray
) -> list[tuple[int, int, int]]:
    """The tiles of ``starts`` whose output holds a ``needed`` voxel."""
    if not starts:
        return []
    shape = np.array(needed.shape)
    first = np.array(starts)
    lo = np.clip(first, 0, shape)
    hi = np.clip(first + np.array(tile), 0, shape)
    counts = _box_sums(_summed_table(needed), lo, hi)
    return [s for s, c in zip(starts, counts, strict=True) if c > 0]


def _summed_table(mask: np.ndarray) -> np.ndarray:
    table = np.zeros(tuple(n + 1 for n in mask.shape), dtype=np.int64)
    table[1:, 1:, 1:] = mask.cumsum(0, dtype=np.int64).cumsum(1).cumsum(2)
    return table


def _box_sums(table: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Counts inside the boxes ``lo .. hi`` (rows of voxel indices) from a summed table."""
    (x0, y0, z0), (x1, y1, z1) = lo.T, hi.T
    return (
        table[x1, y1, z1]
        - table[x0, y1, z1]
        - table[x1, y0, z1]
        - table[x1, y1, z0]
        + table[x0, y0, z1]
        + table[x0, y1, z0]
        + table[x1, y0, z0]
        - table[x0, y0, z0]
    )


def run_tiled(
    net: UNet3d,
    image: np.ndarray,
    tile: Shape3,
    starts: list[tuple[int, int, int]],
    pad_value: float = PAD_VALUE,
) -> np.ndarray:
    """The net's probability over ``image`` (float32, the net's own grid) from output tiles of
    ``tile`` at ``starts``, averaged where they overlap (0 where none reaches); the input beyond
    ``image`` is ``pad_value``."""
    shape = _shape3(image.shape)
    margin = np.array([net.margin(axis) for axis in range(3)])
    size = np.array(tile)
    total = np.zeros(shape, dtype=np.float32)
    hits = np.zeros(shape, dtype=np.uint8)
    for start_ in starts:
        start = np.array(start_)
        lo = np.maximum(start, 0)
        hi = np.minimum(start + size, shape)
        x = _window_of(image, start - margin, size + 2 * margin, pad_value)
        t = torch.from_numpy(x)[None, None].to(_dtype_of(net))
        t = t.contiguous(memory_format=torch.channels_last_3d)
        prob = torch.sigmoid(net(t).float())[0, 0].numpy()
        region = tuple(slice(a, b) for a, b in zip(lo, hi, strict=True))
        inner = tuple(slice(a - s, b - s) for a, b, s in zip(lo, hi, start, strict=True))
        total[region] += prob[inner]
        hits[region] += 1
    return total / np.maximum(hits, 1)


def _dtype_of(net: UNet3d) -> torch.dtype:
    return net.head.weight.dtype


def _window_of(image: np.ndarray, start: np.ndarray, size: np.ndarray, pad: float) -> np.ndarray:
    """``image[start : start + size]`` (float32), ``pad`` where that reaches beyond it."""
    out = np.full(tuple(int(s) for s in size), pad, dtype=np.float32)
    lo = np.maximum(start, 0)
    hi = np.minimum(start + size, image.shape)
    if np.all(hi > lo):
        out[tuple(slice(a - s, b - s) for a, b, s in zip(lo, hi, start, strict=True))] = image[
            tuple(slice(a, b) for a, b in zip(lo, hi, strict=True))
        ]
    return out


def _bbox(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """First and last index of ``mask`` along each axis, or None when it is empty."""
    lo, hi = [], []
    for axis in range(3):
        other = tuple(a for a in range(3) if a != axis)
        hit = np.flatnonzero(mask.any(axis=other))
        if hit.size == 0:
            return None
        lo.append(int(hit[0]))
        hi.append(int(hit[-1]))
    return np.array(lo), np.array(hi)


@contextmanager
def _torch_threads(n: int) -> Any:
    previous = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        with torch.inference_mode():
            yield
    finally:
        torch.set_num_threads(previous)


# The segmenter -------------------------------------------------------------------------------


class LiverSegmenter:
    """The liver and lesion U-Nets of one model version (see the module docstring)."""

    def __init__(
        self,
        liver_net: UNet3d,
        lesion_net: UNet3d,
        config: dict[str, Any],
        *,
        version: str,
        threads: int = DEFAULT_THREADS,
    ) -> None:
        self.liver_net = liver_net
        self.lesion_net = lesion_net
        self.config = config
        self.name = str(config.get("name", MODEL_NAME))
        self.version = version
        self.threads = max(1, int(threads))
        self.liver_mm = np.asarray(config["nets"]["liver"]["voxel_mm"], dtype=float)
        self.lesion_mm = np.asarray(config["nets"]["lesion"]["voxel_mm"], dtype=float)

    @classmethod
    def load(
        cls, model_dir: Path, threads: int = DEFAULT_THREADS, bfloat16: bool = False
    ) -> LiverSegmenter:
        """The segmenter of a version folder. ``bfloat16`` runs both nets in bfloat16 (about
        1.6x faster on CPUs with AVX512-BF16 or AMX, slower elsewhere; liver Dice on the example
        CT 0.9585 instead of 0.9587); the default float32 gives the same masks on any CPU."""
        model_dir = Path(model_dir)
        config = json.loads((model_dir / CONFIG_FILE).read_text(encoding="utf-8"))
        dtype = torch.bfloat16 if bfloat16 else torch.float32
        nets = {
            key: load_net(model_dir / entry["file"], entry["spec"]).to(dtype)
            for key, entry in config["nets"].items()
        }
        return cls(
            nets["liver"],
            nets["lesion"],
            config,
            version=str(config.get("version", model_dir.name)),
            threads=threads,
        )

    def segment(self, volume: Volume) -> LiverOutput:
        timings: dict[str, float] = {}
        with _torch_threads(self.threads):
            t = time.perf_counter()
            image, grid = self._liver_input(volume)
            timings["liver_preprocess"] = time.perf_counter() - t
            t = time.perf_counter()
            prob = liver_probability(self.liver_net, image)
            del image
            timings["liver_net"] = time.perf_counter() - t
            t = time.perf_counter()
            kept = keep_liver(prob)
            del prob
            liver = resample_mask(kept, grid, Grid.of_volume(volume.shape), THRESHOLD)
            timings["liver_postprocess"] = time.perf_counter() - t
            lesions, rows = self._lesions(volume, liver, kept, grid, timings)
        n_liver = int(np.count_nonzero(liver))
        hu_mean = float(volume.data[liver].astype(np.float64).mean()) if n_liver else 0.0
        return LiverOutput(
            liver=liver,
            lesions=lesions,
            lesion_rows=rows,
            liver_volume_ml=n_liver * volume.voxel_volume_ml,
            liver_hu_mean=hu_mean,
            timings_s={k: round(v, 3) for k, v in timings.items()},
        )

    def _liver_input(self, volume: Volume) -> tuple[np.ndarray, Grid]:
        """The windowed liver-net input on the net's grid over the whole volume, and that grid:
        1.5 mm, 3x3x3 median, 3 mm (the two grids nest: two fine voxels per coarse one)."""
        spacing = np.asarray(volume.spacing_mm)
        n = np.asarray(volume.shape)
        coarse = Grid.covering(np.zeros(3), n - 1, self.liver_mm / spacing)
        step = np.asarray(coarse.step) / 2
        fine = Grid(
            _shape3(2 * np.asarray(coarse.shape)),
            _float3(np.asarray(coarse.origin) - step / 2),
            _float3(step),
        )
        at_fine = resample(volume.data, Grid.of_volume(volume.shape), fine)
        at_fine = median3(at_fine, self.threads)
        image = resample(at_fine, fine, coarse, transform=window)
        return image, coarse

    def _lesions(
        self,
        volume: Volume,
        liver: np.ndarray,
        kept: np.ndarray,
        liver_grid: Grid,
        timings: dict[str, float],
    ) -> tuple[np.ndarray, list[dict[str, Any]]]:
        """The lesion mask on the volume grid and its rows (see the module docstring)."""
        t = time.perf_counter()
        lesions = np.zeros(volume.shape, dtype=bool)
        box = _bbox(liver)
        if box is None:
            return lesions, []
        spacing = np.asarray(volume.spacing_mm)
        step = self.lesion_mm / spacing
        margin = (LESION_DILATION_STEPS + 1) * step
        grid = Grid.covering(box[0] - margin, box[1] + margin, step)
        liver_here = resample_mask(kept, liver_grid, grid, THRESHOLD)
        around = ndimage.binary_dilation(
            liver_here, ndimage.iterate_structure(_S18, LESION_DILATION_STEPS)
        )
        inner = _bbox(around)
        if inner is None:
            return lesions, []
        crop = tuple(slice(a, b + 1) for a, b in zip(*inner, strict=True))
        grid = grid.box(inner[0], inner[1] + 1)
        around, liver_here = around[crop], liver_here[crop]
        image = self._windowed(volume, grid)
        image[~around] = OUTSIDE_LIVER
        timings["lesion_preprocess"] = time.perf_counter() - t
        t = time.perf_counter()
        prob = run_tiled(self.lesion_net, image, *covering_tiles(self.lesion_net, liver_here))
        del image
        timings["lesion_net"] = time.perf_counter() - t
        t = time.perf_counter()
        lo_mm, hi_mm = grid.extent()
        top = np.asarray(volume.shape) - 1
        lo = np.clip(np.floor(lo_mm).astype(int), 0, top)
        hi = np.clip(np.ceil(hi_mm).astype(int), 0, top)
        target = Grid(_shape3(hi - lo + 1), _float3(lo), (1.0, 1.0, 1.0))
        region = tuple(slice(a, b + 1) for a, b in zip(lo, hi, strict=True))
        found = resample_mask(prob, grid, target, THRESHOLD) & liver[region]
        found, rows = lesion_rows(found, volume, lo)
        lesions[region] = found
        timings["lesion_postprocess"] = time.perf_counter() - t
        return lesions, rows

    def _windowed(self, volume: Volume, grid: Grid) -> np.ndarray:
        """The windowed volume resampled onto ``grid`` (read from the part of it under the grid)."""
        lo_mm, hi_mm = grid.extent()
        reach = np.asarray(grid.step) / 2 + 1
        lo = np.clip(np.floor(lo_mm - reach).astype(int), 0, np.asarray(volume.shape) - 1)
        hi = np.clip(np.ceil(hi_mm + reach).astype(int), 0, np.asarray(volume.shape) - 1)
        part = volume.data[tuple(slice(a, b + 1) for a, b in zip(lo, hi, strict=True))]
        src = Grid(_shape3(hi - lo + 1), _float3(lo), (1.0, 1.0, 1.0))
        return resample(part, src, grid, transform=window)


def body_box(image: np.ndarray) -> tuple[slice, slice, slice]:
    """The in-plane box of the body on the liver net's grid (all slices): the largest connected
    region above ``BODY_HU`` after one erosion (which cuts thin links to the table and arms),
    plus ``BODY_MARGIN``. The whole image when nothing is found."""
    level = np.float32(max(-0.5, min(0.5, BODY_HU * 0.5 / HU_WINDOW)))
    labels, n = ndimage.label(ndimage.binary_erosion(image > level))
    if n == 0:
        return (slice(None), slice(None), slice(None))
    largest = int(np.argmax(np.bincount(labels.ravel())[1:])) + 1
    box = _bbox(labels == largest)
    assert box is not None
    lo = np.maximum(box[0] - BODY_MARGIN, 0)
    hi = np.minimum(box[1] + 1 + BODY_MARGIN, image.shape)
    return (slice(int(lo[0]), int(hi[0])), slice(int(lo[1]), int(hi[1])), slice(None))


def liver_probability(net: UNet3d, image: np.ndarray) -> np.ndarray:
    """The liver net's probability over ``image`` (its own grid, windowed).

    The net sees the body's in-plane box with 0 around it, as in training. Where that needs
    more than one tile (a body wider than 489 mm, taller than 408 mm or deeper than 408 mm),
    one more tile is centred on the liver the tiles found and overrides them where it reaches:
    the net then sees the whole liver in one context, as in training.
    """
    prob = np.zeros(image.shape, dtype=np.float32)
    box = body_box(image)
    body = image[box]
    tile = tile_size(net, _shape3(body.shape), LIVER_TILE)
    starts = grid_starts(_shape3(body.shape), tile)
    found = run_tiled(net, body, tile, starts)
    if len(starts) > 1:
        core = ndimage.binary_erosion(found >= THRESHOLD, _S18)
        labels, n = ndimage.label(core)
        if n:
            largest = int(np.argmax(np.bincount(labels.ravel())[1:])) + 1
            where = _bbox(labels == largest)
            assert where is not None
            one = _shape3(
                [
                    min(net.input_size(n, axis), net.input_size(t, axis)) - 2 * net.margin(axis)
                    for axis, (n, t) in enumerate(zip(body.shape, LIVER_TILE, strict=True))
                ]
            )
            centre = (where[0] + where[1]) // 2
            start = _shape3(centre - np.array(one) // 2)
            again = run_tiled(net, body, one, [start])
            lo = np.maximum(start, 0)
            hi = np.minimum(np.array(start) + one, body.shape)
            reach = tuple(slice(a, b) for a, b in zip(lo, hi, strict=True))
            found[reach] = again[reach]
    prob[box] = found
    return prob


def load_net(path: Path, spec_name: str) -> UNet3d:
    """A converted U-Net (float32 in memory whatever its storage), channels-last, in eval mode."""
    state = torch.load(path, map_location="cpu", weights_only=True)
    net = build_unet(spec_name)
    net.load_state_dict({k: v.float() for k, v in state.items()}, strict=True)
    # channels-last makes the 3D convolutions much faster on CPU (torch's stubs lack the kwarg).
    net.to(memory_format=torch.channels_last_3d)  # type: ignore[call-overload]
    return net.eval()


def keep_liver(prob: np.ndarray) -> np.ndarray:
    """The package's clean-up on the net's grid: threshold, 18-connected erosion, largest
    6-connected component, dilation. Returns the probability where kept, 0 elsewhere."""
    core = ndimage.binary_erosion(prob >= THRESHOLD, _S18)
    labels, n = ndimage.label(core)
    if n == 0:
        return np.zeros_like(prob)
    largest = int(np.argmax(np.bincount(labels.ravel())[1:])) + 1
    keep = ndimage.binary_dilation(labels == largest, _S18)
    return np.where(keep, prob, np.float32(0.0))


def lesion_rows(
    found: np.ndarray, volume: Volume, offset: np.ndarray
) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """Drop connected lesions under ``MIN_LESION_ML`` from ``found`` (a box of the volume at
    ``offset``) and describe the rest, largest first."""
    labels, n = ndimage.label(found, structure=_S26)
    if n == 0:
        return found, []
    voxel_ml = volume.voxel_volume_ml
    counts = np.bincount(labels.ravel(), minlength=n + 1)
    keep = sorted(
        (i for i in range(1, n + 1) if counts[i] * voxel_ml >= MIN_LESION_ML),
        key=lambda i: (-int(counts[i]), i),
    )
    kept = np.isin(labels, keep)
    boxes = ndimage.find_objects(labels)
    rows = []
    for index, label in enumerate(keep, start=1):
        box = boxes[label - 1]
        assert box is not None
        start = np.array([s.start for s in box]) + offset
        mine = labels[box] == label
        voxels = np.argwhere(mine) + start
        hu = volume.data[tuple(slice(a, a + m) for a, m in zip(start, mine.shape, strict=True))][
            mine
        ]
        centre = volume.affine[:3, :3] @ voxels.mean(axis=0) + volume.affine[:3, 3]
        rows.append(
            {
                "index": index,
                "volume_ml": round(float(counts[label] * voxel_ml), 4),
                "largest_diameter_mm": round(axial_diameter_mm(voxels, volume.affine), 1),
                "hu_mean": round(float(hu.astype(np.float64).mean()), 1),
                "centroid_mm": [round(float(c), 1) for c in centre],
            }
        )
    return kept, rows


def axial_diameter_mm(voxels: np.ndarray, affine: np.ndarray) -> float:
    """The longest in-plane diameter over the slices of ``voxels`` (``(n, 3)`` indices): the
    largest distance between two voxel centres of one axial slice, plus one in-plane voxel
    (a lesion reaches half a voxel beyond its outermost centres on each side)."""
    in_plane = affine[:3, :2]
    pixel = float(np.sqrt((in_plane**2).sum(axis=0)).mean())
    best = 0.0
    for z in np.unique(voxels[:, 2]):
        ij = voxels[voxels[:, 2] == z, :2].astype(np.float64)
        if len(ij) > 3:
            # The slice maps affinely into the patient's plane: hull vertices stay hull vertices.
            with suppress(QhullError):  # collinear: every point stays a candidate
                ij = ij[ConvexHull(ij).vertices]
        pts = ij @ in_plane.T
        d = np.sqrt(((pts[:, None, :] - pts[None, :, :]) ** 2).sum(axis=-1))
        best = max(best, float(d.max()))
    return best + pixel
