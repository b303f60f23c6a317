"""Body composition of a CT volume from HU rules alone (no model): body outline, lungs, bone,
subcutaneous and visceral fat, and the L3 level where the fat areas are read.

The rules (they are the model card of this step; "slice" is an axial slice, along the third RAS
axis; every length is in mm, so they hold for any voxel spacing):

1. Body: voxels above -500 HU, opened slice by slice with a 3x3 cross (this cuts thin contacts
   between the patient and the table, sheets and cables), the largest 3D connected component
   kept (the table and everything not touching the patient go), holes filled slice by slice
   (lungs and bowel gas become inside).
2. Lungs: air below -400 HU inside the body, as 3D components. A component is lung when it holds
   at least 20 mL and its MEDIAN HU is above -920: aerated parenchyma with its vessels sits
   around -850, bowel and stomach gas around -1000 (a plain < -400 rule, which takes the bowel
   gas too, scores Dice 0.48 on the example; this rule 0.96). The median is taken over the
   component's core, 1.5 mm inside its edge in-plane where the grid is that fine (on a fine grid
   the partial-volume edge of a gas pocket is many voxels thick). Outside air never enters (the
   body is filled first); a component touching the body's outermost voxels (air at the skin, a
   skin fold) is not lung. Airways: in each slice, a separate piece of the lungs under 6 cm²
   whose median is below -950 HU (trachea, main bronchi) is dropped. Holes under 10 cm² in the
   lungs (vessels) are filled slice by slice.
3. Bone: hysteresis, seeds above 250 HU grown through connected voxels above 120 HU, then holes
   under 30 cm² filled slice by slice (marrow below 120 HU; the cap keeps the pelvic and thoracic
   cavities out, but a spinal canal closed by its arch in a slice is filled). Anything above
   250 HU joined to it counts: calcifications, contrast-filled vessels, positive oral contrast.
4. Fat: -190 to -30 HU inside the body, not bone, not lung. The muscle wall is found slice by
   slice on 360 rays cast from inside the trunk (the slice's largest body part), from 60 mm in
   front of the vertebral body's centre (at most halfway to the front of the body, never behind
   the trunk's centroid; the centroid itself when no spine is found).
   - Outer edge: walking in from the skin, the first run of at least 5 mm of non-fat tissue
     deeper than 4 mm below the surface (the skin is not wall; fascia thinner than 5 mm inside
     the subcutaneous fat is walked through).
   - Inner edge: walking on inwards, the first run of fat or air of at least 4 mm (10 mm on the
     rays within 45 degrees of straight back, so fat between the back muscles is walked
     through), at most 40 mm deeper (120 mm on those back rays); a ray that meets the spine's
     bone (within 35 mm of the vertebral body's centre) stops in front of it. A ray with no inner
     edge takes its neighbours'.
   - Both edges, as radius over angle, are smoothed by a grey opening (spikes narrower than
     15 mm of arc) and closing (gaps narrower than 45 mm of arc), and their front halves are
     replaced by their convex hull (the front of the abdominal wall is convex: a fat-filled gap
     between the recti, a diastasis or the umbilicus, of any width, is bridged).
   Subcutaneous fat (SAT) is the fat outside the outer edge; visceral fat (VAT) the fat inside the
   inner edge (intra-abdominal and retroperitoneal; in the chest, mediastinal; in the pelvis,
   pelvic fat, less reliably: the inner edge there can take in some gluteal fat); the fat between
   the edges (in and between the wall and back muscles) is intermuscular, reported as an area at
   L3 and not labelled. Body parts other than the trunk (arms, or both thighs when the two
   largest parts are of similar size) get SAT outside their own muscle and no VAT. Areas (cm²)
   are read on the L3 slice; volumes (mL) over the whole scan.
5. L3: the centre slice of ``vertebrae_L3`` when the caller has an uploaded segmentation that
   holds it (``l3_hint``), else found here. The spine's centre line is, slice by slice, the
   deepest point of the bone within 40 mm of the body's midline in its back half, where that
   bone is at least 10 mm deep (a vertebral body), median-filtered over 30 mm and interpolated.
   The vertebral bodies are the 3D components of voxels above 150 HU in a column around it (20 mm
   either side, 12 mm behind to 25 mm in front of its centre): the discs, below 150 HU, separate
   them; a component more than 1.6 times the median height is split at its thinnest slice. The
   ribs are the bone components more than 40 mm lateral of the centre line that start within
   50 mm of it, level with or behind it, reach at least 65 mm out over a lateral span of 25 mm,
   hold 0.3 to 60 mL and slope down from their medial end (an iliac crest rises). The lowest
   medial end is the head of the twelfth rib: the vertebral body holding it is T12, and L3 is
   the third body below, read at the centroid of its height. No rib (a scan starting below T12)
   or too few bodies below T12 gives ``"not found"`` with the reason. An absent or short twelfth
   rib, a thirteenth rib or a transitional vertebra moves the count by one level.
6. Skeletal muscle: not measured. Muscle overlaps bowel, vessels and organs in HU: it needs a
   segmentation.

Validation on the TotalSegmentator example CT (3 mm voxels) against its per-structure masks:
lungs Dice 0.96, bone 0.83 (the union of vertebrae, ribs, sacrum, hips, femora, humeri,
scapulae, claviculae, sternum, skull); T12, L1 and L2 found where their masks are.

Memory: the volume is read slice by slice; masks are booleans; 3D labelling (int32) runs on one
mask's bounding box at a time and is dropped before the next; no float64 volume is made.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import ndimage as ndi
from scipy.spatial import ConvexHull, QhullError

from inference.engines.imaging.ct_labels import CT_LABEL_IDS
from inference.engines.imaging.volume import Volume

SOURCE = "hu_rules"
MUSCLE_STATUS = (
    "needs a segmentation: muscle overlaps bowel, vessels and organs in HU, no HU rule measures "
    "it reliably"
)

BODY_MIN_HU = -500.0
AIR_MAX_HU = -400.0
LUNG_MIN_ML = 20.0
LUNG_MIN_MEDIAN_HU = -920.0
AIRWAY_MAX_CM2 = 6.0
AIRWAY_MAX_MEDIAN_HU = -950.0
LUNG_HOLE_MAX_CM2 = 10.0
_LUNG_CORE_MM = 1.5
BONE_SEED_HU = 250.0
BONE_GROW_HU = 120.0
BONE_HOLE_MAX_CM2 = 30.0
FAT_HU = (-190.0, -30.0)
VERTEBRA_HU = 150.0

_N_RAYS = 360
_RAY_STEP_MM = 0.75
_SKIN_MM = 4.0
_WALL_MIN_MM = 5.0
_INNER_FAT_MM = 4.0
_INNER_FAT_POSTERIOR_MM = 10.0
_WALL_MAX_MM = 40.0
_WALL_MAX_POSTERIOR_MM = 120.0
_OPEN_ARC_MM = 15.0
_CLOSE_ARC_MM = 45.0
_PART_MIN_CM2 = 30.0
_SPINE_RADIUS_MM = 35.0
_ORIGIN_AHEAD_OF_SPINE_MM = 60.0
_SLAB_VOXELS = 8 * 1024 * 1024


@dataclass
class BodyComposition:
    """Boolean masks on the volume's grid, the L3 reading and JSON-ready measurements."""

    body: np.ndarray
    lungs: np.ndarray
    bone: np.ndarray
    subcutaneous_fat: np.ndarray
    visceral_fat: np.ndarray
    l3: dict[str, Any]
    rows: list[dict[str, Any]]
    measurements: dict[str, Any] = field(default_factory=dict)

    def labelmap(self) -> np.ndarray:
        """The masks as ``ct_labels`` ids (uint8); bone wins where a mask overlaps it."""
        labels = np.zeros(self.body.shape, dtype=np.uint8)
        labels[self.lungs] = CT_LABEL_IDS["lung"]
        labels[self.subcutaneous_fat] = CT_LABEL_IDS["subcutaneous_fat"]
        labels[self.visceral_fat] = CT_LABEL_IDS["visceral_fat"]
        labels[self.bone] = CT_LABEL_IDS["bone"]
        return labels

    def summary(self) -> dict[str, Any]:
        """The JSON summary (``schema._BODY``): volumes, the L3 reading, muscle's status."""
        m = self.measurements
        return {
            "body_volume_ml": m["body_volume_ml"],
            "subcutaneous_fat_ml": m["subcutaneous_fat_ml"],
            "visceral_fat_ml": m["visceral_fat_ml"],
            "l3": self.l3,
            "muscle": MUSCLE_STATUS,
        }


def body_composition(volume: Volume, *, l3_hint: int | None = None) -> BodyComposition:
    """Apply the rules of the module docstring to ``volume``.

    ``l3_hint`` is the centre slice (third index) of ``vertebrae_L3`` from an uploaded
    segmentation; without it L3 is found from the bone mask.
    """
    hu = volume.data
    spacing = volume.spacing_mm
    pixel_mm2 = _pixel_area_mm2(volume.affine)
    voxel_ml = volume.voxel_volume_ml

    body = body_mask(hu)
    lungs = lung_mask(hu, body, spacing, voxel_ml)
    bone = bone_mask(hu, pixel_mm2)
    bone &= ~lungs
    line = _spine_centreline(body, bone, spacing)
    sat, vat, imat_cm2 = fat_masks(hu, body, bone, lungs, spacing, spine=line)
    found = _l3_level(hu, bone, line, spacing, voxel_ml, l3_hint)
    z = found.pop("slice")
    l3: dict[str, Any] = {
        "slice": z,
        "z_mm": None,
        "method": found.pop("method"),
        "note": found.pop("note"),
        "subcutaneous_fat_cm2": None,
        "visceral_fat_cm2": None,
    }
    detail: dict[str, Any] = {**found, "intermuscular_fat_cm2": None, "body_cm2": None}
    if z is not None:
        cm2 = pixel_mm2 / 100.0
        centre = np.array([(hu.shape[0] - 1) / 2, (hu.shape[1] - 1) / 2, z, 1.0])
        l3["z_mm"] = round(float((volume.affine @ centre)[2]), 2)
        l3["subcutaneous_fat_cm2"] = round(float(sat[:, :, z].sum()) * cm2, 2)
        l3["visceral_fat_cm2"] = round(float(vat[:, :, z].sum()) * cm2, 2)
        detail["intermuscular_fat_cm2"] = round(float(imat_cm2[z]), 2)
        detail["body_cm2"] = round(float(body[:, :, z].sum()) * cm2, 2)

    named = {
        "body": (body, None),
        "lung": (lungs, CT_LABEL_IDS["lung"]),
        "bone": (bone, CT_LABEL_IDS["bone"]),
        "subcutaneous_fat": (sat, CT_LABEL_IDS["subcutaneous_fat"]),
        "visceral_fat": (vat, CT_LABEL_IDS["visceral_fat"]),
    }
    rows = _measure_rows(hu, named, voxel_ml)
    volume_ml = {row["name"]: float(row["volume_ml"]) for row in rows}
    measurements: dict[str, Any] = {
        "rows": rows,
        "body_volume_ml": volume_ml.get("body", 0.0),
        "subcutaneous_fat_ml": volume_ml.get("subcutaneous_fat", 0.0),
        "visceral_fat_ml": volume_ml.get("visceral_fat", 0.0),
        "l3": l3,
        "l3_detail": detail,
        "not_measured": [{"name": "skeletal_muscle", "status": MUSCLE_STATUS}],
        "source": SOURCE,
    }
    return BodyComposition(
        body=body,
        lungs=lungs,
        bone=bone,
        subcutaneous_fat=sat,
        visceral_fat=vat,
        l3=l3,
        rows=rows,
        measurements=measurements,
    )


# --- masks -----------------------------------------------------------------------------------


def _empty(shape: tuple[int, ...]) -> np.ndarray:
    # Fortran order: an axial slice [:, :, z] is one contiguous block, as the loops read them.
    return np.zeros(shape, dtype=bool, order="F")


Box = tuple[slice, slice, slice]


def _label(mask: np.ndarray) -> tuple[np.ndarray, int, Box]:
    """6-connected components of ``mask`` inside its bounding box: ``(labels, n, box)`` with
    ``labels`` (int32) on ``mask[box]``. The box keeps the int32 array and the passes over it
    small; labelling the transpose of a Fortran-ordered array runs in its memory order (about
    3x faster; connectivity is symmetric, so the components are the same)."""
    box_list = []
    for axis in range(3):
        other = tuple(a for a in range(3) if a != axis)
        present = np.flatnonzero(mask.any(axis=other))
        if present.size == 0:
            return np.zeros((0, 0, 0), dtype=np.int32), 0, (slice(0, 0),) * 3
        box_list.append(slice(int(present[0]), int(present[-1]) + 1))
    box: Box = (box_list[0], box_list[1], box_list[2])
    crop = mask[box]
    if mask.flags.f_contiguous and not mask.flags.c_contiguous:
        labels, n = ndi.label(np.asfortranarray(crop).T)
        return labels.T, int(n), box
    labels, n = ndi.label(np.ascontiguousarray(crop))
    return labels, int(n), box


def _pixel_area_mm2(affine: np.ndarray) -> float:
    return float(np.linalg.norm(np.cross(affine[:3, 0], affine[:3, 1])))


def body_mask(hu: np.ndarray) -> np.ndarray:
    """Rule 1: above -500 HU, opened per slice, largest 3D component, holes filled per slice."""
    opened = _empty(hu.shape)
    for z in range(hu.shape[2]):
        opened[:, :, z] = ndi.binary_opening(hu[:, :, z] > BODY_MIN_HU)
    labels, n, box = _label(opened)
    del opened
    body = _empty(hu.shape)
    if n == 0:
        return body
    # Sizes counted on every second voxel along each axis: enough to tell the patient from the
    # table and the cables, at an eighth of the cost (and no int64 copy of the volume).
    counts = np.bincount(labels[::2, ::2, ::2].ravel(), minlength=n + 1)
    counts[0] = 0
    keep = int(counts.argmax())
    inside = body[box]
    for z in range(labels.shape[2]):
        inside[:, :, z] = _fill_holes(labels[:, :, z] == keep)
    return body


def _holes(mask2d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The background components of a slice (4-connected) and which of them are holes (do not
    touch the slice's edge): one labelling, several times faster than ``binary_fill_holes``."""
    labels, n = ndi.label(~mask2d)
    hole = np.ones(n + 1, dtype=bool)
    hole[0] = False
    for edge in (labels[0, :], labels[-1, :], labels[:, 0], labels[:, -1]):
        hole[edge] = False
    return labels, hole


def _fill_holes(mask2d: np.ndarray) -> np.ndarray:
    labels, hole = _holes(mask2d)
    return mask2d | hole[labels]


def _fill_small_holes(mask2d: np.ndarray, max_pixels: float) -> np.ndarray:
    labels, hole = _holes(mask2d)
    if not hole.any():
        return mask2d
    hole &= np.bincount(labels.ravel(), minlength=hole.size) <= max_pixels
    return mask2d | hole[labels]


def lung_mask(
    hu: np.ndarray, body: np.ndarray, spacing: tuple[float, float, float], voxel_ml: float
) -> np.ndarray:
    """Rule 2: air components of 20 mL or more with a median above -920 HU, airways dropped."""
    air = _empty(hu.shape)
    skin = _empty(hu.shape)
    for z in range(hu.shape[2]):
        inside = body[:, :, z]
        air[:, :, z] = (hu[:, :, z] < AIR_MAX_HU) & inside
        # The body's outermost voxels (the volume's edge is not skin).
        skin[:, :, z] = inside & ~ndi.binary_erosion(inside, border_value=1)
    labels, n, box = _label(air)
    del air
    lungs = _empty(hu.shape)
    if n == 0:
        return lungs
    # Air at the skin (partial volume with the air outside, a skin fold) is never lung.
    at_skin = np.zeros(n + 1, dtype=bool)
    skin_in_box = skin[box]
    for z in range(labels.shape[2]):
        at_skin[labels[:, :, z][skin_in_box[:, :, z]]] = True
    del skin, skin_in_box
    xy = min(spacing[0], spacing[1])
    min_voxels = LUNG_MIN_ML / voxel_ml
    # The median is taken over the component's core (1.5 mm inside its edge in-plane, on grids
    # fine enough): on a fine grid the partial-volume edge of a gas pocket is many voxels
    # thick and would lift a bowel gas median towards that of lung.
    core_iter = round(_LUNG_CORE_MM / xy)
    in_plane = np.zeros((3, 3, 3), dtype=bool)
    in_plane[:, :, 1] = ndi.generate_binary_structure(2, 1)
    hu_box, lungs_box = hu[box], lungs[box]
    for index, where in enumerate(ndi.find_objects(labels), start=1):
        if where is None or at_skin[index]:
            continue
        component = labels[where] == index
        if int(component.sum()) < min_voxels:
            continue
        core = component
        if core_iter > 0:
            core = ndi.binary_erosion(component, in_plane, iterations=core_iter)
            if not core.any():
                core = component
        if float(np.median(hu_box[where][core])) > LUNG_MIN_MEDIAN_HU:
            lungs_box[where] |= component
    del labels
    pixel_mm2 = spacing[0] * spacing[1]
    airway_px = AIRWAY_MAX_CM2 * 100.0 / pixel_mm2
    hole_px = LUNG_HOLE_MAX_CM2 * 100.0 / pixel_mm2
    for z in (int(k) for k in np.flatnonzero(lungs.any(axis=(0, 1)))):
        sl = lungs[:, :, z]
        pieces, count = ndi.label(sl)
        if count:
            values = hu[:, :, z]
            for index, where2 in enumerate(ndi.find_objects(pieces), start=1):
                if where2 is None:
                    continue
                piece = pieces[where2] == index
                if (
                    piece.sum() < airway_px
                    and float(np.median(values[where2][piece])) < AIRWAY_MAX_MEDIAN_HU
                ):
                    sl[where2][piece] = False
        lungs[:, :, z] = _fill_small_holes(sl, hole_px)
    return lungs


def bone_mask(hu: np.ndarray, pixel_mm2: float) -> np.ndarray:
    """Rule 3: hysteresis 250/120 HU, holes under 30 cm² filled per slice."""
    grow = _empty(hu.shape)
    for z in range(hu.shape[2]):
        grow[:, :, z] = hu[:, :, z] > BONE_GROW_HU
    labels, n, box = _label(grow)
    del grow
    bone = _empty(hu.shape)
    if n == 0:
        return bone
    keep = np.zeros(n + 1, dtype=bool)
    hu_box = hu[box]
    for z in range(labels.shape[2]):
        keep[labels[:, :, z][hu_box[:, :, z] > BONE_SEED_HU]] = True
    keep[0] = False
    hole_px = BONE_HOLE_MAX_CM2 * 100.0 / pixel_mm2
    bone_box = bone[box]
    for z in range(labels.shape[2]):
        bone_box[:, :, z] = _fill_small_holes(keep[labels[:, :, z]], hole_px)
    return bone


# --- fat and the muscle wall -----------------------------------------------------------------


def _run_ends(flags: np.ndarray, length: int) -> np.ndarray:
    """``out[k, m]``: ``flags[k, m - length + 1 .. m]`` are all true (a run of ``length``
    samples whose outer end is ``m``; samples run from the centre outwards)."""
    if length <= 1:
        return flags.copy()
    csum = np.cumsum(flags, axis=1, dtype=np.int32)
    out = np.zeros_like(flags)
    window = csum[:, length - 1 :].copy()
    window[:, 1:] -= csum[:, :-length]
    out[:, length - 1 :] = window == length
    return out


def _last_true(mask: np.ndarray) -> np.ndarray:
    """Per row, the largest column index that is true, or -1."""
    rev = mask[:, ::-1]
    idx = mask.shape[1] - 1 - rev.argmax(axis=1)
    return np.where(rev.any(axis=1), idx, -1)


def _open_close(radius: np.ndarray, open_n: int, close_n: int) -> np.ndarray:
    """Grey opening then closing of a radius-over-angle profile (it wraps around)."""
    out = radius
    if open_n > 1:
        out = ndi.maximum_filter1d(
            ndi.minimum_filter1d(out, open_n, mode="wrap"), open_n, mode="wrap"
        )
    if close_n > 1:
        out = ndi.minimum_filter1d(
            ndi.maximum_filter1d(out, close_n, mode="wrap"), close_n, mode="wrap"
        )
    return out


def _fill_nan_circular(values: np.ndarray) -> np.ndarray:
    ok = np.isfinite(values)
    if ok.all() or not ok.any():
        return values
    n = values.size
    good = np.flatnonzero(ok)
    ext_x = np.concatenate([good - n, good, good + n])
    return np.interp(np.arange(n), ext_x, np.tile(values[ok], 3))


def _front_hull(directions: np.ndarray, radius: np.ndarray) -> np.ndarray:
    """``radius`` raised, on the rays pointing forward (+y), to the convex hull of their end
    points and the origin: the front of the trunk's wall is convex, so a gap between the recti
    (a diastasis, the umbilicus) of any width is bridged."""
    front = directions[:, 1] >= 0.0
    points = directions[front] * radius[front, None]
    points = np.vstack([points, [0.0, 0.0]])
    if len(points) < 4 or not np.all(np.isfinite(points)):
        return radius
    try:
        hull = ConvexHull(points)
    except QhullError:
        return radius
    # Each facet: normal . x + offset <= 0 inside; along a ray d, the boundary is at
    # t = -offset / (normal . d) for the facets the ray leaves through.
    normals, offsets = hull.equations[:, :2], hull.equations[:, 2]
    dots = directions[front] @ normals.T
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(dots > 1e-9, -offsets[None, :] / dots, np.inf)
    out = radius.copy()
    out[front] = np.maximum(radius[front], t.min(axis=1))
    return out


@dataclass
class _Rays:
    """Rays from an origin (mm, in the slice's index axes scaled by the spacing), sampled at
    ``step_mm``: the (i, j) pixel of every sample."""

    origin_mm: np.ndarray
    directions: np.ndarray  # (n_rays, 2) unit vectors
    step_mm: float
    ii: np.ndarray  # (n_rays, n_samples)
    jj: np.ndarray
    inside: np.ndarray  # the sample lies in the slice


def _cast(
    origin_mm: np.ndarray, reach_mm: float, spacing: tuple[float, float], shape: tuple[int, int]
) -> _Rays:
    step = max(0.5 * min(spacing), _RAY_STEP_MM)
    angles = np.linspace(0.0, 2.0 * np.pi, _N_RAYS, endpoint=False)
    directions = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    radii = np.arange(0.0, reach_mm + step, step)
    ii = np.rint((origin_mm[0] + directions[:, :1] * radii[None, :]) / spacing[0]).astype(np.int32)
    jj = np.rint((origin_mm[1] + directions[:, 1:] * radii[None, :]) / spacing[1]).astype(np.int32)
    inside = (ii >= 0) & (ii < shape[0]) & (jj >= 0) & (jj < shape[1])
    np.clip(ii, 0, shape[0] - 1, out=ii)
    np.clip(jj, 0, shape[1] - 1, out=jj)
    return _Rays(origin_mm, directions, step, ii, jj, inside)


@dataclass
class _Polar:
    """Angle (as a fractional ray index) and distance from the rays' origin of every pixel of a
    box: a region bounded by a radius per ray is rasterised as ``distance <= radius(angle)``."""

    box: tuple[slice, slice]
    index: np.ndarray  # the ray just clockwise of the pixel (int32)
    weight: np.ndarray  # how far towards the next ray (float32, 0..1)
    distance: np.ndarray  # float32, mm

    @classmethod
    def of(cls, rays: _Rays, box: tuple[slice, slice], spacing: tuple[float, float]) -> _Polar:
        di = np.arange(box[0].start, box[0].stop, dtype=np.float32) * np.float32(spacing[0])
        dj = np.arange(box[1].start, box[1].stop, dtype=np.float32) * np.float32(spacing[1])
        di -= np.float32(rays.origin_mm[0])
        dj -= np.float32(rays.origin_mm[1])
        angle = np.arctan2(dj[None, :], di[:, None])
        ray = np.mod(angle, np.float32(2.0 * np.pi)) * np.float32(_N_RAYS / (2.0 * np.pi))
        index = np.minimum(ray.astype(np.int32), _N_RAYS - 1)
        return cls(box, index, ray - index, np.hypot(di[:, None], dj[None, :]))

    def inside(self, radius: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
        closed = np.append(radius, radius[0]).astype(np.float32)
        bound = closed[self.index] * (1 - self.weight) + closed[self.index + 1] * self.weight
        out = np.zeros(shape, dtype=bool)
        out[self.box] = self.distance <= bound
        return out


def _bbox(mask: np.ndarray, pad: int = 1) -> tuple[slice, slice]:
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    return (
        slice(max(rows[0] - pad, 0), min(rows[-1] + pad + 1, mask.shape[0])),
        slice(max(cols[0] - pad, 0), min(cols[-1] + pad + 1, mask.shape[1])),
    )


def _surface_depth(
    part: np.ndarray, box: tuple[slice, slice], spacing: tuple[float, float]
) -> np.ndarray:
    """Distance (mm) from each pixel of ``part`` to outside it, on a grid of about 1 mm (the
    skin rule needs no finer)."""
    step = [max(1, round(1.2 / s)) for s in spacing]
    coarse = part[box][:: step[0], :: step[1]]
    depth = ndi.distance_transform_edt(
        coarse, sampling=(spacing[0] * step[0], spacing[1] * step[1])
    )
    full = np.zeros(part.shape)
    grown = np.repeat(np.repeat(depth, step[0], axis=0), step[1], axis=1)
    region = full[box]
    region[...] = grown[: region.shape[0], : region.shape[1]]
    return full


def _wall(
    part: np.ndarray,
    fat: np.ndarray,
    air: np.ndarray,
    spacing: tuple[float, float],
    *,
    inner: bool,
    spine: np.ndarray | None = None,
    spine_centre: tuple[float, float] | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """The region inside the muscle wall's outer edge and, if ``inner``, inside its inner edge,
    for one body part of one slice (rule 4). ``spine`` is the spine's bone in the slice and
    ``spine_centre`` its vertebral body's centre (i, j), for the trunk."""
    shape = part.shape
    box = _bbox(part)
    # Depth below the surface, square to it (a ray crosses the skin obliquely on the flanks,
    # where its run along the ray is much longer than the skin is thick).
    surface_depth = _surface_depth(part, box, spacing)
    ii, jj = np.nonzero(part)
    origin = np.array([ii.mean() * spacing[0], jj.mean() * spacing[1]])
    if spine_centre is not None:
        # The rays must see the whole wall from inside the cavity: start in front of the spine
        # (the trunk's centroid can lie on the vertebral body).
        front = jj[np.abs(ii - spine_centre[0]) * spacing[0] <= 10.0]
        if front.size:
            top = float(front.max()) * spacing[1]
            sy = spine_centre[1] * spacing[1]
            y = max(origin[1], min(sy + _ORIGIN_AHEAD_OF_SPINE_MM, 0.5 * (sy + top)))
            origin = np.array([spine_centre[0] * spacing[0], y])
    oi, oj = round(origin[0] / spacing[0]), round(origin[1] / spacing[1])
    if not (0 <= oi < shape[0] and 0 <= oj < shape[1] and part[oi, oj]):
        # A bent part: start from its deepest point instead.
        oi, oj = np.unravel_index(int(surface_depth.argmax()), shape)
        origin = np.array([oi * spacing[0], oj * spacing[1]])
    reach = float(
        np.sqrt(((ii * spacing[0] - origin[0]) ** 2 + (jj * spacing[1] - origin[1]) ** 2).max())
    ) + 2.0 * max(spacing)
    rays = _cast(origin, reach, spacing, shape)
    polar = _Polar.of(rays, box, spacing)
    in_part = part[rays.ii, rays.jj] & rays.inside
    is_fat = fat[rays.ii, rays.jj] & in_part
    solid = in_part & ~is_fat  # lean tissue, bone or air: anything that is not fat
    deep = surface_depth[rays.ii, rays.jj] >= _SKIN_MM
    step = rays.step_mm

    wall_runs = _run_ends(solid & deep, max(2, round(_WALL_MIN_MM / step)))
    outer = _last_true(wall_runs).astype(float)
    outer = _fill_nan_circular(np.where(outer < 0, np.nan, outer) * step)
    if not np.isfinite(outer).any():
        return np.zeros(shape, dtype=bool), (np.zeros(shape, dtype=bool) if inner else None)
    arc = 2.0 * np.pi * max(float(np.median(outer)), 10.0) / _N_RAYS
    open_n = int(_OPEN_ARC_MM / arc) | 1
    close_n = int(_CLOSE_ARC_MM / arc) | 1
    outer = _open_close(outer, open_n, close_n)
    if inner:
        outer = _front_hull(rays.directions, outer)
    outer_region = polar.inside(outer + 0.5 * step, shape) & part
    if not inner:
        return outer_region, None

    soft = (is_fat | (air[rays.ii, rays.jj] & in_part)) & in_part
    posterior = rays.directions[:, 1] < -np.cos(np.pi / 4)  # within 45 degrees of -y
    # Behind, fat pockets between the back muscles are walked through: a longer run is needed.
    fat_runs = np.where(
        posterior[:, None],
        _run_ends(soft, max(2, round(_INNER_FAT_POSTERIOR_MM / step))),
        _run_ends(soft, max(2, round(_INNER_FAT_MM / step))),
    )
    m_idx = np.arange(in_part.shape[1])[None, :]
    outer_idx = np.rint(outer / step).astype(int)
    inner_idx = _last_true(fat_runs & (m_idx < outer_idx[:, None])).astype(float)
    depth = (outer_idx - inner_idx) * step
    cap = np.where(posterior, _WALL_MAX_POSTERIOR_MM, _WALL_MAX_MM)
    inner_r = np.where((inner_idx >= 0) & (depth <= cap), inner_idx * step, np.nan)
    if spine is not None:
        # The back muscles and the spine are not visceral: a ray that meets the spine's bone
        # stops in front of it, whatever fat it found between the back muscles.
        on_spine = spine[rays.ii, rays.jj] & in_part
        first = on_spine.argmax(axis=1) * step - step
        hits = on_spine.any(axis=1) & (first > 10.0)
        inner_r = np.where(hits, np.fmin(inner_r, first), inner_r)
    inner_r = _fill_nan_circular(inner_r)
    if not np.isfinite(inner_r).any():
        return outer_region, np.zeros(shape, dtype=bool)
    inner_r = _front_hull(rays.directions, _open_close(inner_r, open_n, close_n))
    inner_region = polar.inside(np.minimum(inner_r, outer) + 0.5 * step, shape) & outer_region
    return outer_region, inner_region


def fat_masks(
    hu: np.ndarray,
    body: np.ndarray,
    bone: np.ndarray,
    lungs: np.ndarray,
    spacing: tuple[float, float, float],
    *,
    spine: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rule 4: SAT and VAT masks, and the intermuscular fat area (cm²) of each slice.

    ``spine`` is the vertebral body's centre (i, j) per slice, when found."""
    sat = _empty(hu.shape)
    vat = _empty(hu.shape)
    imat = np.zeros(hu.shape[2])
    xy = (float(spacing[0]), float(spacing[1]))
    pixel_cm2 = xy[0] * xy[1] / 100.0
    part_min = _PART_MIN_CM2 / pixel_cm2
    gi = np.arange(hu.shape[0])[:, None] * xy[0]
    gj = np.arange(hu.shape[1])[None, :] * xy[1]
    for z in range(hu.shape[2]):
        inside = body[:, :, z]
        if not inside.any():
            continue
        values = hu[:, :, z]
        fat = (values >= FAT_HU[0]) & (values <= FAT_HU[1]) & inside
        fat &= ~bone[:, :, z]
        fat &= ~lungs[:, :, z]
        if not fat.any():
            continue
        air = (values < FAT_HU[0]) & inside
        parts, n = ndi.label(inside)
        sizes = np.bincount(parts.ravel())
        sizes[0] = 0
        order = np.argsort(sizes)[::-1][:n]
        legs = n >= 2 and sizes[order[1]] >= 0.4 * sizes[order[0]]
        spine_z = spine_c = None
        if spine is not None and not legs:
            spine_c = (float(spine[0][z]), float(spine[1][z]))
            near = (gi - spine_c[0] * xy[0]) ** 2 + (gj - spine_c[1] * xy[1]) ** 2
            spine_z = bone[:, :, z] & (near <= _SPINE_RADIUS_MM**2)
        sat_z = fat.copy()  # what no wall claims below is subcutaneous (small parts: hands)
        vat_z = np.zeros_like(fat)
        for rank, index in enumerate(order):
            if sizes[index] < part_min:
                break
            part = parts == index
            trunk = rank == 0 and not legs
            outer, inner_region = _wall(
                part,
                fat & part,
                air & part,
                xy,
                inner=trunk,
                spine=spine_z if trunk else None,
                spine_centre=spine_c if trunk else None,
            )
            sat_z &= ~outer
            between = fat & outer
            if inner_region is not None:
                vat_z |= fat & inner_region
                between &= ~inner_region
            imat[z] += float(between.sum()) * pixel_cm2
        sat[:, :, z] = sat_z
        vat[:, :, z] = vat_z
    return sat, vat, imat


# --- L3 --------------------------------------------------------------------------------------


def _spine_centreline(
    body: np.ndarray, bone: np.ndarray, spacing: tuple[float, float, float]
) -> tuple[np.ndarray, np.ndarray] | None:
    """Per slice, the (i, j) of the vertebral body's centre (interpolated between the slices
    that cut one, held beyond them), or ``None`` when fewer than 3 slices do."""
    nz = body.shape[2]
    xy = (float(spacing[0]), float(spacing[1]))
    found_i = np.full(nz, np.nan)
    found_j = np.full(nz, np.nan)
    gi = np.arange(body.shape[0])
    gj = np.arange(body.shape[1])
    for z in range(nz):
        inside = body[:, :, z]
        if not inside.any():
            continue
        ii, jj = np.nonzero(inside)
        ic, jc = ii.mean(), jj.mean()
        band_i = np.abs(gi - ic) * xy[0] <= 40.0
        back = gj <= jc
        roi = bone[:, :, z] & band_i[:, None] & back[None, :]
        if roi.sum() * xy[0] * xy[1] < 300.0:
            continue
        i0, i1 = np.flatnonzero(band_i)[[0, -1]]
        crop = roi[i0 : i1 + 1]
        depth = ndi.distance_transform_edt(crop, sampling=xy)
        if depth.max() < 10.0:  # thinner than a vertebral body (radius 10 mm)
            continue
        a, b = np.unravel_index(int(depth.argmax()), depth.shape)
        found_i[z], found_j[z] = a + i0, b
    ok = np.isfinite(found_i)
    if ok.sum() < 3:
        return None
    zs = np.flatnonzero(ok)
    window = max(3, round(30.0 / spacing[2]) | 1)
    si = ndi.median_filter(found_i[ok], window, mode="nearest")
    sj = ndi.median_filter(found_j[ok], window, mode="nearest")
    all_z = np.arange(nz)
    return np.interp(all_z, zs, si), np.interp(all_z, zs, sj)


def _vertebral_bodies(
    hu: np.ndarray,
    centre_i: np.ndarray,
    centre_j: np.ndarray,
    spacing: tuple[float, float, float],
    voxel_ml: float,
) -> list[tuple[float, int, int]]:
    """Vertebral bodies as ``(centre slice, first slice, last slice)``, top first."""
    nz = hu.shape[2]
    gi = np.arange(hu.shape[0])[:, None] * spacing[0]
    gj = np.arange(hu.shape[1])[None, :] * spacing[1]
    column = _empty(hu.shape)
    for z in range(nz):
        dx = gi - centre_i[z] * spacing[0]
        dy = gj - centre_j[z] * spacing[1]
        box = (np.abs(dx) <= 20.0) & (dy >= -12.0) & (dy <= 25.0)
        column[:, :, z] = box & (hu[:, :, z] > VERTEBRA_HU)
    labels, n, crop = _label(column)
    del column
    if n == 0:
        return []
    z0 = crop[2].start
    pieces: list[tuple[int, int, np.ndarray]] = []
    for index, box in enumerate(ndi.find_objects(labels), start=1):
        if box is None:
            continue
        component = labels[box] == index
        if component.sum() * voxel_ml < 1.0:
            continue
        per_slice = component.sum(axis=(0, 1)).astype(float)
        if per_slice.size * spacing[2] < 8.0:
            continue
        pieces.append((z0 + box[2].start, z0 + box[2].stop - 1, per_slice))
    if not pieces:
        return []
    heights = np.array([p[1] - p[0] + 1 for p in pieces], dtype=float)
    median_h = float(np.median(heights))
    bodies: list[tuple[float, int, int]] = []
    for start, _stop, per_slice in pieces:
        parts = [(start, per_slice)]
        if per_slice.size > 1.6 * median_h and per_slice.size >= 6:
            # Two bodies joined through a thin disc: split at the narrowest middle slice.
            lo, hi = int(per_slice.size * 0.2), int(np.ceil(per_slice.size * 0.8))
            cut = lo + int(per_slice[lo:hi].argmin())
            parts = [(start, per_slice[:cut]), (start + cut + 1, per_slice[cut + 1 :])]
        for first, counts in parts:
            if counts.size == 0 or counts.sum() == 0:
                continue
            zc = first + float((np.arange(counts.size) * counts).sum() / counts.sum())
            bodies.append((zc, first, first + counts.size - 1))
    bodies.sort(key=lambda b: -b[0])
    return bodies


def _lowest_rib_head(
    bone: np.ndarray,
    centre_i: np.ndarray,
    centre_j: np.ndarray,
    spacing: tuple[float, float, float],
    voxel_ml: float,
) -> float | None:
    """The slice of the lowest rib's medial end (the twelfth rib's head), or ``None``."""
    nz = bone.shape[2]
    gi = np.arange(bone.shape[0])[:, None] * spacing[0]
    lateral = _empty(bone.shape)
    for z in range(nz):
        dx = np.abs(gi - centre_i[z] * spacing[0])
        lateral[:, :, z] = bone[:, :, z] & (dx > 40.0)
    labels, n, crop = _label(lateral)
    del lateral
    if n == 0:
        return None
    lowest: float | None = None
    for index, box in enumerate(ndi.find_objects(labels), start=1):
        if box is None:
            continue
        component = labels[box] == index
        ml = float(component.sum()) * voxel_ml
        if not 0.3 <= ml <= 60.0:
            continue
        ci, cj, cz = np.nonzero(component)
        ci = ci + crop[0].start + box[0].start
        cj = cj + crop[1].start + box[1].start
        cz = cz + crop[2].start + box[2].start
        dx = np.abs(ci - centre_i[cz]) * spacing[0]
        dy = (cj - centre_j[cz]) * spacing[1]
        medial = dx <= dx.min() + 5.0
        if dx.min() > 50.0 or dx.max() < 65.0 or dx.max() - dx.min() < 25.0:
            continue
        if not -60.0 <= float(dy[medial].mean()) <= 10.0:
            continue
        head_z = float(cz[medial].mean())
        if head_z < float(cz.mean()):
            continue  # runs up from its medial end: not a rib (an iliac crest)
        if lowest is None or head_z < lowest:
            lowest = head_z
    return lowest


def _l3_level(
    hu: np.ndarray,
    bone: np.ndarray,
    line: tuple[np.ndarray, np.ndarray] | None,
    spacing: tuple[float, float, float],
    voxel_ml: float,
    hint: int | None,
) -> dict[str, Any]:
    nz = hu.shape[2]
    if hint is not None:
        if 0 <= int(hint) < nz:
            return {"slice": int(hint), "method": "segmentation", "note": "vertebrae_L3 centre"}
        note = f"segmentation's L3 slice {hint} is outside the volume; "
    else:
        note = ""
    if line is None:
        return {"slice": None, "method": "not found", "note": note + "no spine found"}
    centre_i, centre_j = line
    bodies = _vertebral_bodies(hu, centre_i, centre_j, spacing, voxel_ml)
    head = _lowest_rib_head(bone, centre_i, centre_j, spacing, voxel_ml)
    if head is None:
        return {
            "slice": None,
            "method": "not found",
            "note": note + "no rib-bearing vertebra (T12) in the field of view",
            "vertebral_bodies": len(bodies),
        }
    if not bodies:
        return {"slice": None, "method": "not found", "note": note + "no vertebral bodies found"}
    # T12: the body holding the rib head, else the nearest one.
    t12 = min(
        range(len(bodies)),
        key=lambda k: 0.0 if bodies[k][1] <= head <= bodies[k][2] else abs(bodies[k][0] - head),
    )
    names = ["T12", "L1", "L2", "L3", "L4", "L5"]
    levels = {
        names[k]: [bodies[t12 + k][1], bodies[t12 + k][2]]
        for k in range(len(names))
        if t12 + k < len(bodies)
    }
    if t12 + 3 >= len(bodies):
        return {
            "slice": None,
            "method": "not found",
            "note": note + "the field of view ends above L3 (counting down from T12)",
            "rib_head_slice": round(head, 1),
            "levels": levels,
        }
    l3 = bodies[t12 + 3]
    return {
        "slice": round(l3[0]),
        "method": "hu_rules",
        "note": note + "third vertebral body below the lowest rib-bearing one (T12)",
        "rib_head_slice": round(head, 1),
        "levels": levels,
    }


# --- measurements ----------------------------------------------------------------------------


def _measure_rows(
    hu: np.ndarray, named: dict[str, tuple[np.ndarray, int | None]], voxel_ml: float
) -> list[dict[str, Any]]:
    """Volume, mean and SD of HU of each non-empty mask, slab by slab (float64 sums only)."""
    nz = hu.shape[2]
    step = max(1, _SLAB_VOXELS // max(1, hu.shape[0] * hu.shape[1]))
    sums = {name: [0, 0.0, 0.0] for name in named}
    for z0 in range(0, nz, step):
        values = hu[:, :, z0 : z0 + step]
        for name, (mask, _) in named.items():
            v = values[mask[:, :, z0 : z0 + step]].astype(np.float64)
            acc = sums[name]
            acc[0] += v.size
            acc[1] += float(v.sum())
            acc[2] += float((v * v).sum())
    rows = []
    for name, (_, label) in named.items():
        n, s, ss = sums[name]
        if n == 0:
            continue
        mean = s / n
        std = float(np.sqrt(max(ss / n - mean * mean, 0.0)))
        rows.append(
            {
                "name": name,
                "label": label,
                "voxels": int(n),
                "volume_ml": round(n * voxel_ml, 3),
                "hu_mean": round(float(mean), 2),
                "hu_std": round(std, 2),
                "source": SOURCE,
            }
        )
    return rows
