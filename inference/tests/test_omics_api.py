"""Tests of ``POST /api/v1/omics/predict`` on the real app factory and the committed model."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from inference.app import create_app
from inference.config import REPO_ROOT, InferenceConfig
from inference.engines.omics.engine import MAX_BATCH

URL = "/api/v1/omics/predict"
ROOT = REPO_ROOT / "models" / "omics"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    config = InferenceConfig(
        models_dir=REPO_ROOT / "models",
        runtime_models_dir=tmp_path_factory.mktemp("runtime"),
        engines=("omics",),
        max_body=256 * 1024,
    )
    return create_app(config)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture(scope="module")
def rosmap_features() -> dict[str, list[str]]:
    version = (ROOT / "CURRENT").read_text().strip()
    artifact = json.loads((ROOT / version / "rosmap" / "model.json").read_text())
    return {view: v["features"] for view, v in artifact["views"].items()}


def _sample(features: dict[str, list[str]], value: float = 0.5, n: int = 20) -> dict[str, Any]:
    return {view: {f: value for f in names[:n]} for view, names in features.items()}


def test_single_prediction(client: FlaskClient, rosmap_features: dict[str, list[str]]) -> None:
    response = client.post(URL, json={"model": "rosmap", "sample": _sample(rosmap_features)})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["ok"] is True and body["model"] == "rosmap"
    assert body["label"] in ("AD", "control")
    assert body["model_name"] and body["model_version"] == (ROOT / "CURRENT").read_text().strip()
    assert "Not a medical device" in body["disclaimer"]
    assert body["top_features"][0]["layer"] in rosmap_features


def test_paad_prediction_with_clinical_words(client: FlaskClient) -> None:
    sample = {"clinical": {"age_years": 70, "pathologic_stage": "stage iib", "sex_male": "female"}}
    body = client.post(URL, json={"model": "tcga_paad", "sample": sample}).get_json()
    assert body["risk_group"] in ("high", "low")
    assert body["group_survival_curve"][0] == [0.0, 1.0]
    assert body["missing_layers"] == ["mirna", "cnv"] and body["confidence"] == "low"


def test_batch_answers_each_sample(
    client: FlaskClient, rosmap_features: dict[str, list[str]]
) -> None:
    samples = [_sample(rosmap_features, 0.2), {"mrna": {"bogus": 1}}, _sample(rosmap_features, 0.8)]
    body = client.post(URL, json={"model": "rosmap", "samples": samples}).get_json()
    assert body["count"] == 3 and body["failed"] == 1
    assert [r["ok"] for r in body["results"]] == [True, False, True]
    assert body["results"][1]["field"] == "sample.mrna"
    assert body["model_version"]


def test_csv_upload(client: FlaskClient, rosmap_features: dict[str, list[str]]) -> None:
    mrna = rosmap_features["mrna"][:3]
    mirna = rosmap_features["mirna"][:2]
    header = ["id", *(f"mrna:{f}" for f in mrna), *(f"mirna:{f}" for f in mirna)]
    rows = [["s1", "0.1", "0.2", "0.3", "0.4", "0.5"], ["s2", "0.9", "", "0.7", "", ""]]
    text = "\n".join(",".join(r) for r in [header, *rows]) + "\n"
    response = client.post(
        URL,
        data={"model": "rosmap", "file": (io.BytesIO(text.encode()), "samples.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert [r["id"] for r in body["results"]] == ["s1", "s2"]
    assert body["results"][0]["missing_layers"] == ["methylation"]
    assert body["results"][1]["missing_layers"] == ["methylation", "mirna"]
    assert body["results"][1]["imputed_features"]["mrna"] == 198  # 2 of 200 given


@pytest.mark.parametrize(
    ("payload", "field", "words"),
    [
        ({"sample": {}}, "model", "required"),
        ({"model": "heart", "sample": {"mrna": {"a": 1}}}, "model", "heart"),
        ({"model": 3, "sample": {}}, "model", "string"),
        ({"model": "rosmap"}, "sample", "required"),
        ({"model": "rosmap", "sample": {}}, "sample", "no omics layer"),
        ({"model": "rosmap", "samples": []}, "samples", "empty"),
        ({"model": "rosmap", "samples": {"a": 1}}, "samples", "list"),
        ({"model": "rosmap", "sample": {}, "samples": [{}]}, "body", "not both"),
        ({"model": "rosmap", "samples": [{}] * (MAX_BATCH + 1)}, "samples", str(MAX_BATCH)),
    ],
)
def test_bad_json_is_400_naming_the_field(
    client: FlaskClient, payload: dict[str, Any], field: str, words: str
) -> None:
    response = client.post(URL, json=payload)
    assert response.status_code == 400
    body = response.get_json()
    assert body["field"] == field and words in body["error"]


def test_non_numeric_value_names_the_feature(
    client: FlaskClient, rosmap_features: dict[str, list[str]]
) -> None:
    feature = rosmap_features["mirna"][0]
    response = client.post(URL, json={"model": "rosmap", "sample": {"mirna": {feature: "lots"}}})
    assert response.status_code == 400
    assert response.get_json()["field"] == f"sample.mirna.{feature}"


def test_nan_literal_is_refused(client: FlaskClient, rosmap_features: dict[str, list[str]]) -> None:
    feature = rosmap_features["mrna"][0]
    raw = json.dumps({"model": "rosmap", "sample": {"mrna": {feature: 1.0}}}).replace("1.0", "NaN")
    response = client.post(URL, data=raw, content_type="application/json")
    assert response.status_code == 400
    assert "finite" in response.get_json()["error"]


def test_bad_csv_is_400(client: FlaskClient) -> None:
    cases = [
        (b"", "file"),
        (b"id,GENE1\ns1,0.3\n", "file.GENE1"),
        (b"id,mrna:X\ns1,abc\n", "file.row1.mrna:X"),
        (b"\xff\xfe\x00bad", "file"),
    ]
    for content, field in cases:
        response = client.post(
            URL,
            data={"model": "rosmap", "file": (io.BytesIO(content), "t.csv")},
            content_type="multipart/form-data",
        )
        assert response.status_code == 400, (content, response.get_json())
        assert response.get_json()["field"] == field


def test_oversized_body_is_413(client: FlaskClient) -> None:
    big = {"model": "rosmap", "sample": {"mrna": {f"g{i}": 0.5 for i in range(20_000)}}}
    response = client.post(URL, json=big)
    assert response.status_code == 413
    assert "error" in response.get_json()


def test_model_info_lists_the_omics_engine(client: FlaskClient) -> None:
    body = client.get("/api/v1/model-info").get_json()
    omics = body["engines"]["omics"]
    assert omics["loaded"] is True
    assert set(omics["models"]) == {"rosmap", "tcga_paad"}
    assert omics["version"] == (ROOT / "CURRENT").read_text().strip()


def _csv(header: list[str], rows: list[list[str]], newline: str = "\n") -> bytes:
    return (newline.join(",".join(r) for r in [header, *rows]) + newline).encode()


def _post_csv(client: FlaskClient, content: bytes, model: str = "rosmap") -> Any:
    return client.post(
        URL,
        data={"model": model, "file": (io.BytesIO(content), "t.csv")},
        content_type="multipart/form-data",
    )


def test_an_absurd_value_is_a_400_naming_the_feature(
    client: FlaskClient, rosmap_features: dict[str, list[str]]
) -> None:
    sample = _sample(rosmap_features, n=200)
    feature = rosmap_features["mirna"][7]
    sample["mirna"][feature] = 1e308
    response = client.post(URL, json={"model": "rosmap", "sample": sample})
    assert response.status_code == 400, response.data[:300]
    body = response.get_json()
    assert body["field"] == f"sample.mirna.{feature}"
    assert "range" in body["error"] and "1e+308" in body["error"]


@pytest.mark.parametrize("value", [1e308, -1e308, 1e6, 7e3])
def test_paad_refuses_absurd_values_in_every_block(client: FlaskClient, value: float) -> None:
    artifact = json.loads(
        (ROOT / (ROOT / "CURRENT").read_text().strip() / "tcga_paad" / "model.json").read_text()
    )
    for block in ("mirna", "cnv", "clinical"):
        feature = artifact["blocks"][block]["features"][0]
        sample = {block: {feature: value}}
        response = client.post(URL, json={"model": "tcga_paad", "sample": sample})
        assert response.status_code == 400, (block, value, response.data[:300])
        assert response.get_json()["field"] == f"sample.{block}.{feature}"


def test_a_batch_fails_only_the_sample_with_an_absurd_value(
    client: FlaskClient, rosmap_features: dict[str, list[str]]
) -> None:
    bad = _sample(rosmap_features)
    bad["mrna"][rosmap_features["mrna"][0]] = -1e300
    body = client.post(
        URL, json={"model": "rosmap", "samples": [_sample(rosmap_features), bad]}
    ).get_json()
    assert [r["ok"] for r in body["results"]] == [True, False]
    assert body["results"][1]["field"] == f"sample.mrna.{rosmap_features['mrna'][0]}"


def test_csv_absurd_value_is_a_400_naming_row_and_column(
    client: FlaskClient, rosmap_features: dict[str, list[str]]
) -> None:
    names = rosmap_features["mrna"]
    header = ["id", *(f"mrna:{f}" for f in names)]
    rows = [[f"s{r}", *(["0.5"] * len(names))] for r in range(1, 4)]
    rows[1][1 + 150] = "1e308"
    response = _post_csv(client, _csv(header, rows))
    assert response.status_code == 400, response.data[:300]
    body = response.get_json()
    assert body["field"] == f"file.row2.mrna:{names[150]}"
    assert "row 2" in body["error"] and f"mrna:{names[150]}" in body["error"]


@pytest.mark.parametrize("cell", ["inf", "-Infinity", "nan", "1e999", "1" + "0" * 400])
def test_csv_non_finite_cells_are_400_naming_row_and_column(
    client: FlaskClient, rosmap_features: dict[str, list[str]], cell: str
) -> None:
    feature = rosmap_features["mrna"][0]
    response = _post_csv(client, _csv(["id", f"mrna:{feature}"], [["a", "0.3"], ["b", cell]]))
    assert response.status_code == 400, response.data[:300]
    assert response.get_json()["field"] == f"file.row2.mrna:{feature}"


@pytest.mark.parametrize("newline", ["\r", "\r\n", "\n"])
def test_csv_line_endings_all_parse_alike(
    client: FlaskClient, rosmap_features: dict[str, list[str]], newline: str
) -> None:
    names = rosmap_features["mrna"][:3]
    header = ["id", *(f"mrna:{f}" for f in names)]
    rows = [["s1", "0.1", "0.2", "0.3"], ["s2", "0.9", "0.8", "0.7"]]
    response = _post_csv(client, _csv(header, rows, newline))
    assert response.status_code == 200, response.data[:300]
    body = response.get_json()
    assert [r["id"] for r in body["results"]] == ["s1", "s2"]
    reference = _post_csv(client, _csv(header, rows)).get_json()
    assert [r["probabilities"] for r in body["results"]] == [
        r["probabilities"] for r in reference["results"]
    ]


def test_csv_over_long_cells_are_400_not_500(
    client: FlaskClient, rosmap_features: dict[str, list[str]]
) -> None:
    feature = rosmap_features["mrna"][0]
    for cell in ("9" * 300, "x" * 200_000):
        response = _post_csv(client, _csv(["id", f"mrna:{feature}"], [["a", "0.3"], ["b", cell]]))
        assert response.status_code == 400, response.data[:300]
        assert "row 2" in response.get_json()["error"] or "line" in response.get_json()["error"]
    long_id = _post_csv(client, _csv(["id", f"mrna:{feature}"], [["a" * 300, "0.3"]]))
    assert long_id.status_code == 400
    long_header = _post_csv(client, _csv(["id", "mrna:" + "g" * 300], [["a", "0.3"]]))
    assert long_header.status_code == 400


def test_csv_that_is_not_a_table_is_400(client: FlaskClient) -> None:
    for content in (b'id,mrna:X\n"unterminated,0.3\n', b"id,mrna:X\x00\na,0.3\n"):
        response = _post_csv(client, content)
        assert response.status_code == 400, (content, response.data[:300])


def test_responses_never_hold_non_finite_numbers(
    client: FlaskClient, rosmap_features: dict[str, list[str]]
) -> None:
    # Every feature at the edge of its accepted range, pushing the logit as far as it goes.
    version = (ROOT / "CURRENT").read_text().strip()
    artifact = json.loads((ROOT / version / "rosmap" / "model.json").read_text())
    sample = {}
    for view, v in artifact["views"].items():
        bounds = v["input_bounds"]
        sample[view] = {
            f: (hi if c > 0 else lo)
            for f, c, lo, hi in zip(
                v["features"], v["coef"], bounds["low"], bounds["high"], strict=True
            )
        }
    response = client.post(URL, json={"model": "rosmap", "sample": sample})
    assert response.status_code == 200
    body = json.loads(response.data, parse_constant=lambda name: pytest.fail(name))
    assert body["label"] == "AD"


@pytest.mark.parametrize("model", ["rosmap", "tcga_paad"])
def test_the_template_is_a_table_the_model_accepts(client: FlaskClient, model: str) -> None:
    answer = client.get(f"/api/v1/omics/template?model={model}")
    assert answer.status_code == 200
    template = answer.get_json()
    assert template["model_version"] and len(template["columns"]) == len(template["example"])
    assert all(":" in column for column in template["columns"])
    table = ",".join(template["columns"]) + "\n" + ",".join(map(str, template["example"])) + "\n"
    response = client.post(
        URL,
        data={"model": model, "file": (io.BytesIO(table.encode()), "template.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200, response.get_json()
    (result,) = response.get_json()["results"]
    assert result["ok"] is True
    assert not any(result["imputed_features"].values())  # every column was understood
    assert not any(result["unknown_features"].values())


def test_the_template_of_an_unknown_model_is_a_400(client: FlaskClient) -> None:
    answer = client.get("/api/v1/omics/template?model=nope")
    assert answer.status_code == 400 and answer.get_json()["field"] == "model"


def test_a_table_upload_may_ask_for_more_driving_features(client: FlaskClient) -> None:
    template = client.get("/api/v1/omics/template?model=rosmap").get_json()
    table = ",".join(template["columns"]) + "\n" + ",".join(map(str, template["example"])) + "\n"

    def upload(top_k: str) -> Any:
        return client.post(
            URL,
            data={"model": "rosmap", "top_k": top_k, "file": (io.BytesIO(table.encode()), "t.csv")},
            content_type="multipart/form-data",
        )

    (result,) = upload("20").get_json()["results"]
    assert len(result["top_features"]) == 20
    refused = upload("51")
    assert refused.status_code == 400 and refused.get_json()["field"] == "top_k"
