"""Every files test stores under a media root of its own; patient_a is in clinician A's care."""

from __future__ import annotations

from pathlib import Path

import pytest

from cdss.patients.tests.factories import PatientFactory


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path) -> Path:
    root = tmp_path / "media"
    settings.MEDIA_ROOT = root
    return root


@pytest.fixture
def patient_a(clinician_a):
    return PatientFactory(care_team=[clinician_a])
