"""Every files test stores under a media root of its own; patient_a is in clinician A's care."""

from __future__ import annotations

from pathlib import Path

import pytest

from cdss.patients.tests.factories import PatientFactory


@pytest.fixture(autouse=True)
def _own_media_root(media_root: Path) -> Path:
    return media_root


@pytest.fixture
def patient_a(clinician_a):
    return PatientFactory(care_team=[clinician_a])
