"""FHIR R4 mapper for practitioners (staff people).

A Practitioner is a staff ``User``: identifier NPI (http://hl7.org/fhir/sid/us-npi), official name,
work telecom, gender, active.  Their roles are PractitionerRoles (organisations app).  The record has
no modification time of its own, so ``meta.lastUpdated`` and ``Last-Modified`` are omitted; the version
ETag still guards updates.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from oncoliaison.core.actor import Actor
from oncoliaison.fhir import codes, params
from oncoliaison.fhir.registry import ResourceMapper, SearchParam, human_name, register, telecom_values
from oncoliaison.organisations.models import Membership

from . import services
from .models import User

_SP = "http://hl7.org/fhir/SearchParameter/"
_GENDERS = {"male", "female", "other", "unknown"}


def _npi_q(name: str, value: str) -> Q:
    system, code = params.token(value)
    if system not in (None, codes.SID_NPI):
        return params.NOTHING
    return Q(npi=code) if code else params.NOTHING


def _organization_q(name: str, value: str) -> Q:
    org_id = params.reference_id(name, value, "Organization")
    return Q(pk__in=Membership.objects.filter(organization_id=org_id, active=True).values("user_id"))


@register
class PractitionerMapper(ResourceMapper):
    resource_type = "Practitioner"
    model = User
    documentation = ("Staff of the caller's organisations, practitioners they registered and members of care "
                     "teams of patients they see. Registering needs a program administrator (or Practitioner.c).")
    search_params = (
        SearchParam("identifier", "token", "NPI: http://hl7.org/fhir/sid/us-npi|value, or value.", _npi_q,
                    _SP + "Practitioner-identifier"),
        SearchParam("name", "string", "Start of any word of the given or family name (case-insensitive).",
                    params.string_filter(("first_name", "last_name")), _SP + "Practitioner-name"),
        SearchParam("family", "string", "Start of the family name (case-insensitive).",
                    params.string_filter(("last_name",)), _SP + "individual-family"),
        SearchParam("given", "string", "Start of the given name (case-insensitive).",
                    params.string_filter(("first_name",)), _SP + "individual-given"),
        SearchParam("organization", "reference", "Holds an active role at this Organization.", _organization_q, ""),
        SearchParam("active", "token", "Whether the practitioner is active.", params.boolean_filter("is_active"),
                    _SP + "Practitioner-active"),
    )

    def queryset_for(self, actor: Actor) -> QuerySet[User]:
        return services.practitioner_queryset_for(actor)

    updated_field = ""  # no change time kept for a person's directory entry

    def to_fhir(self, u: User) -> dict[str, Any]:
        out: dict[str, Any] = {"resourceType": "Practitioner", "id": str(u.pk), "meta": codes.meta(u.version, None)}
        if u.npi:
            out["identifier"] = [{"system": codes.SID_NPI, "value": u.npi}]
        out["active"] = u.is_active
        name: dict[str, Any] = {"use": "official", "family": u.last_name}
        if u.first_name:
            name["given"] = u.first_name.split()
        out["name"] = [name]
        if tel := codes.telecom(u.phone, u.email):
            out["telecom"] = tel
        if u.gender in _GENDERS:
            out["gender"] = u.gender
        return out

    def from_fhir(self, resource: dict[str, Any], *, actor: Actor, current: Any = None) -> services.PractitionerData:
        given, family = human_name(resource)
        phone, email = telecom_values(resource)
        npi = next((str(i.get("value") or "") for i in resource.get("identifier") or []
                    if i.get("system") == codes.SID_NPI), "")
        gender = str(resource.get("gender") or "")
        if gender and gender not in _GENDERS:
            from oncoliaison.core.errors import ValidationFailed

            raise ValidationFailed("gender is not an administrative gender code.",
                                   field_errors={"gender": [f"Use one of {', '.join(sorted(_GENDERS))}."]})
        return services.PractitionerData(given_name=given, family_name=family, email=email, phone=phone, npi=npi,
                                         gender=gender, active=bool(resource.get("active", True)))

    def create(self, *, actor: Actor, data: services.PractitionerData) -> User:
        return services.practitioner_create(actor=actor, data=data, channel="fhir")

    def update(self, *, actor: Actor, obj: User, data: services.PractitionerData,
               expected_version: int | None) -> User:
        return services.practitioner_update(actor=actor, practitioner=obj, data=data,
                                            expected_version=expected_version, channel="fhir")
