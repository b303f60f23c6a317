from rest_framework import serializers

from cdss.common.serializers import IdField, StrictInputSerializer
from cdss.patients.models import Patient, Sex


class PatientInputSerializer(StrictInputSerializer):
    mrn = serializers.RegexField(r"^[A-Za-z0-9._-]{1,64}$", max_length=64)
    name = serializers.CharField(max_length=200)
    birth_date = serializers.DateField(required=False, allow_null=True)
    sex = serializers.ChoiceField(choices=Sex.choices, required=False)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    care_team = serializers.ListField(child=IdField(), required=False, max_length=100)


class PatientOutputSerializer(serializers.ModelSerializer[Patient]):
    care_team = serializers.SerializerMethodField()

    class Meta:
        model = Patient
        fields = [
            "id",
            "mrn",
            "name",
            "birth_date",
            "sex",
            "notes",
            "care_team",
            "created_at",
            "updated_at",
        ]

    def get_care_team(self, obj: Patient) -> list[int]:
        return sorted(u.pk for u in obj.care_team.all())
