"""Reads of exports: the patient compartment (what $everything and bulk export disclose), a client's own jobs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any

from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import Forbidden, NotFound
from oncoliaison.fhir import registry
from oncoliaison.fhir.registry import SEARCH
from oncoliaison.oncology.fhir.common import CANCER_PATIENT_PROFILE
from oncoliaison.patients.selectors import patient_queryset_for

from .models import ExportJob, ExportLevel, ExportStatus

CATEGORY = "patient-record"  # audit category of a disclosure of a patient's whole record
CHUNK = 500  # patients per query (keeps IN lists under SQLite's parameter limit)


def export_types() -> list[str]:
    """Every resource type the FHIR server serves for a patient, Patient first (registry.patient_compartment)."""
    return [m.resource_type for m in registry.patient_compartment()]


def allowed_types(actor: Actor, asked: Sequence[str] | None) -> list[str]:
    """The types to export: those asked for (Forbidden if the actor may not read one of them), or every type
    of the compartment the actor may read (Forbidden if none).  A token's scopes decide for an API client;
    a person's role decides per type (a type their role does not give is left out unless asked for)."""
    types = list(asked) if asked is not None else export_types()
    refused = [t for t in types if not _may_read(actor, t)]
    if asked is not None and refused:
        if actor.is_system:
            raise Forbidden(f"The access token's scopes do not allow reading {', '.join(refused)} "
                            f"(needs system/<type>.r).")
        raise Forbidden(f"Your role does not give access to {', '.join(refused)} resources.")
    types = [t for t in types if t not in refused]
    if not types:
        raise Forbidden("The access token's scopes allow reading none of the exported resource types."
                        if actor.is_system else "Your role gives access to none of the exported resource types.")
    return types


def _may_read(actor: Actor, resource_type: str) -> bool:
    mapper = registry.get(resource_type)
    if mapper is None or not actor.allows(resource_type, "r"):
        return False
    try:
        mapper.check_access(actor, SEARCH)
    except Forbidden:
        return False
    return True


def resources_of(actor: Actor, patient_ids: Sequence[int], types: Sequence[str], since: dt.datetime | None
                 ) -> Iterator[tuple[str, dict[str, Any]]]:
    """(resource type, FHIR JSON) of the given patients, type by type, in id order: the rows of each type the
    actor may see, as a search would give them.  The caller has decided that the actor may see these
    patients and read these types (``allowed_types``)."""
    for rtype in types:
        mapper = registry.get(rtype)
        if mapper is None:
            continue
        for start in range(0, len(patient_ids), CHUNK):
            chunk = list(patient_ids[start:start + CHUNK])
            for body in mapper.compartment_resources(actor, chunk, since):
                if rtype == "Patient":  # the record here is a cancer patient's (mCODE Cancer Patient profile)
                    body.setdefault("meta", {})["profile"] = [CANCER_PATIENT_PROFILE]
                yield rtype, body


def patient_of(resource_type: str, body: dict[str, Any]) -> int | None:
    """The patient a resource of the compartment belongs to (its subject, patient, for or beneficiary reference)."""
    if resource_type == "Patient":
        return int(body["id"])
    for name in ("subject", "patient", "for", "beneficiary"):
        ref = (body.get(name) or {}).get("reference") or ""
        if ref.startswith("Patient/"):
            tail = ref.removeprefix("Patient/")
            return int(tail) if tail.isdigit() else None
    return None


def export_patient_ids(actor: Actor, level: str, group_organization_id: int | None) -> list[int]:
    """The patients an export covers: every patient the client may see, or those of one organisation."""
    qs = patient_queryset_for(actor)
    if level == ExportLevel.GROUP:
        qs = qs.filter(organization_id=group_organization_id or 0)
    return list(qs.order_by("pk").values_list("pk", flat=True))


def group_visible(actor: Actor, organization_id: int | None) -> bool:
    """A Group (an organisation's patient list) is listed for a client when it is the client's own
    organisation or one of its patients is shared with the client's organisation."""
    if organization_id is None:
        return False
    if organization_id == actor.client_organization_id:
        return True
    return patient_queryset_for(actor).filter(organization_id=organization_id).exists()


def require_client(actor: Actor) -> None:
    if not actor.is_system or not actor.client_id or not actor.client_organization_id:
        raise Forbidden("Bulk export is for API clients (OAuth 2.0 client credentials).")


def own_job(actor: Actor, key: str) -> ExportJob:
    """The client's own job, else NotFound (the same for another client's job and a missing one)."""
    require_client(actor)
    job = ExportJob.objects.filter(key=key, client_id=actor.client_id).exclude(status=ExportStatus.CANCELLED).first()
    if job is None:
        raise NotFound()
    return job
