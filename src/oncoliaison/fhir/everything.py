"""``GET /fhir/Patient/{id}/$everything``: the patient and their cancer record as one searchset Bundle.

What "everything" holds here: the Patient (with the mCODE Cancer Patient profile) and every resource of
the cancer record (Condition, Observation, Procedure, MedicationRequest, MedicationAdministration — see
oncology/fhir.py).  ``_type`` (comma-separated) and ``_since`` (an instant: resources changed since)
narrow it.  The disclosure is audited as an EXPORT of that patient.  The same renderers feed Bulk Data
(bulk.py), so both give the same resources.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any

from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse

from oncoliaison.core import audit, clock
from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import Forbidden
from oncoliaison.core.models import AuditAction
from oncoliaison.oncology.fhir import AUDIT_CATEGORY, CANCER_PATIENT_PROFILE, RECORD_MAPPERS, RECORD_TYPES
from oncoliaison.patients.models import Patient, PatientIdentifier
from oncoliaison.patients.selectors import access_patient, require_patient_access_role

from . import registry
from .auth import actor_for_request, base_url
from .codes import instant
from .outcome import FhirError, fhir_response
from .views import CHANNEL, fhir_view

EXPORT_TYPES = ("Patient", *RECORD_TYPES)
_IDENTIFIERS = Prefetch("identifiers", queryset=PatientIdentifier.objects.order_by("id"))
CHUNK = 500  # patients per query (keeps IN lists under SQLite's parameter limit)


def parse_types(raw: str | None) -> list[str] | None:
    """``_type`` -> the resource types asked for (None: all); 400 for a type this server does not export."""
    if raw is None or not raw.strip():
        return None
    asked = [t.strip() for t in raw.split(",") if t.strip()]
    unknown = [t for t in asked if t not in EXPORT_TYPES]
    if unknown:
        raise FhirError(400, f"_type: cannot export {', '.join(unknown)[:200]}. Exported types: "
                             f"{', '.join(EXPORT_TYPES)}.", code="not-supported", expression=["_type"])
    return list(dict.fromkeys(asked))


def parse_since(raw: str | None) -> dt.datetime | None:
    """``_since`` -> an aware datetime; 400 unless an instant with a time zone (or a date)."""
    if raw is None or not raw.strip():
        return None
    text = raw.strip().replace(" ", "+")  # a '+' in a query string arrives as a space
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise FhirError(400, "_since must be a FHIR instant such as 2026-01-01T00:00:00Z.",
                        expression=["_since"]) from None
    if moment.tzinfo is None:
        if "T" in text:
            raise FhirError(400, "_since needs a time zone (e.g. Z).", expression=["_since"])
        moment = moment.replace(tzinfo=dt.UTC)
    return moment


def allowed_types(actor: Actor, asked: Sequence[str] | None) -> list[str]:
    """The types to export: those asked for (403 if the token may not read one of them), or every exported
    type the token may read (403 if none)."""
    if asked is not None:
        refused = [t for t in asked if not actor.allows(t, "r")]
        if refused:
            raise Forbidden(f"The access token's scopes do not allow reading {', '.join(refused)} "
                            f"(needs system/<type>.r).")
        return list(asked)
    types = [t for t in EXPORT_TYPES if actor.allows(t, "r")]
    if not types:
        raise Forbidden("The access token's scopes allow reading none of the exported resource types.")
    return types


def patient_resource(patient: Patient) -> dict[str, Any]:
    mapper = registry.get("Patient")
    assert mapper is not None
    body = mapper.to_fhir(patient)
    meta = body.setdefault("meta", {})
    meta["profile"] = [CANCER_PATIENT_PROFILE]
    return body


def resources_of(patient_ids: Sequence[int], types: Sequence[str], since: dt.datetime | None
                 ) -> Iterator[tuple[str, dict[str, Any]]]:
    """(resource type, FHIR JSON) of the given patients, type by type, in id order.

    The caller has already decided that the actor may see these patients: no access check here."""
    for rtype in types:
        for start in range(0, len(patient_ids), CHUNK):
            chunk = list(patient_ids[start:start + CHUNK])
            if rtype == "Patient":
                qs = Patient.objects.filter(pk__in=chunk)
                if since is not None:
                    qs = qs.filter(updated_at__gte=since)
                for p in qs.prefetch_related(_IDENTIFIERS).order_by("pk"):
                    yield rtype, patient_resource(p)
                continue
            for mapper in RECORD_MAPPERS:
                if mapper.resource_type != rtype:
                    continue
                for row in mapper.export_rows(chunk, since):
                    yield rtype, mapper.to_fhir(row)


@fhir_view
def patient_everything(request: HttpRequest, pk: str) -> HttpResponse:
    if request.method != "GET":
        raise FhirError(405, "Use GET for $everything.", headers={"Allow": "GET"})
    actor = actor_for_request(request)
    if actor.is_system and not actor.allows("Patient", "r"):
        raise Forbidden("The access token's scopes do not allow reading Patient (needs system/Patient.r).")
    require_patient_access_role(actor)
    asked = parse_types(request.GET.get("_type"))
    since = parse_since(request.GET.get("_since"))
    types = allowed_types(actor, asked) if actor.is_system else list(asked or EXPORT_TYPES)
    patient = access_patient(actor, pk, category=AUDIT_CATEGORY, channel=CHANNEL, audit_read=False)
    base = base_url(request)
    entries = [
        {"fullUrl": f"{base}/{rtype}/{body['id']}", "resource": body, "search": {"mode": "match"}}
        for rtype, body in resources_of([patient.pk], types, since)
    ]
    audit.log(actor, AuditAction.EXPORT, category=AUDIT_CATEGORY, resource_type="Patient", resource_id=patient.pk,
              patient_id=patient.pk, channel=CHANNEL, detail="$everything")
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "meta": {"lastUpdated": instant(clock.now())},
        "type": "searchset",
        "total": len(entries),
        "link": [{"relation": "self", "url": f"{base}/Patient/{patient.pk}/$everything"}],
    }
    if entries:
        bundle["entry"] = entries
    return fhir_response(bundle)
