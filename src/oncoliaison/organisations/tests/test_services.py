"""Organisation and membership administration."""

from __future__ import annotations

import pytest

from oncoliaison.core.errors import Conflict, Forbidden, PreconditionFailed, ValidationFailed
from oncoliaison.core.models import AuditEvent
from oncoliaison.organisations import services
from oncoliaison.organisations.models import Membership, Organization, Role

pytestmark = pytest.mark.django_db


def test_lead_program_admin_adds_an_organisation_of_each_kind(cast):
    org = services.organization_create(
        actor=cast.actor(cast.admin), data=services.OrganizationData(name="State Cancer Registry", kind="government"))
    assert org.slug == "state-cancer-registry"
    assert AuditEvent.objects.filter(action="admin", resource_type="Organization").exists()
    with pytest.raises(Conflict):
        services.organization_create(actor=cast.actor(cast.admin),
                                     data=services.OrganizationData(name="State Cancer Registry", kind="government"))
    with pytest.raises(ValidationFailed):
        services.organization_create(actor=cast.actor(cast.admin), data=services.OrganizationData(name="X", kind="club"))


def test_others_cannot_add_organisations_or_administer_another(cast):
    for user in (cast.navigator, cast.outsider, cast.researcher):
        with pytest.raises(Forbidden):
            services.organization_create(actor=cast.actor(user), data=services.OrganizationData(name="Y", kind="nonprofit"))
    data = services.OrganizationData(name="Renamed", kind=cast.partner.kind)
    with pytest.raises(Forbidden):
        services.organization_update(actor=cast.actor(cast.admin), organization=cast.partner, data=data)
    assert Organization.objects.get(pk=cast.partner.pk).name == "Partner Hospital"


def test_update_checks_version(cast):
    admin = cast.actor(cast.admin)
    data = services.OrganizationData(name="Lead Cancer Program (Main)", kind=cast.lead.kind)
    services.organization_update(actor=admin, organization=cast.lead, data=data, expected_version=1)
    with pytest.raises(PreconditionFailed):
        services.organization_update(actor=admin, organization=cast.lead, data=data, expected_version=1)


def test_admin_grants_and_changes_roles_in_own_organisation_only(cast):
    admin = cast.actor(cast.admin)
    m = services.membership_create(actor=admin, data=services.MembershipData(
        user_id=cast.oncologist.pk, organization_id=cast.lead.pk, role=Role.CLP))
    with pytest.raises(Conflict):
        services.membership_create(actor=admin, data=services.MembershipData(
            user_id=cast.oncologist.pk, organization_id=cast.lead.pk, role=Role.CLP))
    with pytest.raises(Forbidden):
        services.membership_create(actor=admin, data=services.MembershipData(
            user_id=cast.oncologist.pk, organization_id=cast.partner.pk, role=Role.PHYSICIAN))
    with pytest.raises(ValidationFailed):
        services.membership_create(actor=admin, data=services.MembershipData(
            user_id=cast.patient_user.pk, organization_id=cast.lead.pk, role=Role.NURSE))
    services.membership_update(actor=admin, membership=m, data=services.MembershipData(
        user_id=cast.oncologist.pk, organization_id=cast.lead.pk, role=Role.CLP, active=False))
    assert not Membership.objects.get(pk=m.pk).active
    with pytest.raises(Forbidden):
        services.membership_create(actor=cast.actor(cast.navigator), data=services.MembershipData(
            user_id=cast.oncologist.pk, organization_id=cast.lead.pk, role=Role.NURSE))
