"""FHIR R4 AuditEvent: read and search of an organisation's own audit records (never written over FHIR).

People need the program administrator or CLP role and see their administered organisations' records;
API clients need AuditEvent scopes and see their organisation's records.  Mapping:

- type: audit-event-type ``rest`` for create/read/update/delete/search; DICOM 110114 (user
  authentication) for log-ins and log-outs, 110113 (security alert) for denied access, 110106 export,
  and ``rest`` with our audit-action code otherwise; subtype: restful-interaction and our audit-action code.
- action: C R U D E; outcome: 0 success, 4 denied, 8 failed.
- agent: Practitioner/<id> for staff, an identifier (our user or API-client id system) for others.
- entity: the resource acted on and, when a patient's data was involved, Patient/<id> (object-role 1).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from oncoliaison.core.access import require_admin
from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import Forbidden
from oncoliaison.core.models import AuditAction, AuditEvent, AuditOutcome
from oncoliaison.fhir import codes, params
from oncoliaison.fhir.registry import READ, SEARCH, ResourceMapper, SearchParam, register

from .selectors import audit_events_reviewable_by

_SP = "http://hl7.org/fhir/SearchParameter/"
_ACTION = {
    AuditAction.CREATE: "C",
    AuditAction.READ: "R",
    AuditAction.PRINT: "R",
    AuditAction.EXPORT: "R",
    AuditAction.UPDATE: "U",
    AuditAction.ADMIN: "U",
    AuditAction.DELETE: "D",
}
_INTERACTION = {
    AuditAction.CREATE: "create",
    AuditAction.READ: "read",
    AuditAction.UPDATE: "update",
    AuditAction.DELETE: "delete",
    AuditAction.SEARCH: "search-type",
}
_DICOM = {
    AuditAction.LOGIN: ("110114", "User Authentication"),
    AuditAction.LOGOUT: ("110114", "User Authentication"),
    AuditAction.LOGIN_FAILED: ("110114", "User Authentication"),
    AuditAction.ACCESS_DENIED: ("110113", "Security Alert"),
    AuditAction.EXPORT: ("110106", "Export"),
}
_OUTCOME: dict[str, str] = {AuditOutcome.SUCCESS: "0", AuditOutcome.DENIED: "4", AuditOutcome.FAILED: "8"}
_PERSON_ROLES = {"patient", "caregiver", "anonymous"}


def _action_q(name: str, value: str) -> Q:
    if value not in {"C", "R", "U", "D", "E"}:
        raise params.bad_value(name, value, "Use C, R, U, D or E.")
    mapped = [a for a, letter in _ACTION.items() if letter == value]
    if value == "E":
        return ~Q(action__in=list(_ACTION))
    return Q(action__in=mapped)


def _agent_q(name: str, value: str) -> Q:
    system, code = params.token(value) if "|" in value else (None, value)
    if system == codes.SID_API_CLIENT or code.startswith("olc_"):
        return Q(client_id=code)
    return Q(user_id=params.reference_id(name, code, "Practitioner"))


@register
class AuditEventMapper(ResourceMapper):
    resource_type = "AuditEvent"
    model = AuditEvent
    interactions = (READ, SEARCH)
    patient_linked = True
    # The trail is reviewed through the audit log; it is not part of the record $everything and $export disclose.
    in_patient_compartment = False
    audit_category = "audit_log"
    documentation = ("The organisation's own audit trail (read-only). Needs the program administrator or CLP "
                     "role, or AuditEvent scopes for API clients.")
    search_params = (
        SearchParam("date", "date", "When the event was recorded; prefixes eq, ne, lt, gt, le, ge.",
                    params.datetime_filter("recorded_at"), _SP + "AuditEvent-date"),
        SearchParam("patient", "reference", "The patient whose data was involved.",
                    params.reference_filter("patient_shown", "Patient"), _SP + "AuditEvent-patient"),
        SearchParam("agent", "reference", f"Who acted: Practitioner/<id>, or an API client id "
                    f"({codes.SID_API_CLIENT}|<client id>).", _agent_q, _SP + "AuditEvent-agent"),
        SearchParam("action", "token", "C | R | U | D | E", _action_q, _SP + "AuditEvent-action"),
    )

    def _organizations(self, actor: Actor) -> frozenset[int]:
        if actor.is_system:
            return actor.organization_ids
        return actor.admin_organization_ids()

    def check_access(self, actor: Actor, interaction: str) -> None:
        if actor.is_system:
            if not actor.organization_ids:
                raise Forbidden("This client's organisation is not active.")
            return
        if actor.kind != "staff":
            raise Forbidden("The audit trail is for program administrators.")
        require_admin(actor)

    # The patient as the reviewing organisation may see it (see auditlog.selectors.audit_events_reviewable_by).
    patient_field = "patient_shown"

    def queryset_for(self, actor: Actor) -> QuerySet[AuditEvent]:
        orgs = self._organizations(actor)
        if not orgs:
            return AuditEvent.objects.none()
        return audit_events_reviewable_by(orgs)

    def patient_id_of(self, obj: Any) -> int | None:
        return getattr(obj, "patient_shown", None)

    versioned = False  # never changed in place
    updated_field = "recorded_at"

    def to_fhir(self, e: AuditEvent) -> dict[str, Any]:
        action = AuditAction(e.action) if e.action in AuditAction.values else None
        if action in _DICOM:
            code, display = _DICOM[action]
            event_type = codes.coding(codes.CS_DICOM, code, display)
        else:
            event_type = codes.coding(codes.CS_AUDIT_TYPE, "rest", "RESTful Operation")
        subtype = []
        if action in _INTERACTION:
            subtype.append(codes.coding(codes.CS_RESTFUL_INTERACTION, _INTERACTION[action]))
        subtype.append(codes.coding(codes.CS_AUDIT_ACTION, e.action))
        agent: dict[str, Any] = {"requestor": True}
        if e.user_id and e.role not in _PERSON_ROLES:
            agent["who"] = {**codes.ref("Practitioner", e.user_id), "display": e.username}
        elif e.user_id:
            agent["who"] = {"identifier": {"system": codes.SID_USER, "value": str(e.user_id)}}
        elif e.client_id:
            agent["who"] = {"identifier": {"system": codes.SID_API_CLIENT, "value": e.client_id}}
        else:
            agent["who"] = {"display": e.username or "unknown"}
        if e.role:
            agent["role"] = [{"text": e.role}]
        if e.source_address:
            agent["network"] = {"address": e.source_address, "type": "2"}
        entities = []
        if e.resource_type and e.resource_id:
            entity: dict[str, Any] = {"what": {"reference": f"{e.resource_type}/{e.resource_id}"}}
            if e.category:
                entity["description"] = e.category
            entities.append(entity)
        patient_id = self.patient_id_of(e)
        if patient_id and not (e.resource_type == "Patient" and e.resource_id == str(patient_id)):
            entities.append({"what": codes.ref("Patient", patient_id),
                             "role": codes.coding(codes.CS_OBJECT_ROLE, "1", "Patient")})
        elif entities and patient_id:
            entities[0]["role"] = codes.coding(codes.CS_OBJECT_ROLE, "1", "Patient")
        source: dict[str, Any] = {
            "observer": codes.ref("Organization", e.organization_id) if e.organization_id else {"display": "OncoLiaison"},
            "type": [codes.coding(codes.CS_SECURITY_SOURCE, "4", "Application Server")],
        }
        if e.channel:
            source["site"] = e.channel
        out: dict[str, Any] = {
            "resourceType": "AuditEvent",
            "id": str(e.pk),
            "meta": codes.meta(1, e.recorded_at),
            "type": event_type,
            "subtype": subtype,
            "action": _ACTION.get(action, "E") if action else "E",
            "recorded": codes.instant(e.recorded_at),
            "outcome": _OUTCOME.get(e.outcome, "8"),
        }
        if e.detail:
            out["outcomeDesc"] = e.detail
        out["agent"] = [agent]
        out["source"] = source
        if entities:
            out["entity"] = entities
        return out
