"""Portal pages: patient and caregiver homes, proxy scopes enforced, support network, invitations."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse

from oncoliaison.core.models import AuditEvent
from oncoliaison.patients.models import Consent, Patient, ProxyScope
from oncoliaison.portal.models import PortalInvitation
from oncoliaison.testing import Cast


def _client(user) -> Client:  # type: ignore[no-untyped-def]
    c = Client()
    c.force_login(user)
    return c


def _stable(content: bytes) -> str:
    """The page without its per-response CSRF token (masked differently every time)."""
    text = content.decode()
    text = re.sub(r'"X-CSRFToken": "[^"]+"', "", text)
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", text)


def _scope(cast: Cast, scope: str) -> None:
    Consent.objects.filter(grantee_user=cast.caregiver).update(proxy_scope=scope)


# --- homes -------------------------------------------------------------------------------------------


def test_patient_home_shows_care_team_and_is_audited(cast: Cast) -> None:
    r = _client(cast.patient_user).get(reverse("portal:home"))
    assert r.status_code == 200
    body = r.content.decode()
    assert "Hello, Pat" in body and "Grace Navigator" in body and "Nurse navigator" in body
    assert "Report symptoms" in body and "My support network" in body
    assert r.headers["Cache-Control"] == "no-store"
    assert AuditEvent.objects.filter(action="read", patient_id=cast.pat.pk, category="portal").exists()


def test_caregiver_with_one_patient_goes_to_their_page(cast: Cast) -> None:
    c = _client(cast.caregiver)
    r = c.get(reverse("portal:home"))
    assert r.status_code == 302 and r.url == reverse("portal:for_patient", args=[cast.pat.pk])
    r = c.get(r.url)
    body = r.content.decode()
    assert r.status_code == 200 and "You are helping Pat Patient" in body
    assert "Report symptoms" not in body  # view only
    assert "view only" in body


def test_staff_are_sent_to_their_own_home(cast: Cast) -> None:
    r = _client(cast.navigator).get(reverse("portal:home"))
    assert r.status_code == 302 and r.url == reverse("home:home")


def test_portal_needs_sign_in(db) -> None:
    r = Client().get(reverse("portal:home"))
    assert r.status_code == 302 and "/accounts/login/" in r.url


# --- proxy scopes ------------------------------------------------------------------------------------


def test_view_only_proxy_cannot_report_or_message(cast: Cast) -> None:
    c = _client(cast.caregiver)
    pid = cast.pat.pk
    assert c.get(reverse("portal:report_for", args=[pid])).status_code == 403
    assert c.post(reverse("portal:report_for", args=[pid]), {"esas-1": "3"}).status_code == 403
    assert c.get(reverse("messaging:new_for", args=[pid])).status_code == 403
    assert c.post(reverse("messaging:new_for", args=[pid]), {"subject": "S", "body": "B"}).status_code == 403
    assert c.get(reverse("messaging:inbox")).status_code == 403


def test_report_scope_may_open_the_report_page_but_not_messages(cast: Cast) -> None:
    _scope(cast, ProxyScope.REPORT)
    c = _client(cast.caregiver)
    assert c.get(reverse("portal:report_for", args=[cast.pat.pk])).status_code == 200
    assert c.get(reverse("messaging:new_for", args=[cast.pat.pk])).status_code == 403


def test_message_scope_proxy_can_message(cast: Cast) -> None:
    _scope(cast, ProxyScope.MESSAGE)
    c = _client(cast.caregiver)
    r = c.post(reverse("messaging:new_for", args=[cast.pat.pk]), {"subject": "Parking", "body": "Where to park?"})
    assert r.status_code == 302


def test_after_revocation_caregiver_sees_nothing_same_404_as_missing(cast: Cast) -> None:
    _scope(cast, ProxyScope.MESSAGE)
    consent = Consent.objects.get(grantee_user=cast.caregiver)
    pat = _client(cast.patient_user)
    assert pat.post(reverse("portal:support_revoke", args=[consent.pk])).status_code == 302
    c = _client(cast.caregiver)
    revoked = c.get(reverse("portal:for_patient", args=[cast.pat.pk]))
    missing = c.get(reverse("portal:for_patient", args=[999_999]))
    assert revoked.status_code == missing.status_code == 404
    assert _stable(revoked.content) == _stable(missing.content)
    assert c.get(reverse("portal:report_for", args=[cast.pat.pk])).status_code == 404
    assert c.get(reverse("messaging:new_for", args=[cast.pat.pk])).status_code == 403
    home = c.get(reverse("portal:home"))
    assert home.status_code == 200 and "Pat Patient" not in home.content.decode()


def test_caregiver_cannot_see_another_patient(cast: Cast) -> None:
    c = _client(cast.caregiver)
    assert c.get(reverse("portal:for_patient", args=[cast.other_patient.pk])).status_code == 404


def test_patient_cannot_open_another_patients_portal(cast: Cast) -> None:
    c = _client(cast.patient_user)
    assert c.get(reverse("portal:for_patient", args=[cast.other_patient.pk])).status_code == 404
    assert c.get(reverse("portal:for_patient", args=[cast.pat.pk])).status_code == 302


# --- support network ---------------------------------------------------------------------------------


def test_patient_grants_and_sees_the_link(cast: Cast) -> None:
    c = _client(cast.patient_user)
    r = c.post(reverse("portal:support"), {"given_name": "Sol", "family_name": "Sibling", "email": "sol@example.org",
                                           "scope": "report"}, follow=True)
    body = r.content.decode()
    assert r.status_code == 200 and "/portal/invite/" in body and "Sol Sibling" in body
    assert "/portal/invite/" not in c.get(reverse("portal:support")).content.decode()  # shown once
    assert Consent.objects.filter(proxy_scope="report", grantee_user__email="sol@example.org").exists()


def test_support_bad_input_is_a_clear_error_and_no_change(cast: Cast) -> None:
    before = Consent.objects.count()
    r = _client(cast.patient_user).post(reverse("portal:support"), {"given_name": "", "family_name": "X",
                                                                    "email": "nope", "scope": "all"})
    assert r.status_code == 400
    assert "There is a problem" in r.content.decode()
    assert Consent.objects.count() == before


def test_only_patients_manage_support_network(cast: Cast) -> None:
    for who in (cast.caregiver, cast.navigator, cast.researcher):
        assert _client(who).get(reverse("portal:support")).status_code == 403
    consent = Consent.objects.get(grantee_user=cast.caregiver)
    assert _client(cast.caregiver).post(reverse("portal:support_revoke", args=[consent.pk])).status_code == 404
    consent.refresh_from_db()
    assert consent.status == "active"


# --- invitations -------------------------------------------------------------------------------------


@pytest.fixture
def nina(cast: Cast) -> Patient:
    return Patient.objects.create(organization=cast.lead, given_name="Nina", family_name="Newcomer",
                                  birth_date=dt.date(1970, 1, 5), gender="female", synthetic=True)


def test_staff_invite_page_and_acceptance(cast: Cast, nina: Patient) -> None:
    nav = _client(cast.navigator)
    url = reverse("portal:staff_invite", args=[nina.pk])
    assert nav.get(url).status_code == 200
    r = nav.post(url, {"email": "nina@example.org"}, follow=True)
    assert r.status_code == 200 and r.redirect_chain == [(url, 302)]
    link = r.context["issued"]["link"]
    assert link in r.content.decode()
    reload = nav.get(url)  # F5 after post/redirect/get: no second invitation, the link is not shown again
    assert link not in reload.content.decode() and PortalInvitation.objects.filter(patient=nina).count() == 1
    path = link.split("testserver", 1)[1]
    anon = Client()
    page = anon.get(path)
    assert page.status_code == 200 and "Set up your account" in page.content.decode()
    bad = anon.post(path, {"username": "nina", "password1": "short", "password2": "short"})
    assert bad.status_code == 400 and "too short" in bad.content.decode()
    ok = anon.post(path, {"username": "nina", "password1": "Blue-heron-lantern-42",
                          "password2": "Blue-heron-lantern-42"})
    assert ok.status_code == 302 and ok.url == reverse("portal:welcome")
    assert anon.get(reverse("portal:home")).status_code == 200
    again = Client().get(path)
    assert again.status_code == 404 and "This link does not work" in again.content.decode()


def test_staff_invite_hides_other_organisations_and_requires_the_right_role(cast: Cast, nina: Patient) -> None:
    url = reverse("portal:staff_invite", args=[nina.pk])
    hidden = _client(cast.outsider).get(url)
    missing = _client(cast.outsider).get(reverse("portal:staff_invite", args=[999_999]))
    assert hidden.status_code == missing.status_code == 404 and _stable(hidden.content) == _stable(missing.content)
    assert _client(cast.researcher).get(url).status_code == 403
    assert _client(cast.researcher).post(url, {"email": "n@example.org"}).status_code == 403
    assert not PortalInvitation.objects.exists()


def test_staff_invite_bad_email(cast: Cast, nina: Patient) -> None:
    r = _client(cast.navigator).post(reverse("portal:staff_invite", args=[nina.pk]), {"email": "bad"})
    assert r.status_code == 400 and not PortalInvitation.objects.exists()


def test_signed_in_person_cannot_accept_an_invitation(cast: Cast, nina: Patient) -> None:
    r = _client(cast.navigator).post(reverse("portal:staff_invite", args=[nina.pk]), {"email": "nina@example.org"},
                                     follow=True)
    path = r.context["issued"]["link"].split("testserver", 1)[1]
    assert _client(cast.caregiver).get(path).status_code == 409


# --- language ----------------------------------------------------------------------------------------


def test_language_switch_sets_the_portal_language(cast: Cast) -> None:
    c = _client(cast.patient_user)
    r = c.post(reverse("portal:set_language"), {"language": "es", "next": "/portal/"})
    assert r.status_code == 302
    page = c.get(reverse("portal:home"))
    assert page.headers["Content-Language"] == "es"
    html = page.content.decode()
    assert '<html lang="es">' in html
    assert "Hola, Pat" in html and "Mi equipo de atención" in html and "Informar síntomas" in html


def test_patients_preferred_language_is_used_without_a_choice(cast: Cast) -> None:
    cast.pat.preferred_language = "es"
    cast.pat.save()
    html = _client(cast.patient_user).get(reverse("portal:home")).content.decode()
    assert "Hola, Pat" in html
    cast.pat.preferred_language = "vi"  # no catalogue: English
    cast.pat.save()
    assert "Hello, Pat" in _client(cast.patient_user).get(reverse("portal:home")).content.decode()


def test_patient_summary_links_to_invite_and_message(cast: Cast, nina: Patient) -> None:
    html = _client(cast.navigator).get(reverse("patients:detail", args=[nina.pk])).content.decode()
    assert reverse("portal:staff_invite", args=[nina.pk]) in html
    assert reverse("messaging:new_for", args=[nina.pk]) in html
    # Pat already has an account: no invitation offered.
    html = _client(cast.navigator).get(reverse("patients:detail", args=[cast.pat.pk])).content.decode()
    assert reverse("portal:staff_invite", args=[cast.pat.pk]) not in html


def test_navigation_offers_messages_and_portal(cast: Cast) -> None:
    assert reverse("messaging:inbox") in _client(cast.navigator).get(reverse("home:home")).content.decode()
    assert reverse("messaging:inbox") not in _client(cast.researcher).get(reverse("home:home")).content.decode()
    assert reverse("portal:home") in _client(cast.patient_user).get(reverse("home:home")).content.decode()
    # A view-only caregiver is not offered the inbox in the portal.
    page = _client(cast.caregiver).get(reverse("portal:for_patient", args=[cast.pat.pk])).content.decode()
    assert reverse("messaging:inbox") not in page


def test_portal_home_query_budget(cast: Cast, django_assert_max_num_queries) -> None:
    c = _client(cast.patient_user)
    c.get(reverse("portal:home"))  # warm caches (content types, sessions)
    with django_assert_max_num_queries(40):
        assert c.get(reverse("portal:home")).status_code == 200
