"""Reads of organisations and memberships."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from oncoliaison.core.actor import Actor

from .models import CARE_DELIVERING_KINDS, Membership, Organization
from .rules import ContactPoints, OfficeHours


def organization_list_for(actor: Actor) -> QuerySet[Organization]:
    """The network directory: every staff member and system sees the organisations of the network
    (names, kinds, contact), as they need to address referrals and agreements.  Patients do not."""
    if actor.kind not in {"staff", "system"}:
        return Organization.objects.none()
    return Organization.objects.all()


def membership_list_for(actor: Actor) -> QuerySet[Membership]:
    """Memberships (PractitionerRoles) of the actor's own organisations."""
    if actor.kind not in {"staff", "system"}:
        return Membership.objects.none()
    return Membership.objects.filter(organization_id__in=actor.organization_ids).select_related("user", "organization")


def contact_points_of(organization: Organization) -> ContactPoints:
    """The urgent and office lines and office hours an organisation gives its patients (not patient data:
    these are the program's public numbers)."""
    hours = None
    if None not in (organization.office_first_day, organization.office_last_day, organization.office_opens,
                    organization.office_closes):
        assert organization.office_first_day is not None and organization.office_last_day is not None
        assert organization.office_opens is not None and organization.office_closes is not None
        hours = OfficeHours(organization.office_first_day, organization.office_last_day, organization.office_opens,
                            organization.office_closes)
    return ContactPoints(organisation=organization.name, urgent_phone=organization.urgent_phone,
                         office_phone=organization.office_phone, hours=hours)


def organizations_missing_contact_points(organization_ids: set[int] | frozenset[int]) -> list[Organization]:
    """Care-delivering organisations among these whose patients would be told to call a number that is not
    configured (the staff configuration warning)."""
    return list(
        Organization.objects.filter(pk__in=organization_ids, active=True, kind__in=CARE_DELIVERING_KINDS)
        .filter(Q(urgent_phone="") | Q(office_phone="")).order_by("name")
    )
