"""Code systems, identifier systems and small element builders shared by the FHIR mappers.

OncoLiaison's own code systems live under ``CODE_BASE``; they are stable URIs (they need not resolve).
Everything else is a published HL7 / terminology URI.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import translation
from django.utils.functional import Promise as StrPromise

CODE_BASE = "https://oncoliaison.org/fhir"

# OncoLiaison code and identifier systems
CS_ORGANIZATION_KIND = f"{CODE_BASE}/CodeSystem/organization-kind"
CS_ROLE = f"{CODE_BASE}/CodeSystem/role"
CS_CONSENT_KIND = f"{CODE_BASE}/CodeSystem/consent-kind"
CS_PROXY_SCOPE = f"{CODE_BASE}/CodeSystem/proxy-scope"
CS_AUDIT_ACTION = f"{CODE_BASE}/CodeSystem/audit-action"
SID_ORGANIZATION_SLUG = f"{CODE_BASE}/sid/organization"
SID_USER = f"{CODE_BASE}/sid/user"
SID_API_CLIENT = f"{CODE_BASE}/sid/api-client"
# Which number patients are told to call (Organization.telecom, CareTeam.telecom): valueCode urgent | office.
EXT_CONTACT_PURPOSE = f"{CODE_BASE}/StructureDefinition/contact-point-purpose"

# Published systems
SID_NPI = "http://hl7.org/fhir/sid/us-npi"
CS_V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
CS_ORG_TYPE = "http://terminology.hl7.org/CodeSystem/organization-type"
CS_CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
CS_CONSENT_ACTION = "http://terminology.hl7.org/CodeSystem/consentaction"
CS_V3_ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
CS_V3_PARTICIPATION = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
CS_V3_ACT_REASON = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
CS_LOINC = "http://loinc.org"
CS_SNOMED = "http://snomed.info/sct"
CS_BCP47 = "urn:ietf:bcp:47"
CS_AUDIT_TYPE = "http://terminology.hl7.org/CodeSystem/audit-event-type"
CS_DICOM = "http://dicom.nema.org/resources/ontology/DCM"
CS_RESTFUL_INTERACTION = "http://hl7.org/fhir/restful-interaction"
CS_OBJECT_ROLE = "http://terminology.hl7.org/CodeSystem/object-role"
CS_SECURITY_SOURCE = "http://terminology.hl7.org/CodeSystem/security-source-type"
EXT_INTERPRETER_REQUIRED = "http://hl7.org/fhir/StructureDefinition/patient-interpreterRequired"

# Synthetic (demo or test) records carry this meta.tag.
TAG_SYNTHETIC = {"system": CS_V3_ACT_REASON, "code": "HTEST", "display": "test health data"}


def coding(system: str, code: str, display: str | StrPromise = "") -> dict[str, str]:
    """A Coding.  Its display is the code's own (English) text even when the request is served in another
    language: labels shown to people may be translated lazily, a code system's display is not."""
    out = {"system": system, "code": code}
    if display:
        with translation.override("en"):
            out["display"] = str(display)
    return out


def ref(resource_type: str, pk: object) -> dict[str, str]:
    return {"reference": f"{resource_type}/{pk}"}


def instant(value: dt.datetime) -> str:
    """A FHIR instant (always with a zone; Django stores aware datetimes)."""
    return value.isoformat(timespec="milliseconds")


def meta(version: int, updated: dt.datetime | None, *, synthetic: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {"versionId": str(version)}
    if updated is not None:
        out["lastUpdated"] = instant(updated)
    if synthetic:
        out["tag"] = [dict(TAG_SYNTHETIC)]
    return out


def telecom(phone: str, email: str) -> list[dict[str, str]]:
    out = []
    if phone:
        out.append({"system": "phone", "value": phone, "use": "work"})
    if email:
        out.append({"system": "email", "value": email})
    return out


def address(line: str, city: str, state: str, postal_code: str, country: str) -> list[dict[str, Any]]:
    addr: dict[str, Any] = {}
    if line:
        addr["line"] = [line]
    if city:
        addr["city"] = city
    if state:
        addr["state"] = state
    if postal_code:
        addr["postalCode"] = postal_code
    if country:
        addr["country"] = country
    return [addr] if addr else []


def codes_in(concept: dict[str, Any] | None, system: str) -> list[str]:
    """The codes of ``system`` in a CodeableConcept."""
    if not concept:
        return []
    return [c.get("code", "") for c in concept.get("coding") or [] if c.get("system") == system and c.get("code")]
