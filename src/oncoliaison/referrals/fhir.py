"""FHIR R4 ServiceRequest: a referral to the Cancer Liaison Program (create, read, search).

=========================  ===============================================================================
Referral                   ServiceRequest
=========================  ===============================================================================
status                     status: received -> active, info_requested -> on-hold, accepted -> completed,
                           declined / withdrawn -> revoked; the exact status in extension referral-status
urgency                    priority: routine -> routine, urgent -> urgent, emergent -> stat
                           (incoming asap and stat become emergent)
patient / prospective      subject: Patient/<id> when linked, else a contained Patient (#prospect) with the
person                     referred person's name, birth date, gender, telecom and identifier
referring clinician        requester: Practitioner/<id> (or display only); a self-referral's requester is
                           the subject
receiving program          performer[0]: Organization/<id>
reason                     reasonCode[].text
cancer type                reasonCode[] with a coding (system, code, display = cancer type text)
stage as known             extension cancer-stage-as-known (valueString)
requested services         orderDetail[].coding in the requested-service code system
referral source            extension referral-source (valueCode), for self-referrals
received                   authoredOn; first appointment -> occurrenceDateTime
attachments                note[] ("Document: name (type, size, date)"): metadata only
external identifier        identifier[0]
=========================  ===============================================================================
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import Q, QuerySet

from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import NotFound, ValidationFailed
from oncoliaison.fhir import codes, params
from oncoliaison.fhir.registry import (
    CREATE,
    READ,
    SEARCH,
    ResourceMapper,
    SearchParam,
    human_name,
    parse_date,
    reference_to,
    register,
    telecom_values,
)

from . import selectors, services
from .models import Referral, ReferralKind, ReferralSource, ReferralStatus, RequestedService, Urgency

CS_REQUESTED_SERVICE = f"{codes.CODE_BASE}/CodeSystem/requested-service"
CS_REFERRAL_STATUS = f"{codes.CODE_BASE}/CodeSystem/referral-status"
CS_REFERRAL_SOURCE = f"{codes.CODE_BASE}/CodeSystem/referral-source"
EXT_REFERRAL_STATUS = f"{codes.CODE_BASE}/StructureDefinition/referral-status"
EXT_REFERRAL_SOURCE = f"{codes.CODE_BASE}/StructureDefinition/referral-source"
EXT_STAGE = f"{codes.CODE_BASE}/StructureDefinition/cancer-stage-as-known"
REFERRAL_CATEGORY = codes.coding(codes.CS_SNOMED, "3457005", "Patient referral")
PROSPECT = "prospect"

STATUS_TO_FHIR = {
    ReferralStatus.RECEIVED: "active",
    ReferralStatus.INFO_REQUESTED: "on-hold",
    ReferralStatus.ACCEPTED: "completed",
    ReferralStatus.DECLINED: "revoked",
    ReferralStatus.WITHDRAWN: "revoked",
}
FHIR_TO_STATUSES: dict[str, list[str]] = {}
for _ours, _theirs in STATUS_TO_FHIR.items():
    FHIR_TO_STATUSES.setdefault(_theirs, []).append(_ours)

PRIORITY_TO_FHIR = {Urgency.ROUTINE: "routine", Urgency.URGENT: "urgent", Urgency.EMERGENT: "stat"}
PRIORITY_FROM_FHIR = {"routine": Urgency.ROUTINE, "urgent": Urgency.URGENT, "asap": Urgency.EMERGENT,
                      "stat": Urgency.EMERGENT}


def _status_q(name: str, value: str) -> Q:
    system, code = params.token(value)
    if system == CS_REFERRAL_STATUS:
        if code not in ReferralStatus.values:
            raise params.bad_value(name, value, f"Known codes: {', '.join(ReferralStatus.values)}.")
        return Q(status=code)
    if system not in (None, "", "http://hl7.org/fhir/request-status"):
        return params.NOTHING
    if code in FHIR_TO_STATUSES:
        return Q(status__in=FHIR_TO_STATUSES[code])
    if code in ("draft", "entered-in-error", "unknown"):
        return params.NOTHING
    raise params.bad_value(name, value, "Use a request status: active, on-hold, completed or revoked.")


def _priority_q(name: str, value: str) -> Q:
    _system, code = params.token(value)
    if code not in PRIORITY_FROM_FHIR:
        raise params.bad_value(name, value, "Use routine, urgent, asap or stat.")
    if code in ("asap", "stat"):
        return Q(urgency=Urgency.EMERGENT)
    return Q(urgency=PRIORITY_FROM_FHIR[code])


def _contained_patient(r: Referral) -> dict[str, Any]:
    out: dict[str, Any] = {"resourceType": "Patient", "id": PROSPECT,
                           "name": [{"use": "official", "family": r.family_name,
                                     "given": r.given_name.split() if r.given_name else []}]}
    if r.identifier_value:
        out["identifier"] = [{"system": r.identifier_system, "value": r.identifier_value}]
    telecom = codes.telecom(r.phone, r.email)
    if telecom:
        out["telecom"] = telecom
    if r.gender:
        out["gender"] = r.gender
    if r.birth_date:
        out["birthDate"] = r.birth_date.isoformat()
    if r.preferred_language:
        out["communication"] = [{"language": {"coding": [codes.coding(codes.CS_BCP47, r.preferred_language)]},
                                 "preferred": True}]
    return out


def _attachment_note(a: Any) -> str:
    details = [x for x in (a.content_type, f"{a.size_bytes} bytes" if a.size_bytes is not None else "",
                           a.document_date.isoformat() if a.document_date else "") if x]
    return f"Document: {a.name}" + (f" ({', '.join(details)})" if details else "")


@register
class ServiceRequestMapper(ResourceMapper):
    resource_type = "ServiceRequest"
    model = Referral
    interactions = (READ, SEARCH, CREATE)
    patient_linked = True
    audit_category = "referral"
    documentation = (
        "Referrals to the Cancer Liaison Program. Create refers a patient (a Patient reference, or a contained "
        "Patient for a person not yet registered) to a lead program; clinical staff of the receiving program "
        "and the referring organisation see them."
    )
    search_params = (
        SearchParam("patient", "reference", "The referred patient (once linked to a record).",
                    params.reference_filter("patient_id", "Patient"), "http://hl7.org/fhir/SearchParameter/clinical-patient"),
        SearchParam("subject", "reference", "The referred patient (Patient references only).",
                    params.reference_filter("patient_id", "Patient"),
                    "http://hl7.org/fhir/SearchParameter/ServiceRequest-subject"),
        SearchParam("status", "token", "Request status (active, on-hold, completed, revoked), or the exact "
                    f"referral status in {CS_REFERRAL_STATUS}.", _status_q,
                    "http://hl7.org/fhir/SearchParameter/ServiceRequest-status"),
        SearchParam("requester", "reference", "The referring practitioner.",
                    params.reference_filter("referring_clinician_id", "Practitioner"),
                    "http://hl7.org/fhir/SearchParameter/ServiceRequest-requester"),
        SearchParam("performer", "reference", "The receiving program.",
                    params.reference_filter("receiving_organization_id", "Organization"),
                    "http://hl7.org/fhir/SearchParameter/ServiceRequest-performer"),
        SearchParam("priority", "token", "routine, urgent, asap or stat (asap and stat: emergent).", _priority_q,
                    "http://hl7.org/fhir/SearchParameter/ServiceRequest-priority"),
        SearchParam("authored", "date", "When the referral was received; prefixes eq, ne, lt, gt, le, ge.",
                    params.datetime_filter("received_at"),
                    "http://hl7.org/fhir/SearchParameter/ServiceRequest-authored"),
    )

    def queryset_for(self, actor: Actor) -> QuerySet[Referral]:
        return selectors.referral_queryset_for(actor)

    def claims(self, resource: dict[str, Any]) -> bool:
        # Other domains serve read-only ServiceRequests (tumor-board recommendations): a new one is a referral.
        return True

    def audit_disclosed(self, actor: Actor, rows: Sequence[Any], *, action: str, channel: str, detail: str = "") -> None:
        selectors.audit_disclosed(actor, rows, channel=channel, action=action)

    def with_related(self, qs: QuerySet[Any]) -> QuerySet[Any]:
        return qs.select_related("referring_clinician", "receiving_organization", "referring_organization",
                                 "patient").prefetch_related("attachments")

    def to_fhir(self, r: Referral) -> dict[str, Any]:
        out: dict[str, Any] = {
            "resourceType": "ServiceRequest",
            "id": str(r.pk),
            "meta": codes.meta(r.version, r.updated_at),
        }
        if r.patient_id is None:
            out["contained"] = [_contained_patient(r)]
        ext: list[dict[str, Any]] = [{"url": EXT_REFERRAL_STATUS, "valueCode": r.status}]
        if r.referral_source:
            ext.append({"url": EXT_REFERRAL_SOURCE, "valueCode": r.referral_source})
        if r.stage_text:
            ext.append({"url": EXT_STAGE, "valueString": r.stage_text})
        out["extension"] = ext
        if r.external_identifier_value:
            out["identifier"] = [{"system": r.external_identifier_system, "value": r.external_identifier_value}]
        out["status"] = STATUS_TO_FHIR[ReferralStatus(r.status)]
        out["intent"] = "order"
        out["category"] = [{"coding": [REFERRAL_CATEGORY]}]
        out["priority"] = PRIORITY_TO_FHIR[Urgency(r.urgency)]
        out["code"] = {"text": "Referral to the Cancer Liaison Program"}
        labels = dict(RequestedService.choices)
        if r.requested_services:
            out["orderDetail"] = [
                {"coding": [codes.coding(CS_REQUESTED_SERVICE, s, str(labels.get(s, s)))]}
                for s in r.requested_services
            ]
        subject = codes.ref("Patient", r.patient_id) if r.patient_id else {"reference": f"#{PROSPECT}"}
        out["subject"] = subject
        if r.first_appointment_at:
            out["occurrenceDateTime"] = codes.instant(r.first_appointment_at)
        out["authoredOn"] = codes.instant(r.received_at)
        if r.kind == ReferralKind.SELF:
            out["requester"] = dict(subject)
        elif r.referring_clinician_id:
            out["requester"] = {**codes.ref("Practitioner", r.referring_clinician_id),
                                "display": r.referring_clinician.display_name}  # type: ignore[union-attr]  # set: its id is checked above
        elif r.referring_clinician_name:
            out["requester"] = {"display": r.referring_clinician_name}
        out["performer"] = [{**codes.ref("Organization", r.receiving_organization_id),
                             "display": r.receiving_organization.name}]
        reasons: list[dict[str, Any]] = [{"text": r.reason}]
        if r.cancer_type_code or r.cancer_type_text:
            cancer: dict[str, Any] = {"text": r.cancer_type_text or r.cancer_type_code}
            if r.cancer_type_code:
                cancer["coding"] = [codes.coding(r.cancer_type_system or codes.CS_SNOMED, r.cancer_type_code,
                                                 r.cancer_type_text)]
            reasons.append(cancer)
        out["reasonCode"] = reasons
        notes = [{"text": _attachment_note(a)} for a in r.attachments.all()]
        if notes:
            out["note"] = notes
        return out

    # --- create -------------------------------------------------------------------------------------

    def from_fhir(self, resource: dict[str, Any], *, actor: Actor, current: Any = None) -> services.ReferralData:
        if resource.get("status") != "active":
            raise ValidationFailed("A new referral must have status 'active'.",
                                   field_errors={"status": ["Use active."]})
        priority = resource.get("priority") or "routine"
        data = services.ReferralData(reason="", urgency=PRIORITY_FROM_FHIR.get(priority, Urgency.ROUTINE))
        subject = resource.get("subject") or {}
        ref = str(subject.get("reference") or "")
        if ref.startswith("#"):
            contained = {c.get("id"): c for c in resource.get("contained") or [] if isinstance(c, dict)}
            person = contained.get(ref[1:])
            if not person or person.get("resourceType") != "Patient":
                raise ValidationFailed("subject must reference a contained Patient or Patient/<id>.",
                                       field_errors={"subject": ["Unresolvable reference."]})
            data.given_name, data.family_name = human_name(person)
            data.birth_date = parse_date(person.get("birthDate"), "subject.birthDate")
            data.gender = str(person.get("gender") or "")
            data.phone, data.email = telecom_values(person)
            idents = person.get("identifier") or []
            if idents:
                data.identifier_system = str(idents[0].get("system") or "")
                data.identifier_value = str(idents[0].get("value") or "")
            for comm in person.get("communication") or []:
                for c in (comm.get("language") or {}).get("coding") or []:
                    if c.get("code"):
                        data.preferred_language = str(c["code"])
                        break
        else:
            data.patient_id = reference_to(subject, "Patient", "subject")
            if data.patient_id is None:
                raise ValidationFailed("subject is required.", field_errors={"subject": ["Required."]})
        requester = resource.get("requester") or {}
        if str(requester.get("reference") or "").startswith("Practitioner/"):
            data.referring_clinician_id = reference_to(requester, "Practitioner", "requester")
        data.referring_clinician_name = str(requester.get("display") or "")
        performers = resource.get("performer") or []
        if performers:
            data.receiving_organization_id = reference_to(performers[0], "Organization", "performer")
        texts: list[str] = []
        for reason in resource.get("reasonCode") or []:
            coded = reason.get("coding") or []
            if coded and not data.cancer_type_code:
                data.cancer_type_system = str(coded[0].get("system") or "")
                data.cancer_type_code = str(coded[0].get("code") or "")
                data.cancer_type_text = str(reason.get("text") or coded[0].get("display") or "")
            elif reason.get("text"):
                texts.append(str(reason["text"]))
        notes = [str(n.get("text") or "") for n in resource.get("note") or [] if n.get("text")]
        data.reason = "\n".join(texts) or "\n".join(notes) or data.cancer_type_text
        for ext in resource.get("extension") or []:
            if ext.get("url") == EXT_STAGE:
                data.stage_text = str(ext.get("valueString") or "")
        for detail in resource.get("orderDetail") or []:
            for c in detail.get("coding") or []:
                if c.get("system") == CS_REQUESTED_SERVICE:
                    data.requested_services.append(str(c.get("code")))
        idents = resource.get("identifier") or []
        if idents and idents[0].get("value"):
            data.external_identifier_system = str(idents[0].get("system") or "")
            data.external_identifier_value = str(idents[0]["value"])
        return data

    def create(self, *, actor: Actor, data: Any) -> Referral:
        try:
            return services.referral_create(actor=actor, data=data, channel="fhir")
        except NotFound:
            raise ValidationFailed("subject does not reference a Patient known to you.",
                                   field_errors={"subject": ["Unknown Patient."]}) from None


__all__ = ["ReferralSource", "ServiceRequestMapper"]
