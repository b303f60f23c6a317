"""Inputs and results of the CT analysis kind: validation and OpenAPI in one place. The result
mirrors the inference server's published CT result schema (the imaging engine's
``result_schema``); a field it adds without this serializer knowing fails the analysis loudly."""

from __future__ import annotations

from rest_framework import serializers

from cdss.common.serializers import IdField, StrictInputSerializer, StrictSerializer

_NUMBERS = serializers.ListField(child=serializers.FloatField())
# Fields named ``source`` and ``label`` (the result's own keys) shadow attributes of DRF's Field
# for the type checker only: the serializer metaclass takes declared fields off the class.


class CtInputSerializer(StrictInputSerializer):
    volume_file = IdField(
        help_text="A patient file of role ct_volume: NIfTI (.nii, .nii.gz) or a zipped DICOM series"
    )
    segmentation_file = IdField(
        required=False,
        help_text=(
            "Optional, role segmentation, same patient: a multi-label NIfTI with TotalSegmentator "
            "v2 label ids or a zip of <structure>.nii.gz masks, on the volume's grid"
        ),
    )
    bundle = serializers.RegexField(
        r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}$",
        required=False,
        help_text="Optional: the name of a MONAI bundle installed under the server's var/bundles/",
    )


class CtVolumeSerializer(StrictSerializer):
    shape = serializers.ListField(child=serializers.IntegerField())
    spacing_mm = _NUMBERS
    orientation = serializers.CharField()
    hu_range = _NUMBERS
    source_format = serializers.CharField(help_text="nifti or dicom_zip")
    series_description = serializers.CharField(allow_null=True)
    slices = serializers.IntegerField()


class CtLabelSerializer(StrictSerializer):
    id = serializers.IntegerField(help_text="the value in segmentation.nii.gz")
    name = serializers.CharField()
    colour = serializers.CharField()
    source = serializers.CharField(help_text="hu_rules or liver_unet")  # type: ignore[assignment]


class CtStructureSerializer(StrictSerializer):
    name = serializers.CharField()
    label = serializers.IntegerField(allow_null=True)  # type: ignore[assignment]
    voxels = serializers.IntegerField()
    volume_ml = serializers.FloatField()
    hu_mean = serializers.FloatField()
    hu_std = serializers.FloatField()
    source = serializers.CharField(
        help_text="the rules or model that drew it, 'segmentation' (uploaded) or 'bundle:<name>'"
    )  # type: ignore[assignment]


class L3Serializer(StrictSerializer):
    slice = serializers.IntegerField(allow_null=True, help_text="axial index in RAS order")
    z_mm = serializers.FloatField(allow_null=True)
    method = serializers.CharField(help_text="segmentation, hu_rules or not found")
    note = serializers.CharField(allow_null=True)
    subcutaneous_fat_cm2 = serializers.FloatField(allow_null=True)
    visceral_fat_cm2 = serializers.FloatField(allow_null=True)


class BodyCompositionSerializer(StrictSerializer):
    body_volume_ml = serializers.FloatField()
    subcutaneous_fat_ml = serializers.FloatField()
    visceral_fat_ml = serializers.FloatField()
    l3 = L3Serializer()
    muscle = serializers.CharField()


class LesionSerializer(StrictSerializer):
    index = serializers.IntegerField()
    volume_ml = serializers.FloatField()
    largest_diameter_mm = serializers.FloatField(help_text="longest axial diameter")
    hu_mean = serializers.FloatField()
    centroid_mm = _NUMBERS


class LiverSerializer(StrictSerializer):
    status = serializers.CharField(help_text="segmented or not segmented")
    reason = serializers.CharField(required=False)
    model = serializers.CharField(required=False)
    version = serializers.CharField(required=False)
    volume_ml = serializers.FloatField(required=False)
    hu_mean = serializers.FloatField(required=False)
    lesion_count = serializers.IntegerField(required=False)
    lesion_volume_ml = serializers.FloatField(required=False)
    lesions = LesionSerializer(many=True, required=False)
    lesion_caution = serializers.CharField(required=False)


class AdrenalFindingSerializer(StrictSerializer):
    structure = serializers.CharField()
    finding = serializers.CharField()
    model = serializers.CharField()
    input_size = serializers.IntegerField()
    threshold = serializers.FloatField()
    gland_volume_ml = serializers.FloatField()
    probability = serializers.FloatField(allow_null=True)
    label = serializers.CharField(help_text="mass, normal or not assessed")  # type: ignore[assignment]
    note = serializers.CharField(required=False)


class CtFindingSerializer(StrictSerializer):
    code = serializers.CharField()
    text = serializers.CharField(help_text="a plain statement; its numbers are in values")
    values = serializers.DictField(child=serializers.FloatField())
    source = serializers.CharField(help_text="the rules or model behind it, with its version")  # type: ignore[assignment]


class CtModelSerializer(StrictSerializer):
    name = serializers.CharField()
    version = serializers.CharField()
    role = serializers.CharField()


class BundleSerializer(StrictSerializer):
    name = serializers.CharField()
    version = serializers.CharField()


class CtResultSerializer(StrictSerializer):
    ok = serializers.BooleanField()
    volume = CtVolumeSerializer()
    labels = CtLabelSerializer(many=True)
    structures = CtStructureSerializer(many=True)
    body_composition = BodyCompositionSerializer()
    liver = LiverSerializer()
    adrenal = AdrenalFindingSerializer(many=True)
    findings = CtFindingSerializer(many=True)
    models = CtModelSerializer(many=True)
    notes = serializers.ListField(child=serializers.CharField())
    model_name = serializers.CharField()
    model_version = serializers.CharField()
    disclaimer = serializers.CharField()
    timings_s = serializers.DictField(child=serializers.FloatField())
    bundle = BundleSerializer(required=False)
