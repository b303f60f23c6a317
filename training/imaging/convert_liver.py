"""``python -m training.imaging.convert_liver``: the liver and liver-lesion U-Nets of
pyliverlesionseg 0.3 (Keras HDF5 weights, Apache-2.0) converted to our PyTorch network.

Steps: get the wheel (``--wheel PATH``, else ``pip download`` into ``var/cache/pyliverlesionseg/``)
and check its sha256; read the two weight files inside it with h5py (the package itself needs
Python 3.6 and TensorFlow 1.12: it is never installed or imported); map every Keras convolution, in
the order Keras created them, onto ``inference.engines.imaging.unet.UNet3d`` with explicit shape
checks; check the mapping numerically against an independent numpy implementation of the Keras
layers (every convolution, the first stage, and the whole network on a small random input); save
float16 state dicts; measure the liver Dice against TotalSegmentator on the example CT
(``training.imaging.eval_liver``, float32 and float16 weights); write ``models/liver/<version>/``
with ``liver_config.json``, ``metrics.json`` and ``MODEL_CARD.md``, and point ``CURRENT`` at it.

Keras stores a Conv3D kernel as ``(kx, ky, kz, in, out)`` for channels-last input
``(N, x, y, z, C)`` and, like PyTorch, computes a cross-correlation; PyTorch wants
``(out, in, kx, ky, kz)`` for ``(N, C, x, y, z)``: the kernel is transposed ``(4, 3, 0, 1, 2)``
and no axis is flipped.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import logging
import re
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import torch
from torch.nn import functional as F

from inference.engines.imaging.liver import CONFIG_FILE, MODEL_NAME
from inference.engines.imaging.unet import SPECS, UNet3d, build_unet

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_VERSION = "liver-2026.11.1"
PACKAGE = "pyliverlesionseg"
PACKAGE_VERSION = "0.3"
WHEEL_NAME = f"{PACKAGE}-{PACKAGE_VERSION}-py3-none-any.whl"
# sha256 of the wheel as published on PyPI (pip checks the index's hash when it downloads it).
WHEEL_SHA256 = "ffe1576aefff5922ea8d1cfa2c50864cda97798798559542b9517689fd290cb8"
WHEEL_URL = f"https://pypi.org/project/{PACKAGE}/{PACKAGE_VERSION}/"
SOURCE_REPO = "https://github.com/KUL-recon-lab/pyliverlesionseg"
TRAINED = f"{PACKAGE}/trained_models/"
H5_FILES = {
    "liver": TRAINED + "model_unet_ct_mr_liv_seg_resize_1.5mm_med_3_resize_3mm_20201011"
    "_dice_loss_val_binary_dice_mean.hdf5",
    "lesion": TRAINED + "model_unet_ct_mr_lesion_seg_resize_1mm_1mm_3mm_20220207"
    "_dice_loss_val_binary_dice_mean.hdf5",
}
WEIGHT_FILES = {"liver": "liver_unet.pt", "lesion": "lesion_unet.pt"}
# The numpy-vs-torch checks run in float64; a wrong axis order or layer order gives differences
# of the order of the activations themselves.
CHECK_TOLERANCE = 1e-6
# Small asymmetric inputs that are valid for each net (whole-network check).
CHECK_INPUT = {"liver": (81, 54, 54), "lesion": (100, 92, 54)}


class ConversionError(RuntimeError):
    """The HDF5 file does not hold the network we expect."""


@dataclass(frozen=True)
class KerasConv:
    name: str
    kernel: np.ndarray  # (kx, ky, kz, in, out)
    bias: np.ndarray  # (out,)


# The wheel ------------------------------------------------------------------------------------


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch_wheel(cache_dir: Path) -> Path:
    """The wheel in ``cache_dir``, downloaded with pip (no dependencies, never installed) if
    absent."""
    wheel = cache_dir / WHEEL_NAME
    if not wheel.is_file():
        cache_dir.mkdir(parents=True, exist_ok=True)
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--ignore-requires-python",
            "--only-binary=:all:",
            f"{PACKAGE}=={PACKAGE_VERSION}",
            "-d",
            str(cache_dir),
        ]
        log.info("downloading %s", " ".join(cmd[3:]))
        subprocess.run(cmd, check=True)  # noqa: S603 (fixed arguments)
    return wheel


def verified_wheel(wheel: Path) -> Path:
    digest = file_sha256(wheel)
    if digest != WHEEL_SHA256:
        raise ConversionError(f"{wheel}: sha256 {digest} is not the expected {WHEEL_SHA256}")
    return wheel


def read_keras_convs(wheel: Path, key: str) -> tuple[list[KerasConv], dict[str, Any]]:
    """The Conv3D layers of one weight file in the wheel, in the order Keras created them, and
    what the file says about itself (voxel size, Keras version, sha256)."""
    with zipfile.ZipFile(wheel) as zf:
        raw = zf.read(H5_FILES[key])
    with h5py.File(io.BytesIO(raw), "r") as h5:
        layer_names = [n.decode() for n in h5.attrs["layer_names"]]
        convs = []
        for name in layer_names:
            weight_names = [w.decode() for w in h5[name].attrs["weight_names"]]
            if not weight_names:
                continue
            expected = [f"{name}/kernel:0", f"{name}/bias:0"]
            if not re.fullmatch(r"conv3d_\d+", name) or weight_names != expected:
                raise ConversionError(f"{key}: unexpected weighted layer {name} {weight_names}")
            convs.append(
                KerasConv(
                    name,
                    np.asarray(h5[name][expected[0]], dtype=np.float32),
                    np.asarray(h5[name][expected[1]], dtype=np.float32),
                )
            )
        # Keras numbers layers of a kind as it creates them; the file lists them by graph depth.
        convs.sort(key=lambda c: int(c.name.rsplit("_", 1)[1]))
        info = {
            "file": H5_FILES[key].rsplit("/", 1)[1],
            "sha256": hashlib.sha256(raw).hexdigest(),
            "keras_version": _text(h5.attrs.get("keras_version")),
            "backend": _text(h5.attrs.get("backend")),
            "voxel_mm": [float(v) for v in h5["header/voxel_size"][()]],
            "conv_layers": len(convs),
        }
    return convs, info


def _text(value: Any) -> str | None:
    return (
        value.decode() if isinstance(value, bytes) else (str(value) if value is not None else None)
    )


# The mapping ----------------------------------------------------------------------------------


def conv_order(net: UNet3d) -> list[str]:
    """Our convolutions (state-dict prefixes) in the order the Keras builder creates them: each
    down stage (two convolutions, then its residual 1x1x1 one), then the up stages from the
    deepest, then the head."""
    names: list[str] = []
    for kind, order in (("down", range(len(net.down))), ("up", reversed(range(len(net.up))))):
        stages = net.down if kind == "down" else net.up
        for i in order:
            names += [f"{kind}.{i}.convs.0", f"{kind}.{i}.convs.1"]
            if stages[i].skip is not None:
                names.append(f"{kind}.{i}.skip")
    return [*names, "head"]


def keras_to_torch(kernel: np.ndarray) -> torch.Tensor:
    """``(kx, ky, kz, in, out)`` -> ``(out, in, kx, ky, kz)``."""
    return torch.from_numpy(np.ascontiguousarray(kernel.transpose(4, 3, 0, 1, 2)))


def torch_to_keras(weight: torch.Tensor) -> np.ndarray:
    """The inverse of ``keras_to_torch``."""
    return np.ascontiguousarray(weight.detach().cpu().numpy().transpose(2, 3, 4, 1, 0))


def convert(convs: list[KerasConv], spec_name: str) -> tuple[UNet3d, list[dict[str, Any]]]:
    """Our network with every Keras weight in place (loaded strictly), and the mapping."""
    net = build_unet(spec_name)
    names = conv_order(net)
    if len(names) != len(convs):
        raise ConversionError(f"{spec_name}: {len(convs)} Keras convolutions, {len(names)} ours")
    state: dict[str, torch.Tensor] = {}
    mapping = []
    for prefix, conv in zip(names, convs, strict=True):
        module = net.get_submodule(prefix)
        assert isinstance(module, torch.nn.Conv3d)
        keras_shape = (*module.kernel_size, module.in_channels, module.out_channels)
        if conv.kernel.shape != keras_shape or conv.bias.shape != (module.out_channels,):
            raise ConversionError(
                f"{spec_name}: {conv.name} {conv.kernel.shape} does not fit {prefix} {keras_shape}"
            )
        weight = keras_to_torch(conv.kernel)
        if weight.shape != module.weight.shape:
            raise ConversionError(f"{spec_name}: {prefix} weight shape {tuple(weight.shape)}")
        state[f"{prefix}.weight"] = weight
        state[f"{prefix}.bias"] = torch.from_numpy(conv.bias.copy())
        mapping.append({"keras": conv.name, "torch": prefix, "keras_shape": list(keras_shape)})
    net.load_state_dict(state, strict=True)
    return net.eval(), mapping


# An independent numpy implementation of the Keras graph (channels-last, one sample) -----------


def np_conv3d(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray, padding: str) -> np.ndarray:
    """Keras ``Conv3D``: ``x`` (X, Y, Z, in), ``kernel`` (kx, ky, kz, in, out), cross-correlation,
    ``same`` pads (k - 1) / 2 zeros on each side."""
    k = kernel.shape[:3]
    if padding == "same":
        x = np.pad(x, [(s // 2, s // 2) for s in k] + [(0, 0)])
    out_shape = [n - s + 1 for n, s in zip(x.shape[:3], k, strict=True)]
    out = np.zeros((*out_shape, kernel.shape[4]), dtype=x.dtype) + bias.astype(x.dtype)
    for i in range(k[0]):
        for j in range(k[1]):
            for m in range(k[2]):
                window = x[i : i + out_shape[0], j : j + out_shape[1], m : m + out_shape[2]]
                out += window @ kernel[i, j, m].astype(x.dtype)
    return out


def np_norm_lrelu(x: np.ndarray) -> np.ndarray:
    """The package's Lambda ``(x - mean) / (std + K.epsilon())`` over space, then LeakyReLU."""
    y = (x - x.mean(axis=(0, 1, 2))) / (x.std(axis=(0, 1, 2)) + 1e-7)
    return np.where(y > 0, y, 0.01 * y)


def np_max_pool(x: np.ndarray, f: int) -> np.ndarray:
    X, Y, Z, C = x.shape
    return x.reshape(X // f, f, Y // f, f, Z // f, f, C).max(axis=(1, 3, 5))


def np_upsample(x: np.ndarray, f: int, linear: bool) -> np.ndarray:
    """``UpSampling3D(f)`` (repeat), then for ``linear`` a stride-1 ``AveragePooling3D(f)``."""
    for axis in range(3):
        x = np.repeat(x, f, axis=axis)
    if not linear:
        return x
    out_shape = [n - f + 1 for n in x.shape[:3]]
    acc = np.zeros((*out_shape, x.shape[3]), dtype=x.dtype)
    for i in range(f):
        for j in range(f):
            for m in range(f):
                acc += x[i : i + out_shape[0], j : j + out_shape[1], m : m + out_shape[2]]
    return acc / f**3


def np_crop(x: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``Cropping3D`` with equal margins on both sides."""
    margins = [(n - m) // 2 for n, m in zip(x.shape[:3], shape[:3], strict=True)]
    return x[tuple(slice(c, c + m) for c, m in zip(margins, shape[:3], strict=True))]


def np_keras_unet(convs: list[KerasConv], spec_name: str, x: np.ndarray) -> np.ndarray:
    """The logits of the package's ``create_unet_like_model`` for ``x`` (X, Y, Z, 1), walking the
    Keras builder's loops and taking the convolutions in creation order."""
    spec = SPECS[spec_name]
    it: Iterator[KerasConv] = iter(convs)

    def conv(h: np.ndarray, padding: str) -> np.ndarray:
        c = next(it)
        return np_conv3d(h, c.kernel, c.bias, padding)

    def stage(h: np.ndarray, first: bool) -> np.ndarray:
        shortcut = h
        for j in range(2):
            if not (first and j == 0):
                h = np_norm_lrelu(h)
            h = conv(h, spec.padding)
        if spec.residual:
            s = np_crop(shortcut, h.shape)
            if s.shape[3] != h.shape[3]:
                s = conv(s, spec.padding)
            h = h + s
        return h

    lefts = []
    h = x
    for level in range(len(spec.down)):
        if level:
            h = np_max_pool(h, spec.factor)
        h = stage(h, first=level == 0)
        lefts.append(h)
    for level in reversed(range(len(spec.up))):
        h = np_upsample(h, spec.factor, spec.upsample == "linear")
        h = np.concatenate([np_crop(lefts[level], h.shape), h], axis=3)
        h = stage(h, first=False)
    h = conv(np_norm_lrelu(h), spec.padding)
    if next(it, None) is not None:
        raise ConversionError(f"{spec_name}: convolutions left over after the graph")
    return h


def check_conversion(
    convs: list[KerasConv], net: UNet3d, spec_name: str, seed: int = 0
) -> dict[str, float]:
    """Largest absolute differences (float64) between our layers and the numpy Keras layers on
    random inputs: every convolution, the first stage (conv, norm, leaky ReLU, conv) and the
    whole network's logits (with their scale, for reference)."""
    net64 = float64_net(net)
    rng = np.random.default_rng(seed)
    x = rng.uniform(-0.5, 0.5, size=(*CHECK_INPUT[spec_name], 1))
    ref = np_keras_unet(convs, spec_name, x)
    with torch.inference_mode():
        ours = net64(_to_torch(x))
    return {
        "max_abs_diff_per_conv": check_layers(convs, net64, seed),
        "max_abs_diff_first_stage": check_first_stage(convs, net64, seed),
        "max_abs_diff_network_logits": _max_diff(ref, ours),
        "network_logit_scale": float(np.abs(ref).max()),
    }


def float64_net(net: UNet3d) -> UNet3d:
    """A float64 copy of ``net``, channels-last as the engine runs it (its instance norm and
    residual code paths differ from the plain layout's)."""
    copy = build_unet(net.spec.name)
    copy.load_state_dict(net.state_dict(), strict=True)
    return copy.double().to(memory_format=torch.channels_last_3d).eval()  # type: ignore[call-overload]


def check_layers(convs: list[KerasConv], net64: UNet3d, seed: int = 0) -> float:
    """Each convolution of ``net64`` against numpy's Keras ``Conv3D`` with the Keras kernel, on
    a random asymmetric 7x6x5 input: the largest absolute difference."""
    rng = np.random.default_rng(seed)
    worst = 0.0
    with torch.inference_mode():
        for prefix, conv in zip(conv_order(net64), convs, strict=True):
            module = net64.get_submodule(prefix)
            assert isinstance(module, torch.nn.Conv3d)
            x = rng.uniform(-1, 1, size=(7, 6, 5, module.in_channels))
            ref = np_conv3d(x, conv.kernel.astype(np.float64), conv.bias, "valid")
            ours = F.conv3d(_to_torch(x), module.weight, module.bias)
            worst = max(worst, _max_diff(ref, ours))
    return worst


def check_first_stage(convs: list[KerasConv], net64: UNet3d, seed: int = 0) -> float:
    """The first stage (conv, instance norm, leaky ReLU, conv, and the residual 1x1x1 conv of
    the lesion net) against numpy on a random 13x12x11 input."""
    spec = net64.spec
    x = np.random.default_rng(seed).uniform(-0.5, 0.5, size=(13, 12, 11, 1))
    h = np_conv3d(x, convs[0].kernel.astype(np.float64), convs[0].bias, spec.padding)
    ref = np_conv3d(
        np_norm_lrelu(h), convs[1].kernel.astype(np.float64), convs[1].bias, spec.padding
    )
    if spec.residual:
        skip = convs[2]
        ref = ref + np_conv3d(
            np_crop(x, ref.shape), skip.kernel.astype(np.float64), skip.bias, "valid"
        )
    with torch.inference_mode():
        ours = net64.down[0](_to_torch(x), normalize_input=False)
    return _max_diff(ref, ours)


def _to_torch(x: np.ndarray) -> torch.Tensor:
    t = torch.from_numpy(np.ascontiguousarray(x.transpose(3, 0, 1, 2)))[None].double()
    return t.contiguous(memory_format=torch.channels_last_3d)


def _max_diff(ref: np.ndarray, ours: torch.Tensor) -> float:
    got = ours[0].numpy().transpose(1, 2, 3, 0)
    if got.shape != ref.shape:
        raise ConversionError(f"shape {got.shape} differs from the Keras {ref.shape}")
    return float(np.abs(got - ref).max())


# The command ----------------------------------------------------------------------------------


def save_half(net: UNet3d, path: Path) -> float:
    """Save the state dict as float16; returns the largest rounding error of a weight."""
    state = {k: v.detach().to(torch.float16).contiguous() for k, v in net.state_dict().items()}
    torch.save(state, path)
    return max(float((v.float() - net.state_dict()[k]).abs().max()) for k, v in state.items())


def run(*, wheel: Path | None, out_root: Path, version: str, set_current: bool) -> dict[str, Any]:
    """Convert, check, evaluate and write ``out_root/<version>/`` (see the module docstring)."""
    from training.imaging.eval_liver import evaluate_all

    t0 = time.perf_counter()
    wheel = verified_wheel(wheel or fetch_wheel(REPO_ROOT / "var" / "cache" / PACKAGE))
    out_dir = out_root / version
    out_dir.mkdir(parents=True, exist_ok=True)
    nets: dict[str, UNet3d] = {}
    sources: dict[str, Any] = {}
    checks: dict[str, Any] = {}
    for key in ("liver", "lesion"):
        convs, info = read_keras_convs(wheel, key)
        net, mapping = convert(convs, key)
        report = check_conversion(convs, net, key)
        log.info("%s numerical check: %s", key, report)
        if max(v for k, v in report.items() if k.startswith("max_abs")) > CHECK_TOLERANCE:
            raise ConversionError(f"{key}: numerical check failed {report}")
        info["fp16_max_weight_error"] = save_half(net, out_dir / WEIGHT_FILES[key])
        info["weights_bytes"] = (out_dir / WEIGHT_FILES[key]).stat().st_size
        info["parameters"] = sum(p.numel() for p in net.parameters())
        nets[key], sources[key], checks[key] = net, info, report
        (out_dir / f"{key}_mapping.json").write_text(
            json.dumps(mapping, indent=1) + "\n", encoding="utf-8"
        )
    config = {
        "name": MODEL_NAME,
        "version": version,
        "nets": {
            key: {
                "file": WEIGHT_FILES[key],
                "spec": key,
                "voxel_mm": sources[key]["voxel_mm"],
                "storage": "float16",
            }
            for key in nets
        },
    }
    (out_dir / CONFIG_FILE).write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    log.info("evaluating on the example CT (float16 and float32 weights)")
    evaluation = evaluate_all(out_dir, float32_nets=nets)
    metrics = {
        "version": version,
        "name": MODEL_NAME,
        "source": {
            "package": f"{PACKAGE}=={PACKAGE_VERSION}",
            "wheel": WHEEL_NAME,
            "wheel_sha256": WHEEL_SHA256,
            "url": WHEEL_URL,
            "repository": SOURCE_REPO,
            "licence": "Apache-2.0",
            "authors": "Xikai Tang, Georg Schramm (KU Leuven)",
        },
        "nets": sources,
        "conversion_check": {"tolerance": CHECK_TOLERANCE, **checks},
        "evaluation": evaluation,
        "headline": {
            "liver_dice_vs_totalsegmentator": evaluation["liver_dice_float16"],
            "liver_dice_float32_weights": evaluation.get("liver_dice_float32"),
        },
        "conversion_seconds": round(time.perf_counter() - t0, 1),
    }
    (out_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    (out_dir / "MODEL_CARD.md").write_text(model_card(metrics), encoding="utf-8")
    if set_current:
        (out_root / "CURRENT").write_text(version + "\n", encoding="utf-8")
    return metrics


def model_card(m: dict[str, Any]) -> str:
    """``MODEL_CARD.md`` from ``metrics.json``."""
    ev, nets, chk = m["evaluation"], m["nets"], m["conversion_check"]
    f16, f32 = ev["float16"], ev.get("float32", {})
    size_mb = sum(n["weights_bytes"] for n in nets.values()) / 1e6
    return f"""# Model card: liver and liver-lesion U-Nets ({m["version"]})

**Not a medical device; for decision support only.** Not cleared or approved for clinical use.
Liver lesions in particular are **decision support, unvalidated on our data**.

## What it does
Given a CT volume, the liver net (3 mm voxels) outputs the whole-liver mask; the lesion net
(1x1x3 mm voxels) then outputs liver-lesion candidates inside the liver. The engine
(`inference/engines/imaging/liver.py`) returns both masks on the volume's own grid, the liver's
volume and mean HU, and for each connected lesion of at least 0.1 mL its volume, longest axial
diameter, mean HU and centroid.

## Origin, licence and attribution
The trained weights are those of **pyliverlesionseg {PACKAGE_VERSION}** by Xikai Tang, Georg
Schramm and colleagues (KU Leuven, Medical Imaging Research Center), published on PyPI
(`{WHEEL_NAME}`, sha256 `{m["source"]["wheel_sha256"]}`; source {SOURCE_REPO}) under the
**Apache License 2.0**; this conversion is a derivative work under the same licence. Reference:
Tang X. et al., *Whole liver segmentation based on deep learning and manual adjustment for
clinical use in SIRT*, Eur J Nucl Med Mol Imaging 47, 2020. The package builds on DeepVoxNet
(Robben D., Bertels J. et al., KU Leuven, 2018). Its funding acknowledgements: EU Horizon 2020
ITN HYBRID (MSCA 764458) and FWO (G082418N).

Files converted: `{nets["liver"]["file"]}` (Keras {nets["liver"]["keras_version"]},
sha256 `{nets["liver"]["sha256"]}`) and `{nets["lesion"]["file"]}` (sha256
`{nets["lesion"]["sha256"]}`).

## Data the original was trained on
As far as the package says (its README, metadata and training script): CT **and MR** images
("ct_mr" in both file names) of the authors' centre, preprocessed and organised as `case_N`
folders; the liver net's defaults are 196 cases (169 training, 27 validation), the lesion net's
command line 180 cases (145 training, 35 validation); Dice loss, model kept at the best
validation Dice. The scanners, patients, lesion types and the split of CT versus MR are not
stated. We had no access to that data.

## Our conversion
- Our own PyTorch network (`inference/engines/imaging/unet.py`) rebuilt from the package's
  architecture code; the package is never installed or imported (it needs Python 3.6 and
  TensorFlow 1.12). `python -m training.imaging.convert_liver` reads both HDF5 files with h5py,
  maps each Keras `Conv3D` (in creation order) onto our layers with explicit shape checks, and
  transposes kernels `(kx, ky, kz, in, out)` -> `(out, in, kx, ky, kz)` (no flip: both compute a
  cross-correlation). Mapping tables: `liver_mapping.json`, `lesion_mapping.json`.
- Numerical check, float64, against an independent numpy implementation of the Keras layers on
  random inputs (largest absolute difference; tolerance {chk["tolerance"]}):

{_check_table(chk)}

- Weights are stored as float16 ({size_mb:.1f} MB in all; largest rounding error of a weight
  {max(n["fp16_max_weight_error"] for n in nets.values()):.1e}) and run in float32.
- Preprocessing as the package trained it: liver: resample to 1.5 mm, 3x3x3 median, resample to
  3 mm, window [-200, 200] HU -> [-0.5, 0.5]; lesions: window, resample to 1x1x3 mm, -0.5
  outside the liver dilated by 2 voxels. Where we differ from the package's own pipeline: the
  liver net runs on the body's in-plane box over all slices instead of the package's crop guess
  (which cut off the liver dome on some scans), in tiles of at most the package's patch, with one
  more tile centred on the liver when the body needs several; lesion tiles are 92x84x42 voxels
  or up to a fifth larger (half the compute), placed only where there is liver; masks are
  resampled by interpolating probabilities, not by zooming binary masks.

## Evaluation (what we could do)
No training or tuning was done here, so there is no split of our own: one external check on
the one CT we have with a reference. Reference: TotalSegmentator's `--fast` liver mask on the
example CT of the shared datasets (a model output, not a manual contour; 30 slices of 3 mm, the
liver cut at both ends: {f16["reference_ml"]} mL).

{_dice_table(f16, f32)}

Lesions found on the example CT: {f16["lesions_found"]} (no lesion reference exists for it). The
lesion net has **not** been evaluated against any lesion reference here.

## Limits
- One reference CT, itself a model output; thick (3 mm) slices. No MR through this engine.
- The nets normalise each tile by its own statistics: results depend on how much of the body a
  tile holds (smaller tiles cost the liver net Dice). Very tall or wide scans need several tiles
  and a refinement tile; not validated on such scans.
- Lesions: decision support, unvalidated on our data; candidates under 0.1 mL are dropped;
  the training data's lesion types and sizes are unknown.
- Contrast phase, pathology (e.g. cirrhosis, large tumours), implants and children were not
  assessed.

## Intended use
Research and decision support by qualified clinicians, as a pointer for review of the liver.
Never as a diagnosis, to rule out disease, or for treatment planning without expert review.
"""


def _check_table(chk: dict[str, Any]) -> str:
    rows = [
        "| net | every conv | first stage (conv, norm, lReLU, conv) | whole net logits (scale) |",
        "|---|---|---|---|",
    ]
    for key in ("liver", "lesion"):
        c = chk[key]
        rows.append(
            f"| {key} | {c['max_abs_diff_per_conv']:.1e} | {c['max_abs_diff_first_stage']:.1e} "
            f"| {c['max_abs_diff_network_logits']:.1e} ({c['network_logit_scale']:.1f}) |"
        )
    return "\n".join(rows)


def _dice_table(f16: dict[str, Any], f32: dict[str, Any]) -> str:
    rows = [
        "| weights | Dice (full CT, reference slices) | Dice (30-slice CT alone) "
        "| liver mL (full CT) | mean HU |",
        "|---|---|---|---|---|",
    ]
    for name, r in (("float16 (shipped)", f16), ("float32", f32)):
        if r:
            rows.append(
                f"| {name} | {r['liver_dice']} | {r['liver_dice_30_slice_ct']} "
                f"| {r['liver_ml_full_ct']} | {r['liver_hu_mean']} |"
            )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(
        prog="python -m training.imaging.convert_liver", description=__doc__
    )
    ap.add_argument("--wheel", type=Path, default=None, help=f"a downloaded {WHEEL_NAME}")
    ap.add_argument("--out", type=Path, default=REPO_ROOT / "models" / "liver")
    ap.add_argument("--version", default=DEFAULT_VERSION)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--no-current", action="store_true", help="do not update CURRENT")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    torch.set_num_threads(args.threads)
    metrics = run(
        wheel=args.wheel, out_root=args.out, version=args.version, set_current=not args.no_current
    )
    log.info("done: %s", json.dumps(metrics["headline"]))


if __name__ == "__main__":
    main()
