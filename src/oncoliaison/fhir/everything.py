"""``GET /fhir/Patient/{id}/$everything``: the patient and everything this server holds for them, as one
searchset Bundle.

What "everything" holds: every resource type the server serves for a patient — the registry's patient
compartment (``registry.patient_compartment()``): the Patient (with the mCODE Cancer Patient profile), the
cancer record, care plans, goals and tasks, symptom reports, scores and alerts, needs assessments,
consents, care teams, program episodes and referrals — each type's rows as a search by this actor would
give them, and only the types the actor's role (or token) may read.  ``_type`` (comma-separated) and
``_since`` (an instant: resources changed since) narrow it.  The disclosure is audited as one EXPORT of that
patient.  Bulk Data (bulk.py) exports the same resources through the exports domain.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse

from oncoliaison.core import audit, clock
from oncoliaison.core.errors import Forbidden
from oncoliaison.core.models import AuditAction
from oncoliaison.exports import selectors as exports
from oncoliaison.patients.selectors import access_patient, require_patient_access_role

from .auth import actor_for_request, base_url
from .codes import instant
from .outcome import FhirError, fhir_response
from .views import CHANNEL, fhir_view


def parse_types(raw: str | None) -> list[str] | None:
    """``_type`` -> the resource types asked for (None: all); 400 for a type this server does not export."""
    if raw is None or not raw.strip():
        return None
    asked = [t.strip() for t in raw.split(",") if t.strip()]
    known = exports.export_types()
    unknown = [t for t in asked if t not in known]
    if unknown:
        raise FhirError(400, f"_type: cannot export {', '.join(unknown)[:200]}. Exported types: "
                             f"{', '.join(known)}.", code="not-supported", expression=["_type"])
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
    types = exports.allowed_types(actor, asked)
    patient = access_patient(actor, pk, category=exports.CATEGORY, channel=CHANNEL, audit_read=False)
    base = base_url(request)
    entries = [
        {"fullUrl": f"{base}/{rtype}/{body['id']}", "resource": body, "search": {"mode": "match"}}
        for rtype, body in exports.resources_of(actor, [patient.pk], types, since)
    ]
    audit.log(actor, AuditAction.EXPORT, category=exports.CATEGORY, resource_type="Patient", resource_id=patient.pk,
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
