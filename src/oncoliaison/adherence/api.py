"""JSON API of treatment adherence.  Reads go through the adherence selectors (a patient's rows only with the
patient, audited by access_patient); every change goes through the services."""

from __future__ import annotations

from decimal import Decimal

from django.http import HttpRequest, HttpResponse
from ninja import Router, Status

from oncoliaison.apiauth import CHANNEL, actor_of
from oncoliaison.core.access import require_scope
from oncoliaison.core.schemas import CREATE_ERRORS, READ_ERRORS, Id
from oncoliaison.core.versions import etag
from oncoliaison.patients.selectors import access_patient

from . import selectors, services
from .models import AdherenceMeasure, Dispense
from .schemas import DispenseIn, DispenseOut, PdcOut

router = Router(tags=["treatment adherence"])


@router.get("/patients/{id:patient_id}/dispenses", response={200: list[DispenseOut], **READ_ERRORS})
def adherence_dispense_list(request: HttpRequest, patient_id: Id) -> list[Dispense]:
    """The patient's dispenses of oral anticancer medication, newest first (entered-in-error ones included)."""
    actor = actor_of(request)
    require_scope(actor, "MedicationDispense", "s")
    patient = access_patient(actor, patient_id, category=selectors.CATEGORY, channel=CHANNEL)
    return list(selectors.dispenses_of(actor, patient, include_errors=True)[:1000])


@router.post("/patients/{id:patient_id}/dispenses", response={201: DispenseOut, **CREATE_ERRORS})
def adherence_dispense_create(request: HttpRequest, patient_id: Id, payload: DispenseIn) -> Status[Dispense]:
    """Record a fill; the drug's PDC is recomputed (and a follow-up task raised when it falls below 80 %)."""
    actor = actor_of(request)
    require_scope(actor, "MedicationDispense", "c")
    patient = access_patient(actor, patient_id, category=selectors.CATEGORY, channel=CHANNEL, audit_read=False)
    dispense = services.dispense_record(actor=actor, patient=patient, channel=CHANNEL, data=services.DispenseData(
        medication_code=payload.medication_code, medication_display=payload.medication_display,
        dispensed_on=payload.dispensed_on, days_supply=payload.days_supply,
        quantity=None if payload.quantity is None else Decimal(str(round(payload.quantity, 2))),
        quantity_unit=payload.quantity_unit, source_system=payload.source_system, source_id=payload.source_id))
    return Status(201, dispense)


@router.get("/dispenses/{id:dispense_id}", response={200: DispenseOut, **READ_ERRORS})
def adherence_dispense_get(request: HttpRequest, dispense_id: Id, response: HttpResponse) -> Dispense:
    actor = actor_of(request)
    require_scope(actor, "MedicationDispense", "r")
    dispense = selectors.dispense_get_for(actor, dispense_id, channel=CHANNEL)
    response["ETag"] = etag(dispense.version)
    return dispense


@router.get("/patients/{id:patient_id}/adherence", response={200: list[PdcOut], **READ_ERRORS})
def adherence_pdc_list(request: HttpRequest, patient_id: Id) -> list[AdherenceMeasure]:
    """PDC and MPR per drug and calendar year (the current year to date), the latest year first, with the
    figure's basis: index date, days covered, days in the treatment period."""
    actor = actor_of(request)
    require_scope(actor, "Observation", "s")
    patient = access_patient(actor, patient_id, category=selectors.CATEGORY, channel=CHANNEL)
    return list(selectors.measures_of(actor, patient))
