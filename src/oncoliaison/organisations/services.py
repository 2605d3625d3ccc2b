"""Writes to organisations and memberships (administration)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils.text import slugify

from oncoliaison.core import audit
from oncoliaison.core.access import require_admin
from oncoliaison.core.actor import Actor
from oncoliaison.core.contact import ContactData
from oncoliaison.core.errors import Conflict, Forbidden, PreconditionFailed, ValidationFailed
from oncoliaison.core.models import AuditAction

from . import rules
from .models import Membership, Organization, OrganizationKind, Role
from .rules import ROUTING_REFUSAL, changes_routing


@dataclass
class OrganizationData(ContactData):
    name: str
    kind: str
    slug: str = ""
    active: bool = True
    country: str = field(default="US", kw_only=True)
    identifier_system: str = ""
    identifier_value: str = ""
    # Contact points patients are told to call (organisations.rules).
    urgent_phone: str = ""
    office_phone: str = ""
    office_first_day: int | None = None
    office_last_day: int | None = None
    office_opens: dt.time | None = None
    office_closes: dt.time | None = None


def _validate_org(data: OrganizationData) -> None:
    errors: dict[str, list[str]] = {}
    if not data.name.strip():
        errors["name"] = ["Enter the organisation's name."]
    if data.kind not in OrganizationKind.values:
        errors["kind"] = [f"Kind must be one of: {', '.join(OrganizationKind.values)}."]
    for name in ("urgent_phone", "office_phone"):
        if problem := rules.phone_error(getattr(data, name)):
            errors[name] = [problem]
    for name in ("office_first_day", "office_last_day"):
        value = getattr(data, name)
        if value is not None and not 0 <= value <= 6:
            errors[name] = ["A day of the week: 0 (Monday) to 6 (Sunday)."]
    if problem := rules.hours_error(data.office_first_day, data.office_last_day, data.office_opens,
                                    data.office_closes):
        errors["office_opens"] = [problem]
    if errors:
        raise ValidationFailed("The organisation is not valid.", field_errors=errors)


def _may_create_organizations(actor: Actor) -> bool:
    """Administrators of a lead cancer program curate the network's directory (and the platform administrator)."""
    from .models import Organization as Org

    if actor.platform_admin:
        return True
    lead = set(Org.objects.filter(kind=OrganizationKind.LEAD_PROGRAM).values_list("pk", flat=True))
    if actor.is_system:
        return actor.client_organization_id in lead and actor.allows("Organization", "c")
    return bool(actor.admin_organization_ids() & lead)


def organization_create(*, actor: Actor, data: OrganizationData, channel: str = "") -> Organization:
    _validate_org(data)
    if changes_routing(old_kind=None, new_kind=data.kind, old_active=None, new_active=data.active) \
            and not actor.platform_admin:
        raise Forbidden(ROUTING_REFUSAL)
    if not _may_create_organizations(actor):
        raise Forbidden("Only administrators of a lead cancer program can add organisations to the network.")
    slug = slugify(data.slug or data.name)[:64]
    if not slug:
        raise ValidationFailed("The organisation needs a short name (slug).", field_errors={"slug": ["Required."]})
    try:
        with transaction.atomic():
            org = Organization.objects.create(
                slug=slug,
                **{k: (v.strip() if isinstance(v, str) else v) for k, v in vars(data).items() if k != "slug"},
            )
            audit.log(actor, AuditAction.ADMIN, category="organisation", resource_type="Organization",
                      resource_id=org.pk, detail="created", channel=channel)
    except IntegrityError as exc:
        raise Conflict(f"An organisation with the short name '{slug}' already exists.") from exc
    return org


def organization_update(
    *, actor: Actor, organization: Organization, data: OrganizationData, expected_version: int | None = None,
    channel: str = "",
) -> Organization:
    _validate_org(data)
    if actor.is_system:
        if organization.pk != actor.client_organization_id or not actor.allows("Organization", "u"):
            raise Forbidden("A client may update only its own organisation, with the update scope.")
    elif not actor.platform_admin:
        require_admin(actor, organization.pk)
    with transaction.atomic():
        locked = Organization.objects.select_for_update().get(pk=organization.pk)
        if expected_version is not None and expected_version != locked.version:
            raise PreconditionFailed(f"The organisation was changed by someone else (version {locked.version}).")
        if changes_routing(old_kind=locked.kind, new_kind=data.kind, old_active=locked.active,
                           new_active=data.active) and not actor.platform_admin:
            raise Forbidden(ROUTING_REFUSAL)
        for k, v in vars(data).items():
            if k == "slug":
                continue
            setattr(locked, k, v.strip() if isinstance(v, str) else v)
        locked.version += 1
        locked.save()
        audit.log(actor, AuditAction.ADMIN, category="organisation", resource_type="Organization",
                  resource_id=locked.pk, detail="updated", channel=channel)
    return locked


@dataclass
class MembershipData:
    user_id: int
    organization_id: int
    role: str
    title: str = ""
    specialty_code: str = ""
    active: bool = True


def _validate_membership(data: MembershipData) -> None:
    errors: dict[str, list[str]] = {}
    if data.role not in Role.values:
        errors["role"] = [f"Role must be one of: {', '.join(Role.values)}."]
    if not get_user_model().objects.filter(pk=data.user_id, kind="staff").exists():
        errors["user"] = ["Unknown staff member."]
    if errors:
        raise ValidationFailed("The membership is not valid.", field_errors=errors)


def _membership_writer(actor: Actor, organization_id: int, letter: str) -> None:
    if actor.is_system:
        if organization_id != actor.client_organization_id or not actor.allows("PractitionerRole", letter):
            raise Forbidden("A client may manage roles only in its own organisation, with the right scope.")
    else:
        require_admin(actor, organization_id)


def membership_create(*, actor: Actor, data: MembershipData, channel: str = "") -> Membership:
    _validate_membership(data)
    _membership_writer(actor, data.organization_id, "c")
    try:
        with transaction.atomic():
            m = Membership.objects.create(**vars(data))
            audit.log(actor, AuditAction.ADMIN, category="membership", resource_type="PractitionerRole",
                      resource_id=m.pk, detail=f"granted {data.role}", channel=channel)
    except IntegrityError as exc:
        raise Conflict("This person already has that role in the organisation.") from exc
    return m


def membership_update(
    *, actor: Actor, membership: Membership, data: MembershipData, expected_version: int | None = None,
    channel: str = "",
) -> Membership:
    _validate_membership(data)
    _membership_writer(actor, membership.organization_id, "u")
    if data.organization_id != membership.organization_id or data.user_id != membership.user_id:
        raise ValidationFailed("A role's person and organisation cannot change; add a new role instead.")
    try:
        with transaction.atomic():
            locked = Membership.objects.select_for_update().get(pk=membership.pk)
            if expected_version is not None and expected_version != locked.version:
                raise PreconditionFailed(f"The role was changed by someone else (version {locked.version}).")
            locked.role, locked.title, locked.specialty_code, locked.active = (
                data.role, data.title, data.specialty_code, data.active,
            )
            locked.version += 1
            locked.save()
            audit.log(actor, AuditAction.ADMIN, category="membership", resource_type="PractitionerRole",
                      resource_id=locked.pk, detail=f"updated {data.role} active={data.active}", channel=channel)
    except IntegrityError as exc:
        raise Conflict("This person already has that role in the organisation.") from exc
    return locked
