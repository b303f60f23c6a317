"""Running a MONAI bundle (MONAI Model Zoo layout) on a validated volume.

Layout: ``configs/inference.json`` (required), ``configs/metadata.json`` (optional: name, version,
output channel names), ``models/model.ts`` (TorchScript) or ``models/model.pt`` (a state_dict for
the config's ``network_def``). The config's ``preprocessing``, ``inferer`` and ``postprocessing``
are used when present (defaults: load + channel-first, a simple inferer); ``Save*`` transforms are
dropped so a bundle never writes files. The volume is handed over as a RAS NIfTI file written from
the already validated ``Volume``, so a zipped DICOM series runs through bundles too.

A bundle config can execute arbitrary Python (``_target_`` and ``$`` expressions): bundle folders
come only from the server's configuration, never from a request.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import torch

from inference.engines.imaging.volume import Volume
from inference.errors import InvalidInput

CONFIG_REL = Path("configs/inference.json")
METADATA_REL = Path("configs/metadata.json")


@dataclass
class BundleOutput:
    """What a bundle produced: a label map on the volume's grid, or class probabilities."""

    name: str
    version: str
    labelmap: np.ndarray | None = None
    label_names: dict[int, str] = field(default_factory=dict)
    class_probabilities: dict[str, float] | None = None


def _metadata(bundle_dir: Path) -> dict[str, Any]:
    path = bundle_dir / METADATA_REL
    if not path.is_file():
        return {}
    try:
        meta: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidInput(
            f"bundle: {METADATA_REL} is not valid JSON ({exc})", field="bundle"
        ) from exc
    return meta


def _channel_names(meta: dict[str, Any]) -> dict[int, str]:
    fmt = meta.get("network_data_format", {}).get("outputs", {}).get("pred", {})
    names = fmt.get("channel_def", {}) if isinstance(fmt, dict) else {}
    out = {}
    for key, value in names.items():
        try:
            out[int(key)] = str(value)
        except (TypeError, ValueError):
            continue
    return out


def check_bundle_dir(bundle_dir: Path) -> None:
    """The MONAI Model Zoo layout: a config and a model file."""
    if not (bundle_dir / CONFIG_REL).is_file():
        raise InvalidInput(f"bundle: {bundle_dir.name} has no {CONFIG_REL}", field="bundle")
    if not any((bundle_dir / "models" / f).is_file() for f in ("model.ts", "model.pt")):
        raise InvalidInput(
            f"bundle: {bundle_dir.name} has neither models/model.ts nor models/model.pt",
            field="bundle",
        )


def _network(parser: Any, bundle_dir: Path) -> torch.nn.Module:
    ts = bundle_dir / "models" / "model.ts"
    if ts.is_file():
        net: torch.nn.Module = torch.jit.load(str(ts), map_location="cpu")
    else:
        net = parser.get_parsed_content("network_def")
        state = torch.load(
            bundle_dir / "models" / "model.pt", map_location="cpu", weights_only=True
        )
        if isinstance(state, dict) and "model" in state and isinstance(state["model"], dict):
            state = state["model"]  # checkpoints saved by MONAI's CheckpointSaver
        net.load_state_dict(state)
    return net.to("cpu").eval()


def _drop_savers(compose: Any) -> Any:
    transforms = getattr(compose, "transforms", None)
    if transforms is not None:
        compose.transforms = tuple(t for t in transforms if not type(t).__name__.startswith("Save"))
    return compose


def run_bundle(bundle_dir: Path, volume: Volume) -> BundleOutput:
    """Run the bundle's inference on ``volume``; the label map comes back on the volume's grid."""
    from monai.bundle import ConfigParser
    from monai.inferers import SimpleInferer
    from monai.transforms import Compose, EnsureChannelFirstd, LoadImaged

    check_bundle_dir(bundle_dir)
    meta = _metadata(bundle_dir)
    with tempfile.TemporaryDirectory(prefix="cdss-bundle-") as tmp:
        parser = ConfigParser()
        try:
            parser.read_config(str(bundle_dir / CONFIG_REL))
        except (OSError, ValueError) as exc:
            raise InvalidInput(f"bundle: cannot read {CONFIG_REL} ({exc})", field="bundle") from exc
        parser["bundle_root"] = str(bundle_dir)
        parser["output_dir"] = tmp
        parser["device"] = "$torch.device('cpu')"
        network = _network(parser, bundle_dir)
        config = parser.get() or {}
        pre = (
            parser.get_parsed_content("preprocessing")
            if "preprocessing" in config
            else Compose([LoadImaged(keys="image"), EnsureChannelFirstd(keys="image")])
        )
        inferer = parser.get_parsed_content("inferer") if "inferer" in config else SimpleInferer()
        post = (
            _drop_savers(parser.get_parsed_content("postprocessing"))
            if "postprocessing" in config
            else None
        )
        image_path = Path(tmp) / "image.nii.gz"
        nib.save(nib.Nifti1Image(volume.data, volume.affine), str(image_path))
        data = pre({"image": str(image_path)})
        with torch.no_grad():
            pred = inferer(data["image"].unsqueeze(0).to(torch.float32), network)
        data["pred"] = pred[0]
        if post is not None:
            data = post(data)
        out = data["pred"]
    result = BundleOutput(
        name=str(meta.get("name", bundle_dir.name)), version=str(meta.get("version", "unknown"))
    )
    arr = out.detach().cpu().numpy() if isinstance(out, torch.Tensor) else np.asarray(out)
    names = _channel_names(meta)
    if arr.ndim <= 1 or (arr.ndim == 2 and arr.shape[-1] == 1):
        probs = arr.reshape(-1).astype(float)
        if probs.min() < 0 or probs.max() > 1:
            probs = np.exp(probs - probs.max()) / np.exp(probs - probs.max()).sum()
        result.class_probabilities = {
            names.get(i, f"class_{i}"): round(float(p), 4) for i, p in enumerate(probs)
        }
        return result
    if arr.ndim != 4:
        raise InvalidInput(
            f"bundle: output of shape {list(arr.shape)} is not understood", field="bundle"
        )
    labelmap = arr.argmax(axis=0) if arr.shape[0] > 1 else np.rint(arr[0])
    if tuple(labelmap.shape) != volume.shape:
        raise InvalidInput(
            f"bundle: output grid {list(labelmap.shape)} does not match the volume "
            f"{list(volume.shape)} (does its postprocessing invert the preprocessing?)",
            field="bundle",
        )
    result.labelmap = labelmap.astype(np.uint16)
    result.label_names = {k: v for k, v in names.items() if k != 0}
    return result
