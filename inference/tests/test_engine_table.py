"""One shape per engine: ``inference.engines.ENGINES`` is the only list of engines, every row
follows the same layout, and only ``inference.config`` reads the environment.

The source checks read the modules' syntax trees (no text matching), so a comment or a docstring
that names engines is not a finding, and a new list of names is.
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from jsonschema import Draft202012Validator

from inference.config import REPO_ROOT, InferenceConfig
from inference.engines import ENGINES
from inference.engines.base import Engine
from inference.registry import import_engine_class

PACKAGE = REPO_ROOT / "inference"
TABLE_MODULE = PACKAGE / "engines" / "__init__.py"
CONFIG_MODULE = PACKAGE / "config.py"
SERVER_BLUEPRINTS = {"health", "v1"}


def _modules() -> Iterator[Path]:
    """Every module of the server, tests excluded."""
    for path in sorted(PACKAGE.rglob("*.py")):
        if "tests" not in path.relative_to(PACKAGE).parts:
            yield path


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def test_the_app_registers_the_server_blueprints_and_one_per_engine_row(
    fake_app: Flask,
) -> None:
    assert set(fake_app.blueprints) == SERVER_BLUEPRINTS | set(ENGINES)
    # Only the sequence engine is configured here: the other rows' routes exist and answer 503.
    response = fake_app.test_client().post("/api/v1/omics/predict", json={"model": "rosmap"})
    assert response.status_code == 503
    assert "not configured" in response.get_json()["error"]


@pytest.mark.parametrize("name", list(ENGINES))
def test_every_row_has_the_same_layout(name: str) -> None:
    spec = ENGINES[name]
    assert spec.name == name
    assert spec.api_module == f"inference.api.{name}"
    assert spec.engine_module == f"inference.engines.{name}"
    assert (PACKAGE / "engines" / name / "__init__.py").is_file()
    assert (PACKAGE / "api" / f"{name}.py").is_file()
    assert importlib.import_module(spec.api_module).bp.name == name

    engine_class = import_engine_class(name)
    engine = engine_class(InferenceConfig())
    assert isinstance(engine, Engine)
    assert engine_class.name == name
    assert engine.loaded is False and engine.version is None
    limits = engine_class.limits(InferenceConfig())
    assert limits and all(isinstance(key, str) for key in limits)
    assert all(
        isinstance(value, int | float) and not isinstance(value, bool) and value > 0
        for value in limits.values()
    )
    Draft202012Validator.check_schema(engine_class.result_schema)


def test_limits_follow_the_config() -> None:
    config = InferenceConfig(max_body=1234, imaging_max_upload=5678, imaging_max_decoded_bytes=4096)
    for name in ENGINES:
        assert import_engine_class(name).limits(config)["max_body_bytes"] == 1234
    imaging = import_engine_class("imaging").limits(config)
    assert imaging["max_upload_bytes"] == 5678 and imaging["max_decoded_bytes"] == 4096


def test_the_config_accepts_exactly_the_table() -> None:
    assert InferenceConfig().engines == tuple(ENGINES)
    every = ",".join(ENGINES)
    assert InferenceConfig.from_env({"CDSS_INFERENCE_ENGINES": every}).engines == tuple(ENGINES)
    with pytest.raises(ValueError, match="unknown engines"):
        InferenceConfig.from_env({"CDSS_INFERENCE_ENGINES": "sequence,radiology"})


def _literal_names(node: ast.AST) -> set[str]:
    """The engine names a list, tuple, set or dict literal holds as items or keys."""
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        items = node.elts
    elif isinstance(node, ast.Dict):
        items = [key for key in node.keys if key is not None]
    else:
        return set()
    return {
        item.value
        for item in items
        if isinstance(item, ast.Constant) and isinstance(item.value, str) and item.value in ENGINES
    }


def test_no_module_but_the_table_lists_engines() -> None:
    found = []
    for path in _modules():
        if path == TABLE_MODULE:
            continue
        for node in ast.walk(_tree(path)):
            names = _literal_names(node)
            if len(names) >= 2:
                found.append(f"{path.relative_to(REPO_ROOT)}:{node.lineno}: {sorted(names)}")
    assert found == [], "engine names listed outside inference/engines/__init__.py"


def _environment_reads(tree: ast.Module) -> Iterator[int]:
    """Lines that read a variable from the environment.

    Allowed: copying the whole environment for a child process (``dict(os.environ)``,
    ``{**os.environ}``) and giving native libraries a default (``os.environ.setdefault("X", ...)``
    of a name that is not a CDSS setting).
    """
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.ImportFrom)
            and node.module == "os"
            and any(alias.name in ("environ", "getenv", "getenvb") for alias in node.names)
        ):
            yield node.lineno
        if not (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "os"
            and node.attr in ("environ", "environb", "getenv", "getenvb")
        ):
            continue
        parent = parents.get(node)
        if node.attr == "environ":
            if (
                isinstance(parent, ast.Call)
                and isinstance(parent.func, ast.Name)
                and parent.func.id == "dict"
                and parent.args == [node]
            ):
                continue
            if isinstance(parent, ast.Dict) and any(
                key is None and value is node
                for key, value in zip(parent.keys, parent.values, strict=True)
            ):
                continue
            call = parents.get(parent) if parent is not None else None
            if (
                isinstance(parent, ast.Attribute)
                and parent.attr == "setdefault"
                and isinstance(call, ast.Call)
                and call.args
                and isinstance(call.args[0], ast.Constant | ast.Name)
                and not str(getattr(call.args[0], "value", "")).startswith("CDSS_")
            ):
                continue
        yield node.lineno


def test_only_the_config_reads_the_environment() -> None:
    found = [
        f"{path.relative_to(REPO_ROOT)}:{line}"
        for path in _modules()
        if path != CONFIG_MODULE
        for line in _environment_reads(_tree(path))
    ]
    assert found == [], "read settings through InferenceConfig / GunicornSettings instead"


def test_the_environment_check_finds_reads() -> None:
    source = (
        "import os\nfrom os import environ\n"
        "a = os.environ.get('CDSS_X')\nb = os.getenv('Y')\nc = os.environ['Z']\n"
        "d = 'W' in os.environ\ne = dict(os.environ)\nf = {**os.environ}\n"
        "os.environ.setdefault('OMP_NUM_THREADS', '1')\nos.environ.setdefault('CDSS_X', '1')\n"
    )
    assert sorted(_environment_reads(ast.parse(source))) == [2, 3, 4, 5, 6, 10]
