"""FHIR R4 mappers for the network's organisations and people's roles in them (PractitionerRole).

Organization.type carries the OncoLiaison organisation kind (our code system) and, for readers that do
not know it, the nearest HL7 organization-type code.  The organisation's short name (slug) is an
identifier in the OncoLiaison organisation id system; a facility identifier (e.g. NPI) is kept too.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import Forbidden, ValidationFailed
from oncoliaison.fhir import codes, params
from oncoliaison.fhir.registry import (
    ResourceMapper,
    SearchParam,
    first_address,
    reference_to,
    register,
    telecom_values,
)

from . import selectors, services
from .models import Membership, Organization, OrganizationKind, Role

_SP = "http://hl7.org/fhir/SearchParameter/"
EXT_CONTACT_PURPOSE = codes.EXT_CONTACT_PURPOSE  # "urgent" (24 hours) or "office"
_PURPOSES = ("urgent", "office")
_HL7_TYPE = {
    OrganizationKind.LEAD_PROGRAM: ("prov", "Healthcare Provider"),
    OrganizationKind.PARTNER_HOSPITAL: ("prov", "Healthcare Provider"),
    OrganizationKind.RESEARCH: ("edu", "Educational Institute"),
    OrganizationKind.PHARMA: ("bus", "Non-Healthcare Business or Corporation"),
    OrganizationKind.ADVOCACY: ("cg", "Community Group"),
    OrganizationKind.GOVERNMENT: ("govt", "Government"),
    OrganizationKind.NONPROFIT: ("other", "Other"),
}


def _staff_or_system(actor: Actor, what: str) -> None:
    if actor.kind not in {"staff", "system"} or not actor.organization_ids:
        raise Forbidden(f"Your role does not give access to {what}.")


def _org_identifier_q(name: str, value: str) -> Q:
    system, code = params.token(value)
    if system == codes.SID_ORGANIZATION_SLUG:
        return Q(slug=code)
    if system:
        return Q(identifier_system=system, identifier_value=code)
    return Q(slug=code) | Q(identifier_value=code)


def _org_type_q(name: str, value: str) -> Q:
    system, code = params.token(value)
    if system in (None, codes.CS_ORGANIZATION_KIND) and code in OrganizationKind.values:
        return Q(kind=code)
    if system in (None, codes.CS_ORG_TYPE):
        kinds = [k for k, (c, _) in _HL7_TYPE.items() if c == code]
        if kinds:
            return Q(kind__in=kinds)
    return params.NOTHING


_HOURS = ("office_first_day", "office_last_day", "office_opens", "office_closes")  # not carried in FHIR R4


def _split_telecom(resource: dict[str, Any]) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """The numbers tagged urgent/office (our extension) apart from the organisation's general telecom."""
    purposed: dict[str, str] = {}
    general = []
    for t in resource.get("telecom") or []:
        codes_ = [e.get("valueCode") for e in t.get("extension") or [] if e.get("url") == EXT_CONTACT_PURPOSE]
        purpose = next((c for c in codes_ if c in _PURPOSES), None)
        if purpose and t.get("system") == "phone":
            purposed.setdefault(purpose, str(t.get("value") or ""))
        else:
            general.append(t)
    return purposed, general


@register
class OrganizationMapper(ResourceMapper):
    resource_type = "Organization"
    model = Organization
    documentation = ("The cancer-care network's directory. Creating organisations needs a lead program "
                     "administrator (or a lead program's client with Organization.c); a client may update only "
                     "its own organisation. telecom carries the urgent (24-hour) and office lines patients are "
                     f"told to call, each tagged with the extension {EXT_CONTACT_PURPOSE} "
                     "(valueCode urgent | office).")
    search_params = (
        SearchParam("identifier", "token", "The short name (system "
                    f"{codes.SID_ORGANIZATION_SLUG}) or a facility identifier.", _org_identifier_q,
                    _SP + "Organization-identifier"),
        SearchParam("name", "string", "Start of the organisation's name (case-insensitive).",
                    params.string_filter(("name",)), _SP + "Organization-name"),
        SearchParam("type", "token", f"The kind ({codes.CS_ORGANIZATION_KIND}) or HL7 organization-type.",
                    _org_type_q, _SP + "Organization-type"),
        SearchParam("active", "token", "Whether the organisation is active.", params.boolean_filter("active"),
                    _SP + "Organization-active"),
    )

    def check_access(self, actor: Actor, interaction: str) -> None:
        _staff_or_system(actor, "the organisation directory")

    def queryset_for(self, actor: Actor) -> QuerySet[Organization]:
        return selectors.organization_list_for(actor)

    def to_fhir(self, o: Organization) -> dict[str, Any]:
        idents = [{"system": codes.SID_ORGANIZATION_SLUG, "value": o.slug}]
        if o.identifier_system and o.identifier_value:
            idents.append({"system": o.identifier_system, "value": o.identifier_value})
        hl7_code, hl7_display = _HL7_TYPE[OrganizationKind(o.kind)]
        out: dict[str, Any] = {
            "resourceType": "Organization",
            "id": str(o.pk),
            "meta": codes.meta(o.version, o.updated_at),
            "identifier": idents,
            "active": o.active,
            "type": [{"coding": [
                codes.coding(codes.CS_ORGANIZATION_KIND, o.kind, OrganizationKind(o.kind).label),
                codes.coding(codes.CS_ORG_TYPE, hl7_code, hl7_display),
            ]}],
            "name": o.name,
        }
        tel = codes.telecom(o.phone, o.email) + [
            {"system": "phone", "value": number, "use": "work",
             "extension": [{"url": EXT_CONTACT_PURPOSE, "valueCode": purpose}]}
            for purpose, number in (("urgent", o.urgent_phone), ("office", o.office_phone)) if number
        ]
        if tel:
            out["telecom"] = tel
        if addr := codes.address(o.address_line, o.city, o.state, o.postal_code, o.country):
            out["address"] = addr
        return out

    def from_fhir(self, resource: dict[str, Any], *, actor: Actor, current: Any = None) -> services.OrganizationData:
        kinds = [k for t in resource.get("type") or [] for k in codes.codes_in(t, codes.CS_ORGANIZATION_KIND)]
        kind = kinds[0] if kinds else (current.kind if current is not None else "")
        slug = ""
        other_system = other_value = ""
        for ident in resource.get("identifier") or []:
            if ident.get("system") == codes.SID_ORGANIZATION_SLUG:
                slug = str(ident.get("value") or "")
            elif ident.get("system") and ident.get("value") and not other_system:
                other_system, other_value = str(ident["system"]), str(ident["value"])
        if current is not None and slug and slug != current.slug:
            raise ValidationFailed("An organisation's short name cannot change.",
                                   field_errors={"identifier": ["Cannot change the short name."]})
        purposed, general = _split_telecom(resource)
        phone, email = telecom_values({"telecom": general})
        addr = first_address(resource)
        kept = {name: getattr(current, name) for name in _HOURS} if current is not None else {}
        return services.OrganizationData(
            urgent_phone=purposed.get("urgent", ""), office_phone=purposed.get("office", ""), **kept,
            name=str(resource.get("name") or ""), kind=kind, slug=slug, active=bool(resource.get("active", True)),
            phone=phone, email=email, address_line=addr["address_line"], city=addr["city"], state=addr["state"],
            postal_code=addr["postal_code"], country=addr["country"] or "US",
            identifier_system=other_system, identifier_value=other_value,
        )

    def create(self, *, actor: Actor, data: services.OrganizationData) -> Organization:
        return services.organization_create(actor=actor, data=data, channel="fhir")

    def update(self, *, actor: Actor, obj: Organization, data: services.OrganizationData,
               expected_version: int | None) -> Organization:
        return services.organization_update(actor=actor, organization=obj, data=data,
                                            expected_version=expected_version, channel="fhir")


@register
class PractitionerRoleMapper(ResourceMapper):
    resource_type = "PractitionerRole"
    model = Membership
    documentation = (f"A person's role in one of the caller's organisations; code in {codes.CS_ROLE}, "
                     "code.text the job title, specialty in SNOMED CT.")
    search_params = (
        SearchParam("practitioner", "reference", "The person.",
                    params.reference_filter("user_id", "Practitioner"), _SP + "PractitionerRole-practitioner"),
        SearchParam("organization", "reference", "The organisation.",
                    params.reference_filter("organization_id", "Organization"), _SP + "PractitionerRole-organization"),
        SearchParam("role", "token", f"The role ({codes.CS_ROLE}).",
                    params.code_filter("role", codes.CS_ROLE, Role.values), _SP + "PractitionerRole-role"),
        SearchParam("active", "token", "Whether the role is active.", params.boolean_filter("active"),
                    _SP + "PractitionerRole-active"),
    )

    def check_access(self, actor: Actor, interaction: str) -> None:
        _staff_or_system(actor, "practitioner roles")

    def queryset_for(self, actor: Actor) -> QuerySet[Membership]:
        return selectors.membership_list_for(actor)

    def to_fhir(self, m: Membership) -> dict[str, Any]:
        code: dict[str, Any] = {"coding": [codes.coding(codes.CS_ROLE, m.role, Role(m.role).label)]}
        if m.title:
            code["text"] = m.title
        out: dict[str, Any] = {
            "resourceType": "PractitionerRole",
            "id": str(m.pk),
            "meta": codes.meta(m.version, m.updated_at),
            "active": m.active,
            "practitioner": codes.ref("Practitioner", m.user_id),
            "organization": codes.ref("Organization", m.organization_id),
            "code": [code],
        }
        if m.specialty_code:
            out["specialty"] = [{"coding": [codes.coding(codes.CS_SNOMED, m.specialty_code)]}]
        return out

    def from_fhir(self, resource: dict[str, Any], *, actor: Actor, current: Any = None) -> services.MembershipData:
        user_id = reference_to(resource.get("practitioner"), "Practitioner", "practitioner")
        org_id = reference_to(resource.get("organization"), "Organization", "organization")
        if user_id is None or org_id is None:
            raise ValidationFailed("A PractitionerRole needs practitioner and organization references.",
                                   field_errors={"practitioner": ["Required."], "organization": ["Required."]})
        roles = [r for c in resource.get("code") or [] for r in codes.codes_in(c, codes.CS_ROLE)]
        title = next((str(c.get("text")) for c in resource.get("code") or [] if c.get("text")), "")
        specialties = [s for c in resource.get("specialty") or [] for s in codes.codes_in(c, codes.CS_SNOMED)]
        return services.MembershipData(
            user_id=user_id, organization_id=org_id, role=roles[0] if roles else "", title=title,
            specialty_code=specialties[0] if specialties else "", active=bool(resource.get("active", True)),
        )

    def create(self, *, actor: Actor, data: services.MembershipData) -> Membership:
        return services.membership_create(actor=actor, data=data, channel="fhir")

    def update(self, *, actor: Actor, obj: Membership, data: services.MembershipData,
               expected_version: int | None) -> Membership:
        return services.membership_update(actor=actor, membership=obj, data=data, expected_version=expected_version,
                                          channel="fhir")
