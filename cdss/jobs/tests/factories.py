import factory
from django.utils import timezone

from cdss.jobs.models import Analysis, Status


class AnalysisFactory(factory.django.DjangoModelFactory[Analysis]):
    class Meta:
        model = Analysis

    kind = "test_patient_hold"
    status = Status.PENDING
    inputs = factory.LazyFunction(lambda: {"seconds": 0.0})
    enqueued_at = factory.LazyFunction(timezone.now)
    next_attempt_at = factory.LazyFunction(timezone.now)
