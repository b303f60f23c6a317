"""The interface every engine implements, so the server can build, load, describe and serve them
alike."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

if TYPE_CHECKING:
    from inference.config import InferenceConfig

DISCLAIMER = "Not a medical device; for decision support only."

# What a caller must respect before it sends a request: a flat name -> number mapping, each name
# saying its unit (``max_body_bytes``, ``max_batch_items``, ``min_spacing_mm``).
Limits = dict[str, int | float]


@runtime_checkable
class Engine(Protocol):
    """A model (or set of models) for one analysis kind.

    ``name`` is the engine's row in ``inference.engines.ENGINES`` and its key in model-info.
    ``result_schema`` is a JSON Schema (draft 2020-12) of a successful answer of the engine's
    analysis route; ``limits(config)`` is what that route accepts under ``config``. Both are
    class-level: model-info publishes them even while no model is loaded.
    The constructor takes the server's config (every setting an engine uses comes from it; without
    one, the defaults). ``load`` reads the artifacts of one version folder once, at worker start or
    when a retrain promoted a new version; ``loaded`` and ``version`` say what it holds.
    ``info`` describes it: name, model_name, version, loaded, tasks, labels, metrics.
    Every result an engine returns carries ``model_name``, ``model_version`` and the disclaimer.
    """

    name: ClassVar[str]
    result_schema: ClassVar[dict[str, Any]]

    def __init__(self, config: InferenceConfig | None = None) -> None: ...

    @classmethod
    def limits(cls, config: InferenceConfig) -> Limits: ...

    def load(self, model_dir: Path) -> None: ...

    @property
    def loaded(self) -> bool: ...

    @property
    def version(self) -> str | None: ...

    def info(self) -> dict[str, Any]: ...


JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def closed_object(
    required: dict[str, Any], optional: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The JSON Schema of an object with exactly these properties, every ``required`` one present.

    Result schemas are closed: a field an engine adds without declaring it fails the test that
    checks real answers against the published schema, instead of surprising a caller.
    """
    return {
        "type": "object",
        "properties": {**required, **(optional or {})},
        "required": list(required),
        "additionalProperties": False,
    }
