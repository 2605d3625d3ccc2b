"""Network directory and membership administration pages."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from oncoliaison.accounts.models import User
from oncoliaison.core.models import AuditAction, AuditEvent
from oncoliaison.organisations.models import Membership, Organization, Role

pytestmark = pytest.mark.django_db

LIST = reverse("organisations:list")
CREATE = reverse("organisations:create")


def _as(client, user):  # type: ignore[no-untyped-def]
    client.force_login(user)
    return client


def _body(response) -> str:  # type: ignore[no-untyped-def]
    text = response.content.decode()
    text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", text)
    return re.sub(r'"X-CSRFToken": "[^"]+"', "", text)


def test_pages_require_login(client, cast):
    for url in (LIST, CREATE, reverse("organisations:detail", args=[cast.lead.pk]),
                reverse("organisations:member_add", args=[cast.lead.pk])):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))


def test_directory_lists_the_network_for_staff(client, cast):
    html = _as(client, cast.researcher).get(LIST).content.decode()
    for name in ("Lead Cancer Program", "Partner Hospital", "Research Institute"):
        assert name in html
    assert "Add an organisation" not in html


@pytest.mark.parametrize("who", ["patient_user", "caregiver"])
def test_directory_requires_staff(client, cast, who):
    _as(client, getattr(cast, who))
    assert client.get(LIST).status_code == 403
    assert client.get(reverse("organisations:detail", args=[cast.lead.pk])).status_code == 403


def test_detail_shows_members_to_own_organisation_only(client, cast):
    url = reverse("organisations:detail", args=[cast.lead.pk])
    html = _as(client, cast.navigator).get(url).content.decode()
    assert "Grace Navigator" in html and "Sam Oncologist" in html and "Add a member" not in html
    client.logout()
    html = _as(client, cast.outsider).get(url).content.decode()
    assert "Lead Cancer Program" in html and "Sam Oncologist" not in html
    assert client.get(reverse("organisations:detail", args=[999999])).status_code == 404


def test_admin_adds_an_existing_staff_member(client, cast):
    _as(client, cast.admin)
    url = reverse("organisations:member_add", args=[cast.lead.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"mode": "existing", "username": "olga", "role": Role.PARTNER_STAFF,
                                 "title": "Liaison nurse"})
    assert response.status_code == 302
    m = Membership.objects.get(user=cast.outsider, organization=cast.lead)
    assert m.role == Role.PARTNER_STAFF and m.title == "Liaison nurse"
    assert AuditEvent.objects.filter(action=AuditAction.ADMIN, category="membership").exists()


def test_admin_creates_a_staff_account_with_a_one_time_password(client, cast):
    _as(client, cast.admin)
    url = reverse("organisations:member_add", args=[cast.lead.pk])
    response = client.post(url, {"mode": "new", "given_name": "Nina", "family_name": "Novak",
                                 "email": "nina@example.org", "role": Role.NURSE, "title": "Infusion nurse"},
                           follow=True)
    html = response.content.decode()
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    shown = reverse("organisations:password_shown", args=[cast.lead.pk])
    assert response.redirect_chain == [(shown, 302)]
    reload = client.get(shown).content.decode()  # F5: the password is not shown again, no second account
    assert "secret" not in reload and "shown once" in reload and User.objects.filter(last_name="Novak").count() == 1
    user = User.objects.get(last_name="Novak")
    password = re.search(r'<code class="secret">([^<]+)</code>', html).group(1)
    assert user.check_password(password)
    assert Membership.objects.filter(user=user, organization=cast.lead, role=Role.NURSE).exists()
    assert AuditEvent.objects.filter(detail="one-time password issued", resource_id=str(user.pk)).exists()
    # The new person can sign in with it.
    client.logout()
    signed = client.post(reverse("accounts:login"), {"username": user.username, "password": password})
    assert signed.status_code == 302


def test_member_add_bad_input_changes_nothing(client, cast):
    _as(client, cast.admin)
    url = reverse("organisations:member_add", args=[cast.lead.pk])
    before = (Membership.objects.count(), User.objects.count())
    response = client.post(url, {"mode": "existing", "username": "", "role": Role.NURSE})
    assert response.status_code == 400 and 'href="#id_username"' in response.content.decode()
    response = client.post(url, {"mode": "existing", "username": "nobody", "role": Role.NURSE})
    assert "No staff account has this user name" in response.content.decode()
    response = client.post(url, {"mode": "existing", "username": "pat", "role": Role.NURSE})
    assert response.status_code == 400  # a patient account is not staff
    response = client.post(url, {"mode": "new", "family_name": "", "role": Role.NURSE})
    assert response.status_code == 400 and 'href="#id_family_name"' in response.content.decode()
    response = client.post(url, {"mode": "existing", "username": "grace", "role": Role.NAVIGATOR})
    assert response.status_code == 400 and "already has that role" in response.content.decode()
    assert (Membership.objects.count(), User.objects.count()) == before


@pytest.mark.parametrize("who", ["navigator", "researcher"])
def test_member_add_requires_admin_role(client, cast, who):
    _as(client, getattr(cast, who))
    url = reverse("organisations:member_add", args=[cast.lead.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, {"mode": "existing", "username": "olga", "role": Role.NURSE}).status_code == 403
    assert not Membership.objects.filter(user=cast.outsider, organization=cast.lead).exists()


def test_admin_of_one_organisation_cannot_administer_another(client, cast):
    _as(client, cast.admin)
    url = reverse("organisations:member_add", args=[cast.partner.pk])
    assert client.post(url, {"mode": "existing", "username": "grace", "role": Role.NURSE}).status_code == 403
    membership = Membership.objects.get(user=cast.outsider)
    edit = reverse("organisations:member_edit", args=[cast.partner.pk, membership.pk])
    missing = reverse("organisations:member_edit", args=[cast.partner.pk, 999999])
    hidden, absent = client.get(edit), client.get(missing)
    assert hidden.status_code == absent.status_code == 404
    assert _body(hidden) == _body(absent)


def test_admin_changes_role_and_deactivates(client, cast):
    _as(client, cast.admin)
    membership = Membership.objects.get(user=cast.oncologist)
    url = reverse("organisations:member_edit", args=[cast.lead.pk, membership.pk])
    assert 'name="version" value="1"' in client.get(url).content.decode()
    response = client.post(url, {"role": Role.CLP, "title": "CLP", "version": "1"})  # "active" unticked
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.role == Role.CLP and not membership.active and membership.version == 2
    stale = client.post(url, {"role": Role.PHYSICIAN, "title": "", "active": "on", "version": "1"})
    assert stale.status_code == 400 and "Someone else changed this role" in stale.content.decode()
    membership.refresh_from_db()
    assert membership.role == Role.CLP


def test_member_edit_requires_admin_role(client, cast):
    membership = Membership.objects.get(user=cast.oncologist)
    url = reverse("organisations:member_edit", args=[cast.lead.pk, membership.pk])
    _as(client, cast.navigator)
    assert client.post(url, {"role": Role.CLP, "version": "1", "active": "on"}).status_code == 403
    membership.refresh_from_db()
    assert membership.role == Role.PHYSICIAN


def test_lead_admin_creates_an_organisation(client, cast):
    _as(client, cast.admin)
    assert client.get(CREATE).status_code == 200
    response = client.post(CREATE, {"name": "Valley Oncology Clinic", "kind": "partner_hospital", "city": "Dale"})
    org = Organization.objects.get(name="Valley Oncology Clinic")
    assert response.status_code == 302 and org.slug == "valley-oncology-clinic"
    assert AuditEvent.objects.filter(category="organisation", detail="created").exists()
    duplicate = client.post(CREATE, {"name": "Valley Oncology Clinic", "kind": "partner_hospital"})
    assert duplicate.status_code == 400 and "already exists" in duplicate.content.decode()
    blank = client.post(CREATE, {"name": "", "kind": "nonsense"})
    assert blank.status_code == 400 and 'href="#id_name"' in blank.content.decode()
    assert Organization.objects.filter(name="Valley Oncology Clinic").count() == 1


def test_a_lead_program_is_added_by_the_platform_administrator_only(client, cast):
    from oncoliaison.accounts.models import User

    _as(client, cast.admin)
    refused = client.post(CREATE, {"name": "Second Program", "kind": "lead_program"})
    assert refused.status_code == 400 and "Only a platform administrator" in refused.content.decode()
    operator = User.objects.create_user(username="operator", password="x", is_superuser=True)
    _as(client, operator)
    assert client.post(CREATE, {"name": "Second Program", "kind": "lead_program"}).status_code == 302
    assert Organization.objects.filter(name="Second Program", kind="lead_program").exists()


@pytest.mark.parametrize("who", ["navigator", "outsider", "researcher"])
def test_create_organisation_requires_lead_admin(client, cast, who):
    _as(client, getattr(cast, who))
    assert client.get(CREATE).status_code == 403
    assert client.post(CREATE, {"name": "X Clinic", "kind": "nonprofit"}).status_code == 403
    assert not Organization.objects.filter(name="X Clinic").exists()


def test_admin_issues_new_password_and_resets_second_factor(client, cast):
    from oncoliaison.accounts.models import MfaDevice

    MfaDevice.objects.create(user=cast.oncologist, secret_encrypted="x", confirmed=True)
    membership = Membership.objects.get(user=cast.oncologist)
    url = reverse("organisations:member_credentials", args=[cast.lead.pk, membership.pk])
    _as(client, cast.admin)
    assert client.get(url).status_code == 405
    response = client.post(url, {"action": "password"}, follow=True)
    password = re.search(r'<code class="secret">([^<]+)</code>', response.content.decode()).group(1)
    cast.oncologist.refresh_from_db()
    assert cast.oncologist.check_password(password) and "no-store" in response["Cache-Control"]
    assert client.post(url, {"action": "mfa"}).status_code == 302
    assert not MfaDevice.objects.filter(user=cast.oncologist).exists()
    assert AuditEvent.objects.filter(detail="second factor reset by an administrator").exists()


def test_credentials_reset_requires_admin_and_hides_other_organisations(client, cast):
    from oncoliaison.testing import PASSWORD

    membership = Membership.objects.get(user=cast.oncologist)
    url = reverse("organisations:member_credentials", args=[cast.lead.pk, membership.pk])
    _as(client, cast.navigator)
    assert client.post(url, {"action": "password"}).status_code == 403
    client.logout()
    _as(client, cast.outsider)
    hidden = client.post(url, {"action": "password"})
    missing = client.post(reverse("organisations:member_credentials", args=[cast.lead.pk, 999999]),
                          {"action": "password"})
    assert hidden.status_code == missing.status_code == 404
    cast.oncologist.refresh_from_db()
    assert cast.oncologist.check_password(PASSWORD)


def test_admin_edits_own_organisation_with_optimistic_locking(client, cast):
    url = reverse("organisations:edit", args=[cast.lead.pk])
    _as(client, cast.admin)
    assert 'name="version" value="1"' in client.get(url).content.decode()
    data = {"name": "Lead Cancer Program", "kind": "lead_program", "phone": "555-0100", "version": "1"}
    assert client.post(url, data).status_code == 302
    cast.lead.refresh_from_db()
    assert cast.lead.phone == "555-0100" and cast.lead.version == 2 and cast.lead.slug == "lead"
    stale = client.post(url, {**data, "phone": "555-0199"})
    assert stale.status_code == 400 and "Someone else changed this organisation" in stale.content.decode()
    bad = client.post(url, {**data, "name": "", "version": "2"})
    assert bad.status_code == 400 and 'href="#id_name"' in bad.content.decode()
    cast.lead.refresh_from_db()
    assert cast.lead.phone == "555-0100"


def test_edit_organisation_requires_its_admin(client, cast):
    _as(client, cast.admin)
    assert client.get(reverse("organisations:edit", args=[cast.partner.pk])).status_code == 403
    assert client.get(reverse("organisations:edit", args=[999999])).status_code == 404
    client.logout()
    _as(client, cast.navigator)
    assert client.post(reverse("organisations:edit", args=[cast.lead.pk]),
                       {"name": "Renamed", "kind": "lead_program", "version": "1"}).status_code == 403
    cast.lead.refresh_from_db()
    assert cast.lead.name == "Lead Cancer Program"
