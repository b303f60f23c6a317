import factory

from cdss.patients.models import Patient


class PatientFactory(factory.django.DjangoModelFactory[Patient]):
    class Meta:
        model = Patient
        skip_postgeneration_save = True

    mrn = factory.Sequence(lambda n: f"MRN{n:06d}")
    name = factory.Sequence(lambda n: f"Test Patient {n}")
    sex = "unknown"

    @factory.post_generation
    def care_team(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.care_team.set(extracted)
