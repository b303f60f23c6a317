"""The /ml/v1 response shapes, as the OpenAPI schema documents them.

Schema-only: the views pass the inference server's JSON through (or build a small body of their
own), and these serializers only describe it. Input validation stays in ``serializers.py``.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, PolymorphicProxySerializer
from rest_framework import serializers

from cdss.common.serializers import IdField
from cdss.sequences.serializers import PredictOptionsSerializer


class MlStatusSerializer(serializers.Serializer):  # type: ignore[type-arg]
    ok = serializers.BooleanField()
    status = serializers.CharField()
    model_version = serializers.CharField(allow_null=True)


class MlModelInfoSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """The sequence engine's fields at the top (as the seed had them), then every engine."""

    ok = serializers.BooleanField()
    model_name = serializers.CharField(allow_null=True, required=False)
    model_version = serializers.CharField(allow_null=True, required=False)
    tasks = serializers.DictField(required=False)
    labels = serializers.DictField(required=False)
    metrics = serializers.DictField(required=False)
    engines = serializers.DictField(child=serializers.DictField())
    retrain = serializers.DictField()
    limits = serializers.DictField()
    started_at = serializers.CharField(required=False, help_text="when the server started")
    disclaimer = serializers.CharField()


class MlPredictionSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """One sequence's prediction, with its evidence."""

    ok = serializers.BooleanField()
    model_name = serializers.CharField(allow_null=True)
    model_version = serializers.CharField(allow_null=True)
    translation = serializers.DictField()
    prediction = serializers.DictField()
    task3_structure = serializers.DictField(allow_null=True)
    nearest_references = serializers.ListField(child=serializers.DictField())
    confidence = serializers.CharField(allow_null=True, help_text="high, low or unknown")
    disclaimer = serializers.CharField()


class MlBatchPredictionSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """A synchronous batch: one result per item, each ``ok`` or carrying its own error."""

    ok = serializers.BooleanField()
    batch = serializers.BooleanField()
    model_name = serializers.CharField(allow_null=True)
    model_version = serializers.CharField(allow_null=True)
    count = serializers.IntegerField()
    succeeded = serializers.IntegerField()
    failed = serializers.IntegerField()
    disclaimer = serializers.CharField()
    results = serializers.ListField(child=serializers.DictField())


ML_PREDICT_RESPONSE = PolymorphicProxySerializer(
    component_name="MlPredictResponse",
    serializers=[MlPredictionSerializer, MlBatchPredictionSerializer],
    resource_type_field_name=None,
)


class MlPredictQueuedSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """A batch over CDSS_SYNC_BATCH_MAX items, queued as an analysis."""

    ok = serializers.BooleanField()
    batch = serializers.BooleanField()
    analysis_id = serializers.IntegerField()
    status = serializers.CharField()
    location = serializers.CharField()
    result_json = serializers.CharField()
    result_tsv = serializers.CharField()


class MlRetrainQueuedSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """200, as the seed's clients expect; the run itself is an analysis to follow."""

    ok = serializers.BooleanField()
    status = serializers.CharField()
    analysis_id = serializers.IntegerField()
    location = serializers.CharField()
    message = serializers.CharField()


class PredictUploadSerializer(PredictOptionsSerializer):
    """A multipart upload: a (multi-)FASTA file and the options."""

    patient_id = IdField(required=False)
    file = serializers.FileField()


class PredictQuerySerializer(PredictOptionsSerializer):
    """The options of a text/x-fasta (or text/plain) body, given in the query string."""

    patient_id = IdField(required=False)


_SPIKE = "MFVFLVLLPLVSSQCVNLTTRTQLPPAYTNSFTRGVYYPDKVFRSSVLHS"
_HA_DNA = "ATGAAAGCAATACTAGTAGTTCTGCTATATACATTTGCAACCGCAAATGCAGACACA"

PREDICT_EXAMPLES = [
    OpenApiExample(
        "One protein",
        value={
            "doctor_name": "Dr. Kim",
            "patient_name": "Hong Gildong",
            "seq_type": "protein",
            "task3_threshold": 0.5,
            "sequence": _SPIKE,
        },
        request_only=True,
        media_type="application/json",
    ),
    OpenApiExample(
        "A batch (a DNA item is translated; no frame: the longest ORF)",
        value={
            "items": [
                {"id": "s1", "sequence": _SPIKE, "seq_type": "protein"},
                {"id": "s2", "sequence": _HA_DNA, "seq_type": "dna"},
            ]
        },
        request_only=True,
        media_type="application/json",
    ),
    OpenApiExample(
        "A multi-FASTA body",
        value=f">s1\n{_SPIKE}\n>s2\n{_SPIKE[::-1]}\n>s3\n{_SPIKE[10:]}\n",
        request_only=True,
        media_type="text/x-fasta",
    ),
]

RETRAIN_EXAMPLES = [
    OpenApiExample(
        "Retrain from a dataset folder",
        value={"training_data_path": "/srv/cdss/datasets", "epochs": 10, "batch_size": 32},
        request_only=True,
    ),
]
