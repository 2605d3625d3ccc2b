"""FHIR R4 mappers of treatment adherence (registered with oncoliaison.fhir.registry).

MedicationDispense (create, read, search by patient): ``status`` completed or entered-in-error;
``medicationCodeableConcept`` the RxNorm code; ``whenHandedOver`` the date of service; ``daysSupply`` in
UCUM days (for a drug on a cyclic regimen: the dosing days supplied, and the regimen as
``dosageInstruction.text``); ``quantity``; the sender's ``identifier`` makes a re-sent dispense the same one
(per API client).  A batch Bundle made only of MedicationDispense creates is recorded entry by entry and
the figures computed once per drug.

PDC as an Observation (read, search; id ``pdc-<n>``): one per patient, drug and calendar year (the current
year to date, status preliminary; past years final), kept current as fills arrive.  No LOINC code for the
PQA proportion of days covered was found, so the code is our own: ``<CODE_BASE>/CodeSystem/adherence``
``pdc``; category ``therapy`` (HL7 observation-category); ``valueQuantity`` in UCUM ``%``; ``effectivePeriod``
the measurement period; components (same code system) for the drug (RxNorm), index date, covered days,
denominator days, MPR and whether adherent; no value (``dataAbsentReason`` not-applicable) when the patient
is not in PQA's denominator (fills on fewer than two dates).  docs/adherence.md gives the definition.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from pydantic import ValidationError

from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import DomainError, Forbidden, NotFound, ValidationFailed
from oncoliaison.fhir import codes, params, registry, validation
from oncoliaison.oncology.fhir.common import CS_OBSERVATION_CATEGORY, category, fixed_code
from oncoliaison.patients.models import Patient
from oncoliaison.patients.selectors import patient_queryset_for, require_patient_access_role

from . import selectors, services
from .models import RXNORM, AdherenceMeasure, Dispense, DispenseStatus

_SP = "http://hl7.org/fhir/SearchParameter/"
CS_ADHERENCE = f"{codes.CODE_BASE}/CodeSystem/adherence"
CS_DATA_ABSENT = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
UCUM = "http://unitsofmeasure.org"
PDC_PREFIX = "pdc"


def _patient_params(field: str, subject: str) -> tuple[registry.SearchParam, ...]:
    f = params.reference_filter(field, "Patient")
    return (registry.SearchParam("patient", "reference", "The patient.", f, _SP + "clinical-patient"),
            registry.SearchParam("subject", "reference", "The patient.", f, _SP + subject))


def _days(n: int) -> dict[str, Any]:
    return {"value": n, "unit": "days", "system": UCUM, "code": "d"}


def _drug(code: str, display: str) -> dict[str, Any]:
    return {"coding": [codes.coding(RXNORM, code, display)], "text": display}


class _Adherence(registry.ResourceMapper):
    patient_linked = True
    audit_category = selectors.CATEGORY

    def check_access(self, actor: Actor, interaction: str) -> None:
        require_patient_access_role(actor)


# ===================================== MedicationDispense ================================================


def dispense_data(resource: dict[str, Any], *, actor: Actor) -> tuple[int, services.DispenseData]:
    """(patient id, the service's input) for a validated MedicationDispense."""
    errors: dict[str, list[str]] = {}
    patient_id = registry.reference_to(resource.get("subject"), "Patient", "subject")
    if patient_id is None:
        errors["subject"] = ["Reference the Patient."]
    if resource.get("status") != "completed":
        errors["status"] = ["Only completed dispenses are accepted."]
    rxnorm = [c for c in (resource.get("medicationCodeableConcept") or {}).get("coding") or []
              if c.get("system") == RXNORM and c.get("code")]
    if not rxnorm:
        errors["medicationCodeableConcept"] = [f"Give the medication as an RxNorm coding ({RXNORM})."]
    when = str(resource.get("whenHandedOver") or "")[:10]
    try:
        handed_over = dt.date.fromisoformat(when)
    except ValueError:
        errors["whenHandedOver"] = ["Give the date the medication was handed over."]
    supply = (resource.get("daysSupply") or {}).get("value")
    if not isinstance(supply, int | float | Decimal) or int(supply) != supply:
        errors["daysSupply"] = ["Give the days' supply as a whole number of days."]
    if errors:
        raise ValidationFailed("The MedicationDispense cannot be recorded.", field_errors=errors)
    coding = rxnorm[0]
    quantity = resource.get("quantity") or {}
    ident = next((i for i in resource.get("identifier") or [] if i.get("value")), None)
    source = f"{codes.SID_API_CLIENT}/{actor.client_id or actor.username}"
    assert patient_id is not None and supply is not None
    return patient_id, services.DispenseData(
        medication_code=str(coding["code"]),
        medication_display=str(coding.get("display") or resource["medicationCodeableConcept"].get("text") or ""),
        dispensed_on=handed_over, days_supply=int(supply),
        quantity=Decimal(str(quantity["value"])) if quantity.get("value") is not None else None,
        quantity_unit=str(quantity.get("unit") or quantity.get("code") or ""),
        source_system=f"{source}|{ident.get('system') or ''}"[:200] if ident else "",
        source_id=str(ident["value"])[:200] if ident else "")


def _patient_for(actor: Actor, patient_id: int) -> Patient:
    patient = patient_queryset_for(actor).select_related("organization").filter(pk=patient_id).first()
    if patient is None:
        raise NotFound()
    return patient


@registry.register
class MedicationDispenseMapper(_Adherence):
    resource_type = "MedicationDispense"
    model = Dispense
    interactions = (registry.READ, registry.SEARCH, registry.CREATE)
    documentation = ("Pharmacy fills of oral anticancer medication (RxNorm); each create recomputes the patient's "
                     "PDC Observations for the drug. A re-sent identifier is the same dispense.")
    search_params = (
        *_patient_params("patient_id", "MedicationDispense-subject"),
        registry.SearchParam("status", "token", "completed | entered-in-error.",
                    params.code_filter("status", "http://hl7.org/fhir/CodeSystem/medicationdispense-status",
                                       DispenseStatus.values), _SP + "medications-status"),
        registry.SearchParam("whenhandedover", "date", "The date of service.", params.date_filter("dispensed_on"),
                    _SP + "MedicationDispense-whenhandedover"),
    )

    def queryset_for(self, actor: Actor) -> QuerySet[Dispense]:
        return selectors.dispense_queryset_for(actor)

    def with_related(self, qs: QuerySet[Any]) -> QuerySet[Any]:
        return qs.select_related("patient", "regimen")

    def to_fhir(self, d: Dispense) -> dict[str, Any]:
        out: dict[str, Any] = {
            "resourceType": "MedicationDispense", "id": str(d.pk),
            "meta": codes.meta(d.version, d.updated_at, synthetic=d.patient.synthetic),
            "status": d.status, "medicationCodeableConcept": _drug(d.medication_code, d.medication_display),
            "subject": codes.ref("Patient", d.patient_id), "daysSupply": _days(d.days_supply),
            "whenHandedOver": d.dispensed_on.isoformat(),
        }
        if d.quantity is not None:
            out["quantity"] = {"value": float(d.quantity), **({"unit": d.quantity_unit} if d.quantity_unit else {})}
        if d.source_id:
            out["identifier"] = [{"system": d.source_system.split("|", 1)[-1] or codes.SID_API_CLIENT,
                                  "value": d.source_id}]
        if d.regimen is not None:
            out["dosageInstruction"] = [{"text": f"Cyclic: {d.regimen.days_on} days on, {d.regimen.days_off} off "
                                                 f"from {d.regimen.starts_on.isoformat()}"}]
        return out

    def from_fhir(self, resource: dict[str, Any], *, actor: Actor, current: Any = None) -> Any:
        return dispense_data(resource, actor=actor)

    def create(self, *, actor: Actor, data: tuple[int, services.DispenseData]) -> Dispense:
        patient_id, inner = data
        return services.dispense_record(actor=actor, patient=_patient_for(actor, patient_id), data=inner,
                                        channel="fhir")


def is_dispense_batch(bundle: dict[str, Any]) -> bool:
    """A batch made only of MedicationDispenses: a pharmacy's fills."""
    entries = [e for e in bundle.get("entry") or [] if isinstance(e, dict)]
    return bundle.get("type") == "batch" and bool(entries) and all(
        (e.get("resource") or {}).get("resourceType") == "MedicationDispense" for e in entries)


@registry.register_bundle_handler(claims=is_dispense_batch)
def dispense_batch(actor: Actor, bundle: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """``POST [base]`` with a batch of MedicationDispenses: one answer per entry, in order."""
    if actor.is_system and not actor.allows("MedicationDispense", "c"):
        raise Forbidden("The access token's scopes do not allow creating MedicationDispense resources.")
    require_patient_access_role(actor)
    model = validation.model_for("MedicationDispense")
    outcomes: list[Dispense | DomainError | None] = []
    items: list[tuple[Patient, services.DispenseData]] = []
    slots: list[int] = []
    with validation.batch():
        for entry in bundle.get("entry") or []:
            try:
                resource = {k: v for k, v in (entry.get("resource") or {}).items() if k != "id"}
                validation.validate(model, resource)
                patient_id, data = dispense_data(resource, actor=actor)
                items.append((_patient_for(actor, patient_id), data))
                slots.append(len(outcomes))
                outcomes.append(None)
            except ValidationError as exc:
                outcomes.append(ValidationFailed(f"Not a valid MedicationDispense: {exc.errors()[0]['msg']}"))
            except DomainError as exc:
                outcomes.append(exc)
    for slot, result in zip(slots, services.dispenses_record_many(actor=actor, items=items, channel="fhir"),
                            strict=True):
        outcomes[slot] = result
    out: list[dict[str, Any]] = []
    for outcome in outcomes:
        if isinstance(outcome, Dispense):
            out.append({"response": {"status": "201 Created", "location": f"MedicationDispense/{outcome.pk}",
                                     "lastModified": codes.instant(outcome.updated_at)}})
        else:
            error = outcome or ValidationFailed("Not processed.")
            code = {404: "not-found", 403: "forbidden", 409: "conflict"}.get(error.status, "processing")
            out.append({"response": {"status": str(error.status), "outcome": {
                "resourceType": "OperationOutcome",
                "issue": [{"severity": "error", "code": code, "diagnostics": error.message}]}}})
    return 200, {"resourceType": "Bundle", "type": "batch-response", "entry": out}


# ===================================== PDC Observation ===================================================


def _component(code: str, display: str, value: dict[str, Any]) -> dict[str, Any]:
    return {"code": {"coding": [codes.coding(CS_ADHERENCE, code, display)], "text": display}, **value}


def _percent(value: Decimal) -> dict[str, Any]:
    return {"value": float(round(value * 100, 2)), "unit": "%", "system": UCUM, "code": "%"}


@registry.register
class PdcObservationMapper(_Adherence):
    resource_type = "Observation"
    model = AdherenceMeasure
    id_prefix = PDC_PREFIX
    interactions = (registry.READ, registry.SEARCH)
    documentation = (f"PDC (PQA method) per patient, drug and calendar year: code {CS_ADHERENCE}|pdc, our own "
                     "(no LOINC code found); the current year to date is preliminary.")
    search_params = (
        *_patient_params("patient_id", "Observation-subject"),
        registry.SearchParam("code", "token", f"{CS_ADHERENCE}|pdc.", fixed_code(CS_ADHERENCE, "pdc"), _SP + "clinical-code"),
        registry.SearchParam("category", "token", "therapy.", category({"therapy": []}, "pk"), _SP + "Observation-category"),
        registry.SearchParam("date", "date", "The measurement period's end.", params.date_filter("period_end"),
                    _SP + "clinical-date"),
    )

    def queryset_for(self, actor: Actor) -> QuerySet[AdherenceMeasure]:
        return selectors.measure_queryset_for(actor)

    def with_related(self, qs: QuerySet[Any]) -> QuerySet[Any]:
        return qs.select_related("patient")

    def to_fhir(self, m: AdherenceMeasure) -> dict[str, Any]:
        complete = m.period_end == dt.date(m.year, 12, 31)
        components = [_component("medication", "Medication", {"valueCodeableConcept": _drug(m.medication_code,
                                                                                              m.medication_display)}),
                      _component("covered-days", "Days covered", {"valueQuantity": _days(m.covered_days)}),
                      _component("denominator-days", "Days in the treatment period",
                                 {"valueQuantity": _days(m.denominator_days)})]
        if m.index_date:
            components.insert(1, _component("index-date", "Index date (first fill in the period)",
                                            {"valueDateTime": m.index_date.isoformat()}))
        if m.mpr is not None:
            components.append(_component("mpr", "Medication possession ratio", {"valueQuantity": _percent(m.mpr)}))
        if m.adherent is not None:
            components.append(_component("adherent", "Adherent (PDC at least 80 %)", {"valueBoolean": m.adherent}))
        out: dict[str, Any] = {
            "resourceType": "Observation", "id": self.fhir_id(m),
            "meta": codes.meta(m.version, m.updated_at, synthetic=m.patient.synthetic),
            "status": "final" if complete else "preliminary",
            "category": [{"coding": [codes.coding(CS_OBSERVATION_CATEGORY, "therapy", "Therapy")]}],
            "code": {"coding": [codes.coding(CS_ADHERENCE, "pdc", "Proportion of days covered (PQA method)")],
                     "text": f"PDC {m.medication_display} {m.year}{'' if complete else ' to date'}"},
            "subject": codes.ref("Patient", m.patient_id),
            "effectivePeriod": {"start": m.period_start.isoformat(), "end": m.period_end.isoformat()},
            "issued": codes.instant(m.updated_at),
            "component": components,
        }
        if m.in_denominator and m.pdc is not None:
            out["valueQuantity"] = _percent(m.pdc)
        else:
            out["dataAbsentReason"] = {"coding": [codes.coding(CS_DATA_ABSENT, "not-applicable", "Not Applicable")]}
            out["note"] = [{"text": "Not in PQA's denominator: fills on fewer than two different dates in the period."
                            if m.index_date else "No fills in the period."}]
        if m.cyclic:
            out.setdefault("note", []).append({"text": "Cyclic regimen: planned off days are not days of the measure."})
        return out


