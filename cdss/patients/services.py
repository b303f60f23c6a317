"""Every write to patients, each with its audit event in the same transaction."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from cdss.accounts.models import Role, User
from cdss.audit.models import Outcome
from cdss.audit.services import access_event_record
from cdss.common.exceptions import ApplicationError, ConflictError
from cdss.patients.models import Patient


class PatientPermissionError(ApplicationError):
    status_code = 403


def _check_care_team(care_team_ids: list[int]) -> list[User]:
    ids = sorted(set(care_team_ids))
    members = list(User.objects.filter(pk__in=ids, role=Role.CLINICIAN, is_active=True))
    unknown = sorted(set(ids) - {u.pk for u in members})
    if unknown:
        raise ApplicationError(
            f"care_team: {unknown} are not active clinicians",
            detail={"care_team": [f"Unknown or non-clinician user id {i}." for i in unknown]},
        )
    return members


def _check_birth_date(birth_date: date | None) -> None:
    if birth_date is not None and birth_date > timezone.localdate():
        raise ApplicationError(
            "birth_date: cannot be in the future",
            detail={"birth_date": ["Cannot be in the future."]},
        )


def _mrn_taken(mrn: str) -> ConflictError:
    return ConflictError(
        "mrn: a patient with this MRN already exists", detail={"mrn": ["Already exists."]}
    )


@transaction.atomic
def patient_create(
    *,
    user: User,
    mrn: str,
    name: str,
    birth_date: date | None = None,
    sex: str = "unknown",
    notes: str = "",
    care_team: list[int] | None = None,
) -> Patient:
    if not (user.is_clinician or user.is_admin_role):
        raise PatientPermissionError("Only clinicians and administrators can register patients.")
    _check_birth_date(birth_date)
    members = _check_care_team(care_team or [])
    if Patient.objects.filter(mrn=mrn).exists():
        raise _mrn_taken(mrn)
    patient = Patient(
        mrn=mrn, name=name, birth_date=birth_date, sex=sex, notes=notes, created_by=user
    )
    patient.full_clean()
    try:
        with transaction.atomic():
            patient.save()
    except IntegrityError as exc:  # a concurrent create with the same MRN
        raise _mrn_taken(mrn) from exc
    if user.is_clinician and user not in members:
        members.append(user)
    patient.care_team.set(members)
    access_event_record(
        user=user,
        action="patient.create",
        outcome=Outcome.OK,
        patient_id=patient.pk,
        object_type="patient",
        object_id=str(patient.pk),
    )
    return patient


@transaction.atomic
def patient_update(*, user: User, patient: Patient, data: dict[str, Any]) -> Patient:
    """``patient`` must come from the access path; ``data`` holds only the fields to change."""
    data = dict(data)
    care_team = data.pop("care_team", None)
    if "birth_date" in data:
        _check_birth_date(data["birth_date"])
    if "mrn" in data and Patient.objects.filter(mrn=data["mrn"]).exclude(pk=patient.pk).exists():
        raise _mrn_taken(data["mrn"])
    for field, value in data.items():
        setattr(patient, field, value)
    patient.full_clean()
    patient.save()
    if care_team is not None:
        patient.care_team.set(_check_care_team(care_team))
    access_event_record(
        user=user,
        action="patient.update",
        outcome=Outcome.OK,
        patient_id=patient.pk,
        object_type="patient",
        object_id=str(patient.pk),
    )
    return patient


def patient_delete(*, user: User, patient: Patient) -> None:
    if not user.is_admin_role:
        access_event_record(
            user=user,
            action="patient.delete",
            outcome=Outcome.DENIED,
            patient_id=patient.pk,
            object_type="patient",
            object_id=str(patient.pk),
        )
        raise PatientPermissionError("Only administrators can delete patients.")
    _patient_soft_delete(user=user, patient=patient)


@transaction.atomic
def _patient_soft_delete(*, user: User, patient: Patient) -> None:
    patient.deleted_at = timezone.now()
    patient.save(update_fields=["deleted_at", "updated_at"])
    access_event_record(
        user=user,
        action="patient.delete",
        outcome=Outcome.OK,
        patient_id=patient.pk,
        object_type="patient",
        object_id=str(patient.pk),
    )
