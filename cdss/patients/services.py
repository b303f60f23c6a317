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
from cdss.patients.selectors import patient_get_for_user


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


class MrnTakenError(ConflictError):
    def __init__(self) -> None:
        super().__init__(
            "mrn: a patient with this MRN already exists", detail={"mrn": ["Already exists."]}
        )


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
    """Registers a patient. A taken MRN stays a 409 (MRNs are unique hospital-wide), and the attempt
    is audited against the existing patient: denied for a user outside its care team."""
    try:
        return _patient_create(
            user=user,
            mrn=mrn,
            name=name,
            birth_date=birth_date,
            sex=sex,
            notes=notes,
            care_team=care_team,
        )
    except MrnTakenError:
        _mrn_conflict_record(user=user, mrn=mrn, action="patient.create")
        raise


def _mrn_conflict_record(*, user: User, mrn: str, action: str) -> None:
    """Audits a 409 on a taken MRN against the patient who holds it: denied for a user outside its
    care team. Called after the write's transaction rolled back, so the event is kept."""
    existing = Patient.objects.filter(mrn=mrn).first()
    visible = existing is not None and (
        patient_get_for_user(user=user, patient_id=existing.pk) is not None
    )
    access_event_record(
        user=user,
        action=action,
        outcome=Outcome.FAILED if visible else Outcome.DENIED,
        patient_id=existing.pk if existing is not None else None,
        object_type="patient",
        object_id=str(existing.pk) if existing is not None else "",
    )


@transaction.atomic
def _patient_create(
    *,
    user: User,
    mrn: str,
    name: str,
    birth_date: date | None,
    sex: str,
    notes: str,
    care_team: list[int] | None,
) -> Patient:
    if not (user.is_clinician or user.is_admin_role):
        raise PatientPermissionError("Only clinicians and administrators can register patients.")
    _check_birth_date(birth_date)
    members = _check_care_team(care_team or [])
    if Patient.objects.filter(mrn=mrn).exists():
        raise MrnTakenError()
    patient = Patient(
        mrn=mrn, name=name, birth_date=birth_date, sex=sex, notes=notes, created_by=user
    )
    patient.full_clean()
    try:
        with transaction.atomic():
            patient.save()
    except IntegrityError as exc:  # a concurrent create with the same MRN
        raise MrnTakenError() from exc
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


def patient_update(*, user: User, patient: Patient, data: dict[str, Any]) -> Patient:
    """``patient`` must come from the access path; ``data`` holds only the fields to change."""
    try:
        return _patient_update(user=user, patient=patient, data=data)
    except MrnTakenError:
        _mrn_conflict_record(user=user, mrn=data["mrn"], action="patient.update")
        raise


@transaction.atomic
def _patient_update(*, user: User, patient: Patient, data: dict[str, Any]) -> Patient:
    data = dict(data)
    care_team = data.pop("care_team", None)
    if "birth_date" in data:
        _check_birth_date(data["birth_date"])
    if "mrn" in data and Patient.objects.filter(mrn=data["mrn"]).exclude(pk=patient.pk).exists():
        raise MrnTakenError()
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
