"""Reads of dispenses, regimens and adherence figures — always given the actor, scoped through
``patients.selectors.patient_access_q`` (a row is visible only with its patient; "missing" and "not yours"
look the same)."""

from __future__ import annotations

from typing import TypeVar

from django.db.models import Model, QuerySet

from oncoliaison.core import audit
from oncoliaison.core.access import get_visible_or_404, owner_patient_id
from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import NotFound
from oncoliaison.core.models import AuditAction
from oncoliaison.patients.models import Patient
from oncoliaison.patients.selectors import patient_access_q

from .models import AdherenceMeasure, Dispense, DispenseStatus, Regimen

CATEGORY = "medication"
M = TypeVar("M", bound=Model)


def _scoped(actor: Actor, model: type[M], resource_type: str) -> QuerySet[M]:
    manager = model._default_manager
    if actor.is_system and not actor.allows(resource_type, "r"):
        return manager.none()
    q = patient_access_q(actor, "patient")
    return manager.none() if q is None else manager.filter(q)


def dispense_queryset_for(actor: Actor) -> QuerySet[Dispense]:
    return _scoped(actor, Dispense, "MedicationDispense")


def regimen_queryset_for(actor: Actor) -> QuerySet[Regimen]:
    return _scoped(actor, Regimen, "MedicationDispense")


def measure_queryset_for(actor: Actor) -> QuerySet[AdherenceMeasure]:
    return _scoped(actor, AdherenceMeasure, "Observation")


def dispense_get_for(actor: Actor, pk: object, *, channel: str = "") -> Dispense:
    """A dispense the actor may see (NotFound for missing and not visible alike); the read is audited."""
    try:
        dispense = get_visible_or_404(dispense_queryset_for(actor).select_related("patient"), pk)
    except NotFound:
        audit.log_refused(actor, category=CATEGORY, resource_type="MedicationDispense", resource_id=str(pk)[:64],
                          patient_id=owner_patient_id(Dispense, pk), channel=channel)
        raise
    audit.log(actor, AuditAction.READ, category=CATEGORY, resource_type="MedicationDispense",
              resource_id=dispense.pk, patient_id=dispense.patient_id, channel=channel)
    return dispense


def dispenses_of(actor: Actor, patient: Patient, *, include_errors: bool = False) -> QuerySet[Dispense]:
    """A patient's dispenses, newest first (``patient`` from access_patient, which audited the read)."""
    qs = dispense_queryset_for(actor).filter(patient=patient)
    if not include_errors:
        qs = qs.exclude(status=DispenseStatus.ENTERED_IN_ERROR)
    return qs.select_related("regimen").order_by("-dispensed_on", "-pk")


def regimens_of(actor: Actor, patient: Patient) -> QuerySet[Regimen]:
    return regimen_queryset_for(actor).filter(patient=patient).order_by("medication_display")


def measures_of(actor: Actor, patient: Patient) -> QuerySet[AdherenceMeasure]:
    """A patient's PDC per drug and year, the latest year first."""
    return measure_queryset_for(actor).filter(patient=patient).order_by("-year", "medication_display")
