"""Fixtures of the jobs tests: the test kinds, a patient in clinician A's care, analyses, and a
media folder of each test's own."""

from __future__ import annotations

import pytest

from cdss.jobs.kinds import register_kinds
from cdss.jobs.models import Analysis, Status
from cdss.jobs.tests.factories import AnalysisFactory
from cdss.jobs.tests.kinds import KINDS
from cdss.patients.tests.factories import PatientFactory

# What CDSS_JOBS_KIND_MODULES=cdss.jobs.tests.kinds does in a worker process.
register_kinds(*KINDS)


@pytest.fixture
def patient_a(clinician_a):
    return PatientFactory(care_team=[clinician_a])


@pytest.fixture
def patient_b(clinician_b):
    return PatientFactory(care_team=[clinician_b])


@pytest.fixture
def make_analysis(clinician_a):
    def _make(patient=None, status: str = Status.PENDING, **kwargs) -> Analysis:
        kwargs.setdefault("requested_by", clinician_a)
        return AnalysisFactory(patient=patient, status=status, **kwargs)

    return _make
