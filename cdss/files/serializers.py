"""The shapes of the files API: the multipart upload, the list filter, and a file's description."""

from __future__ import annotations

from rest_framework import serializers

from cdss.common.serializers import StrictInputSerializer
from cdss.files.models import FileFormat, FileRole, PatientFile


class PatientFileUploadSerializer(StrictInputSerializer):
    """multipart/form-data: the file and what it is for."""

    file = serializers.FileField(
        help_text=(
            "ct_volume: NIfTI (.nii, .nii.gz) or a zip of one DICOM series; segmentation: a "
            "multi-label NIfTI or a zip of <structure>.nii.gz masks; omics_table: UTF-8 CSV/TSV "
            "with <layer>:<feature> columns; document: PDF, Markdown, plain text or HTML."
        ),
        allow_empty_file=True,  # an empty file is refused by the checks, naming the problem
    )
    role = serializers.ChoiceField(choices=FileRole.choices)


class PatientFileFilterSerializer(serializers.Serializer):  # type: ignore[type-arg]
    role = serializers.ChoiceField(choices=FileRole.choices, required=False)


class PatientFileOutputSerializer(serializers.ModelSerializer[PatientFile]):
    metadata = serializers.DictField(
        read_only=True,
        help_text="What the upload checks learnt: a volume's dims, spacing_mm and datatype; a "
        "zip's members; a table's rows, columns and layers.",
    )
    format = serializers.ChoiceField(choices=FileFormat.choices, read_only=True)
    content_type = serializers.CharField(
        read_only=True, help_text="Sniffed from the content (the client's claim is ignored)."
    )

    class Meta:
        model = PatientFile
        fields = [
            "id",
            "patient",
            "role",
            "name",
            "size",
            "sha256",
            "content_type",
            "format",
            "metadata",
            "uploaded_by",
            "created_at",
        ]
        read_only_fields = fields
