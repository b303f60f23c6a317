"""Builders: stored rows in, FHIR R4 resources out (validated by ``fhir.resources`` R4B classes,
then checked by ``valuesets``), as JSON-ready dicts.

Every value comes from the database: a number is one stored in an analysis result, a text is a
stored interpretation or a label of a stored field; nothing is computed from results here. Every
resource that carries a model's output names the model and its version (``Device``) and says it
is not a medical device.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.urls import reverse
from fhir.resources.R4B.auditevent import AuditEvent
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.device import Device
from fhir.resources.R4B.diagnosticreport import DiagnosticReport
from fhir.resources.R4B.documentreference import DocumentReference
from fhir.resources.R4B.fhirresourcemodel import FHIRResourceModel
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient as FhirPatient
from fhir.resources.R4B.riskassessment import RiskAssessment

from cdss.audit.models import AccessEvent
from cdss.files.models import PatientFile
from cdss.interop.fhir.ids import analysis_resource_id, device_resource_id, file_resource_id
from cdss.interop.fhir.selectors import CLINICAL_KINDS, AnalysisRecord
from cdss.interop.fhir.valuesets import OBSERVATION_CATEGORY, UCUM, V2_0074, check_resource
from cdss.patients.models import Patient

Resource = dict[str, Any]

DISCLAIMER = "Not a medical device; for decision support only."
ANALYSIS_SYSTEM = "urn:cdss:analysis"
KIND_SYSTEM = "urn:cdss:fhir:analysis-kind"
FINDING_SYSTEM = "urn:cdss:fhir:finding"
USER_SYSTEM = "urn:cdss:user"
AUDIT_ACTION_SYSTEM = "urn:cdss:audit-action"
RISK_PROBABILITY = "http://terminology.hl7.org/CodeSystem/risk-probability"
RISK_PROBABILITY_CODES = frozenset({"negligible", "low", "moderate", "high", "certain"})

KIND_TITLES = {
    "ct": "CT analysis: organ volumes, body composition and liver lesions",
    "sequence_batch": "Pathogen protein sequence analysis",
    "omics_rosmap": "Multi-omics Alzheimer's disease classification (ROSMAP)",
    "omics_paad_survival": "Pancreatic cancer survival risk (TCGA-PAAD)",
}
_UNIT_DISPLAY = {"mL": "mL", "cm3": "cm3", "cm2": "cm2", "mm": "mm", "d": "d", "1": "1"}
_UNIT_DISPLAY["[hnsf'U]"] = "HU"


@dataclass(frozen=True)
class Links:
    """Absolute URLs, from the request (so they name the host the client used)."""

    absolute: Callable[[str], str]

    @property
    def base(self) -> str:
        return self.absolute(reverse("fhir-metadata")).removesuffix("metadata")

    def resource(self, resource_type: str, resource_id: str) -> str:
        return f"{self.base}{resource_type}/{resource_id}"

    def artifact(self, analysis_id: int, name: str) -> str:
        return self.absolute(
            reverse("analysis-artifact", kwargs={"analysis_id": analysis_id, "name": name})
        )

    def file_content(self, file_id: int) -> str:
        return self.absolute(reverse("patient-file-content", kwargs={"file_id": file_id}))

    def model_card(self, name: str, version: str) -> str:
        return self.absolute(reverse("model-card", kwargs={"name": name, "version": version}))


# Digests of (model, content) this process has validated. Validity is a function of the content
# alone, and a record is read again and again (an EHR polls) while validation is most of the cost
# of a read (61% of $everything's CPU time, docs/benchmarks.md): content seen before is not
# validated again. Only digests are kept, never patient data; the set is emptied when full.
_VALIDATED: set[bytes] = set()
VALIDATED_MAX = 200_000


def _digest(model: type[FHIRResourceModel], data: Resource) -> bytes:
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.blake2b(f"{model.__name__}\n{canonical}".encode(), digest_size=20).digest()


def validated_clear() -> None:
    """Forget what was validated (the benchmark's cold case; tests)."""
    _VALIDATED.clear()


def finish(model: type[FHIRResourceModel], data: Resource) -> Resource:
    """Validate with the R4B class (it raises on anything that is not valid R4) and check the
    codes it does not; the data, already JSON-ready, is what is served. Not the model's own
    ``model_dump``: on a patient's whole record that took a third of the time, for the same
    content (tests check every resource served round-trips through the model unchanged)."""
    digest = _digest(model, data)
    if digest not in _VALIDATED:
        model.model_validate(data)
        if len(_VALIDATED) >= VALIDATED_MAX:
            _VALIDATED.clear()
        _VALIDATED.add(digest)
    return check_resource(data)


def _when(moment: datetime | None) -> str | None:
    """A FHIR instant / dateTime: UTC, with a Z (as ``fhir.resources`` writes them)."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _drop_none(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None and v != []}


def _number(value: Any) -> float | int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value


def _quantity(value: Any, unit: str) -> dict[str, Any] | None:
    number = _number(value)
    if number is None:
        return None
    return {"value": number, "unit": _UNIT_DISPLAY[unit], "system": UCUM, "code": unit}


def _component(text: str, **value: Any) -> dict[str, Any] | None:
    """One component, or None when its stored value is absent (nothing is made up)."""
    (kind, stored), *_ = value.items()
    if stored is None:
        return None
    return {"code": {"text": text}, kind: stored}


def _components(*items: dict[str, Any] | None) -> list[dict[str, Any]]:
    return [c for c in items if c is not None]


def _patient_ref(patient_id: int | None) -> dict[str, str]:
    return {"reference": f"Patient/{patient_id}"}


def _model_of(record: AnalysisRecord) -> tuple[str, str]:
    analysis = record.analysis
    name = analysis.model_name or str(record.result.get("model_name") or "")
    version = analysis.model_version or str(record.result.get("model_version") or "")
    return name, version


def _device_ref(record: AnalysisRecord) -> dict[str, str] | None:
    name, version = _model_of(record)
    if not name:
        return None
    return {
        "reference": f"Device/{device_resource_id(name, version)}",
        "display": f"{name} {version}",
    }


def _model_note(record: AnalysisRecord, *extra: str) -> list[dict[str, str]]:
    model = " ".join(part for part in _model_of(record) if part)
    computed = f"Computed by {model}." if model else "Computed by an unnamed model."
    return [{"text": " ".join([computed, *extra, DISCLAIMER])}]


# --- Patient, Device, DocumentReference ----------------------------------------------------------


def patient_resource(patient: Patient, *, mrn_system: str) -> Resource:
    return finish(
        FhirPatient,
        _drop_none(
            {
                "resourceType": "Patient",
                "id": str(patient.pk),
                "meta": {"lastUpdated": _when(patient.updated_at)},
                "identifier": [
                    {
                        "use": "usual",
                        "type": {
                            "coding": [
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                                    "code": "MR",
                                    "display": "Medical record number",
                                }
                            ]
                        },
                        "system": mrn_system,
                        "value": patient.mrn,
                    }
                ],
                "name": [{"text": patient.name}] if patient.name else None,
                "gender": patient.sex,
                "birthDate": patient.birth_date.isoformat() if patient.birth_date else None,
            }
        ),
    )


def device_resource(name: str, version: str, *, links: Links) -> Resource:
    card = links.model_card(name, version)
    return finish(
        Device,
        {
            "resourceType": "Device",
            "id": device_resource_id(name, version),
            "status": "active",
            "type": {"text": "AI model (software)"},
            "deviceName": [{"name": name, "type": "model-name"}],
            "version": [{"value": version}],
            "url": card,
            "note": [{"text": f"Model card: {card}. {DISCLAIMER}"}],
        },
    )


def ct_volume_resource(volume: PatientFile, *, links: Links) -> Resource:
    return finish(
        DocumentReference,
        {
            "resourceType": "DocumentReference",
            "id": file_resource_id(volume.pk),
            "status": "current",
            "type": {"text": "CT volume"},
            "subject": _patient_ref(volume.patient_id),
            "date": _when(volume.created_at),
            "description": f"Uploaded CT volume ({volume.format})",
            "content": [
                {
                    "attachment": {
                        "contentType": volume.content_type,
                        "url": links.file_content(volume.pk),
                        "size": volume.size,
                        "title": volume.name,
                        "creation": _when(volume.created_at),
                    }
                }
            ],
        },
    )


# --- Observations and risk assessments, per kind -------------------------------------------------


def _observation(
    record: AnalysisRecord,
    key: str,
    code: str,
    text: str,
    *,
    components: list[dict[str, Any]] | None = None,
    value: dict[str, Any] | None = None,
    notes: tuple[str, ...] = (),
) -> Resource:
    analysis = record.analysis
    category = CLINICAL_KINDS[analysis.kind][1]
    derived = (
        [{"reference": f"DocumentReference/{file_resource_id(record.volume_file_id)}"}]
        if record.volume_file_id is not None
        else None
    )
    return _drop_none(
        {
            "resourceType": "Observation",
            "id": analysis_resource_id(analysis.pk, key),
            "status": "final",
            "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": category}]}],
            "code": {
                "coding": [{"system": FINDING_SYSTEM, "code": code, "display": text}],
                "text": text,
            },
            "subject": _patient_ref(analysis.patient_id),
            "effectiveDateTime": _when(analysis.completed_at),
            "issued": _when(analysis.completed_at),
            "device": _device_ref(record),
            "derivedFrom": derived,
            "note": _model_note(record, *notes),
            "component": components or None,
            **(value or {}),
        }
    )


def _ct_observations(record: AnalysisRecord) -> list[Resource]:
    result = record.result
    found: list[Resource] = []
    organ_components = [
        c
        for s in result.get("structures") or []
        for c in (
            _component(f"{s['name']} volume", valueQuantity=_quantity(s.get("volume_ml"), "mL")),
            _component(
                f"{s['name']} mean attenuation",
                valueQuantity=_quantity(s.get("hu_mean"), "[hnsf'U]"),
            ),
            _component(
                f"{s['name']} attenuation standard deviation",
                valueQuantity=_quantity(s.get("hu_std"), "[hnsf'U]"),
            ),
        )
        if c is not None
    ]
    if organ_components:
        found.append(
            _observation(
                record,
                "organ-volumes",
                "ct-organ-volumes",
                "CT organ volumes and attenuation",
                components=organ_components,
            )
        )
    body = result.get("body_composition") or {}
    l3 = body.get("l3") or {}
    body_components = _components(
        _component("body volume", valueQuantity=_quantity(body.get("body_volume_ml"), "mL")),
        _component(
            "subcutaneous fat volume",
            valueQuantity=_quantity(body.get("subcutaneous_fat_ml"), "mL"),
        ),
        _component(
            "visceral fat volume", valueQuantity=_quantity(body.get("visceral_fat_ml"), "mL")
        ),
        _component(
            "subcutaneous fat area at L3",
            valueQuantity=_quantity(l3.get("subcutaneous_fat_cm2"), "cm2"),
        ),
        _component(
            "visceral fat area at L3", valueQuantity=_quantity(l3.get("visceral_fat_cm2"), "cm2")
        ),
        _component("L3 level found by", valueString=l3.get("method") or None),
        _component("skeletal muscle", valueString=body.get("muscle") or None),
    )
    if body_components:
        found.append(
            _observation(
                record,
                "body-composition",
                "ct-body-composition",
                "CT body composition",
                components=body_components,
            )
        )
    liver = result.get("liver") or {}
    if liver.get("status") == "segmented" and _number(liver.get("lesion_count")) is not None:
        lesion_components = _components(
            _component("liver lesion count", valueInteger=liver.get("lesion_count")),
            _component(
                "total liver lesion volume",
                valueQuantity=_quantity(liver.get("lesion_volume_ml"), "mL"),
            ),
            *(
                c
                for lesion in liver.get("lesions") or []
                for c in (
                    _component(
                        f"lesion {lesion.get('index')} volume",
                        valueQuantity=_quantity(lesion.get("volume_ml"), "mL"),
                    ),
                    _component(
                        f"lesion {lesion.get('index')} longest axial diameter",
                        valueQuantity=_quantity(lesion.get("largest_diameter_mm"), "mm"),
                    ),
                    _component(
                        f"lesion {lesion.get('index')} mean attenuation",
                        valueQuantity=_quantity(lesion.get("hu_mean"), "[hnsf'U]"),
                    ),
                )
            ),
        )
        liver_model = " ".join(str(liver.get(k)) for k in ("model", "version") if liver.get(k))
        notes = tuple(
            n
            for n in (
                f"Liver segmentation by {liver_model}." if liver_model else None,
                liver.get("lesion_caution"),
            )
            if n
        )
        found.append(
            _observation(
                record,
                "liver-lesions",
                "ct-liver-lesions",
                "CT liver lesions",
                components=lesion_components,
                notes=notes,
            )
        )
    adrenal_components = [
        c
        for gland in result.get("adrenal") or []
        for c in (
            _component(f"{gland['structure']} finding", valueString=gland.get("label") or None),
            _component(
                f"{gland['structure']} mass probability",
                valueQuantity=_quantity(gland.get("probability"), "1"),
            ),
            _component(
                f"{gland['structure']} volume",
                valueQuantity=_quantity(gland.get("gland_volume_ml"), "mL"),
            ),
        )
        if c is not None
    ]
    if adrenal_components:
        found.append(
            _observation(
                record, "adrenal", "ct-adrenal", "CT adrenal screen", components=adrenal_components
            )
        )
    return found


def _sequence_items(record: AnalysisRecord) -> list[tuple[int, dict[str, Any]]]:
    items = record.result.get("results") or []
    return [
        (int(item["index"]), item)
        for item in items
        if isinstance(item, dict) and item.get("ok") and isinstance(item.get("index"), int)
    ]


def _task(item: dict[str, Any], name: str) -> dict[str, Any]:
    prediction = item.get("prediction") or {}
    task = prediction.get(name)
    return task if isinstance(task, dict) else {}


def _sequence_observations(record: AnalysisRecord) -> list[Resource]:
    found = []
    for index, item in _sequence_items(record):
        task1, task2, task3 = (_task(item, t) for t in ("task1", "task2", "task3"))
        ranked = task3.get("top_predictions") or []
        # [label, probability] of the best task 3 prediction, padded when absent or short.
        best = ranked[0] if ranked and isinstance(ranked[0], list) else []
        top3 = [*best, None, None]
        is_pathogen = task1.get("is_pathogen")
        components = _components(
            _component("sequence id", valueString=str(item["id"]) if item.get("id") else None),
            _component(
                "task 1: pathogen",
                valueBoolean=is_pathogen if isinstance(is_pathogen, bool) else None,
            ),
            _component(
                "task 1: pathogen probability",
                valueQuantity=_quantity(task1.get("probability"), "1"),
            ),
            _component("task 2: protein type", valueString=task2.get("protein_type") or None),
            _component(
                "task 2: protein type probability",
                valueQuantity=_quantity(task2.get("probability"), "1"),
            ),
            _component("task 3: protein", valueString=str(top3[0]) if top3[0] else None),
            _component("task 3: protein probability", valueQuantity=_quantity(top3[1], "1")),
        )
        found.append(
            _observation(
                record,
                f"seq-{index}",
                "sequence-prediction",
                f"Pathogen protein prediction, sequence {index + 1}",
                components=components,
            )
        )
    return found


def _rosmap_observations(record: AnalysisRecord) -> list[Resource]:
    result = record.result
    predicted = result.get("predicted_class")
    if not predicted:
        return []
    probabilities = result.get("probabilities") or {}
    components = _components(
        *(
            _component(f"probability of {label}", valueQuantity=_quantity(p, "1"))
            for label, p in sorted(probabilities.items())
        ),
        _component("confidence", valueString=result.get("confidence") or None),
    )
    return [
        _observation(
            record,
            "omics-class",
            "omics-class",
            "Multi-omics class (AD: Alzheimer's disease, NC: normal control)",
            value={"valueCodeableConcept": {"text": str(predicted)}},
            components=components,
        )
    ]


def _paad_observations(record: AnalysisRecord) -> list[Resource]:
    result = record.result
    if _number(result.get("risk_score")) is None:
        return []
    survival = result.get("predicted_survival") or {}
    components = _components(
        _component(
            "risk score (log relative hazard)",
            valueQuantity=_quantity(result.get("risk_score"), "1"),
        ),
        _component("risk group", valueString=result.get("risk_group") or None),
        _component(
            "risk percentile among training patients",
            valueQuantity=_quantity(result.get("risk_percentile"), "1"),
        ),
        _component(
            "group median survival",
            valueQuantity=_quantity(result.get("group_median_survival_days"), "d"),
        ),
        *(
            _component(f"predicted survival at {day} days", valueQuantity=_quantity(p, "1"))
            for day, p in sorted(survival.items(), key=lambda kv: float(kv[0]))
        ),
    )
    evidence = (str(result["evidence"]),) if result.get("evidence") else ()
    return [
        _observation(
            record,
            "omics-risk",
            "omics-survival-risk",
            "Pancreatic cancer survival risk (group level)",
            components=components,
            notes=evidence,
        )
    ]


def _risk(
    record: AnalysisRecord,
    key: str,
    basis_key: str,
    predictions: list[dict[str, Any]],
    *,
    code: str,
    notes: tuple[str, ...] = (),
) -> Resource:
    analysis = record.analysis
    device = _device_ref(record)
    return _drop_none(
        {
            "resourceType": "RiskAssessment",
            "id": analysis_resource_id(analysis.pk, key),
            "status": "final",
            "code": {"coding": [{"system": FINDING_SYSTEM, "code": code}], "text": code},
            "subject": _patient_ref(analysis.patient_id),
            "occurrenceDateTime": _when(analysis.completed_at),
            "performer": device,
            "basis": [{"reference": f"Observation/{analysis_resource_id(analysis.pk, basis_key)}"}],
            "prediction": predictions,
            "note": _model_note(record, *notes),
        }
    )


def _risk_assessments(record: AnalysisRecord) -> list[Resource]:
    kind = record.analysis.kind
    if kind == "sequence_batch":
        return [
            _risk(
                record,
                f"seq-{index}-pathogen",
                f"seq-{index}",
                [
                    {
                        "outcome": {"text": "pathogen (task 1)"},
                        "probabilityDecimal": _number(_task(item, "task1").get("probability")),
                    }
                ],
                code="pathogen-risk",
            )
            for index, item in _sequence_items(record)
            if _number(_task(item, "task1").get("probability")) is not None
        ]
    if kind == "omics_paad_survival" and _number(record.result.get("risk_score")) is not None:
        result = record.result
        group = str(result.get("risk_group") or "")
        qualitative: dict[str, Any] | None = {"text": group} if group else None
        if qualitative is not None and group in RISK_PROBABILITY_CODES:
            qualitative["coding"] = [{"system": RISK_PROBABILITY, "code": group}]
        predictions: list[dict[str, Any]] = [
            _drop_none(
                {
                    "outcome": {"text": "death (risk group, relative to the training cohort)"},
                    "qualitativeRisk": qualitative,
                    "rationale": "Cox model risk group; group-level, not a personal prognosis.",
                }
            )
        ]
        for day, p in sorted(
            (result.get("predicted_survival") or {}).items(), key=lambda kv: float(kv[0])
        ):
            if _number(p) is None:
                continue
            predictions.append(
                {
                    "outcome": {"text": "survival"},
                    "probabilityDecimal": p,
                    "whenRange": {"high": _quantity(float(day), "d")},
                }
            )
        evidence = (str(result["evidence"]),) if result.get("evidence") else ()
        return [
            _risk(
                record,
                "paad-risk",
                "omics-risk",
                predictions,
                code="paad-survival-risk",
                notes=evidence,
            )
        ]
    return []


_OBSERVATIONS: dict[str, Callable[[AnalysisRecord], list[Resource]]] = {
    "ct": _ct_observations,
    "sequence_batch": _sequence_observations,
    "omics_rosmap": _rosmap_observations,
    "omics_paad_survival": _paad_observations,
}


@dataclass
class AnalysisResources:
    """What one completed analysis is in FHIR: built, and validated only when served (a search
    for reports needs its findings' ids, not their validation)."""

    report: Resource
    observations: list[Resource]
    risk_assessments: list[Resource]

    def _pool(self, resource_type: str) -> list[Resource]:
        return {
            "DiagnosticReport": [self.report],
            "Observation": self.observations,
            "RiskAssessment": self.risk_assessments,
        }.get(resource_type, [])

    def served(self, resource_type: str) -> list[Resource]:
        return [finish(_MODELS[resource_type], r) for r in self._pool(resource_type)]

    def all_served(self) -> list[Resource]:
        return [
            r for t in ("DiagnosticReport", "Observation", "RiskAssessment") for r in self.served(t)
        ]

    def by_id(self, resource_type: str, resource_id: str) -> Resource | None:
        found = next((r for r in self._pool(resource_type) if r["id"] == resource_id), None)
        return finish(_MODELS[resource_type], found) if found is not None else None


_MODELS: dict[str, type[FHIRResourceModel]] = {
    "DiagnosticReport": DiagnosticReport,
    "Observation": Observation,
    "RiskAssessment": RiskAssessment,
}


def _conclusion(record: AnalysisRecord, language: str | None) -> str | None:
    chosen = record.interpretations.get(language or "") if language else None
    if chosen is None and record.interpretations:
        chosen = max(record.interpretations.values(), key=lambda i: (i.created_at, i.pk))
    if chosen is None:
        return None
    return (
        f"{chosen.label} ({chosen.model}, prompt {chosen.prompt_version}). {DISCLAIMER}\n\n"
        f"{chosen.text}"
    )


def _presented_forms(record: AnalysisRecord, links: Links) -> list[dict[str, Any]]:
    title = KIND_TITLES.get(record.analysis.kind, record.analysis.kind)
    return [
        {
            "contentType": "application/pdf",
            "language": language,
            "url": links.artifact(artifact.analysis_id, artifact.name),
            "size": artifact.size,
            "title": f"{title} ({'한국어' if language == 'ko' else 'English'}, PDF)",
            "creation": _when(artifact.created_at),
        }
        for language, artifact in sorted(record.reports.items())
    ]


def analysis_resources(
    record: AnalysisRecord, *, links: Links, language: str | None
) -> AnalysisResources:
    analysis = record.analysis
    observations = _OBSERVATIONS[analysis.kind](record)
    v2_category = CLINICAL_KINDS[analysis.kind][0]
    title = KIND_TITLES[analysis.kind]
    report = _drop_none(
        {
            "resourceType": "DiagnosticReport",
            "id": analysis_resource_id(analysis.pk),
            "identifier": [{"system": ANALYSIS_SYSTEM, "value": str(analysis.pk)}],
            "status": "final",
            "category": [{"coding": [{"system": V2_0074, "code": v2_category}]}],
            "code": {
                "coding": [{"system": KIND_SYSTEM, "code": analysis.kind, "display": title}],
                "text": title,
            },
            "subject": _patient_ref(analysis.patient_id),
            "effectiveDateTime": _when(analysis.completed_at),
            "issued": _when(analysis.completed_at),
            "result": [{"reference": f"Observation/{o['id']}"} for o in observations],
            "conclusion": _conclusion(record, language),
            "presentedForm": _presented_forms(record, links),
        }
    )
    return AnalysisResources(report, observations, _risk_assessments(record))


# --- AuditEvent ----------------------------------------------------------------------------------

_AUDIT_OUTCOME = {"ok": "0", "not_found": "4", "denied": "4", "throttled": "4", "failed": "8"}


def _audit_action(action: str) -> str:
    verb = action.rsplit(".", 1)[-1]
    if verb in ("create", "submit", "upload", "register"):
        return "C"
    if verb in ("update", "change", "cancel", "retry"):
        return "U"
    if verb == "delete":
        return "D"
    if verb in ("read", "list", "download", "search", "everything", "export"):
        return "R"
    return "E"


def audit_event_resource(event: AccessEvent) -> Resource:
    who: dict[str, Any] = (
        {"identifier": {"system": USER_SYSTEM, "value": str(event.user_id)}}
        if event.user_id is not None
        else {"display": "anonymous"}
    )
    agent: dict[str, Any] = {"who": who, "requestor": True}
    if event.ip:
        agent["network"] = {"address": event.ip, "type": "2"}
    entities: list[dict[str, Any]] = []
    if event.patient_id is not None:
        entities.append({"what": _patient_ref(event.patient_id), "role": {"code": "1"}})
    if event.object_type:
        entity: dict[str, Any] = {"name": f"{event.object_type} {event.object_id}".strip()}
        if event.request_id:
            entity["detail"] = [{"type": "request_id", "valueString": event.request_id}]
        entities.append(entity)
    return finish(
        AuditEvent,
        _drop_none(
            {
                "resourceType": "AuditEvent",
                "id": str(event.pk),
                "type": {
                    "system": "http://terminology.hl7.org/CodeSystem/audit-event-type",
                    "code": "rest",
                    "display": "RESTful Operation",
                },
                "subtype": [{"system": AUDIT_ACTION_SYSTEM, "code": event.action}],
                "action": _audit_action(event.action),
                "recorded": _when(event.occurred_at),
                "outcome": _AUDIT_OUTCOME.get(event.outcome, "8"),
                "outcomeDesc": event.outcome,
                "agent": [agent],
                "source": {"observer": {"display": "CDSS"}},
                "entity": entities,
            }
        ),
    )


# --- Bundle --------------------------------------------------------------------------------------


def bundle_resource(
    *,
    bundle_type: str,
    self_url: str,
    matches: list[Resource],
    includes: list[Resource] | None = None,
    links: Links,
) -> Resource:
    """A Bundle of resources already built (validated and checked each), so the envelope alone
    is validated here rather than every resource twice."""
    envelope = finish(
        Bundle,
        _drop_none(
            {
                "resourceType": "Bundle",
                "type": bundle_type,
                "total": len(matches) if bundle_type == "searchset" else None,
                "link": [{"relation": "self", "url": self_url}],
            }
        ),
    )
    entries = [
        {
            "fullUrl": links.resource(r["resourceType"], r["id"]),
            "resource": r,
            **({"search": {"mode": mode}} if bundle_type == "searchset" else {}),
        }
        for mode, group in (("match", matches), ("include", includes or []))
        for r in group
    ]
    if entries:  # FHIR JSON has no empty arrays: an empty Bundle has no "entry"
        envelope["entry"] = entries
    return envelope
