"""Referral pages: public self-referral, provider form, queue, detail and triage actions."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from oncoliaison.core.models import AuditEvent
from oncoliaison.referrals.models import Referral, ReferralStatus

from .factories import provider_referral

pytestmark = pytest.mark.django_db

SELF = {
    "given_name": "Lena", "family_name": "Marsh", "birth_date": "1972-03-09", "phone": "555-0188", "email": "",
    "preferred_language": "en", "concern": "My doctor found a lump and I would like help with next steps.",
    "cancer_type_text": "", "referral_source": "web_search", "consent_to_contact": "on", "website": "",
}


def _stable(body: bytes) -> bytes:
    """The page without its per-request tokens (CSRF, CSP nonce)."""
    return re.sub(rb'("X-CSRFToken": "|nonce="|name="csrfmiddlewaretoken" value=")[^"]+', rb"\1", body)


def _login(client, user):
    client.force_login(user)
    return client


# --- public self-referral ---------------------------------------------------------------------------------


def test_public_page_needs_no_login_and_confirms(client, cast):
    page = client.get(reverse("refer:form"))
    assert page.status_code == 200 and b"Refer yourself" in page.content
    assert "no-store" in page.headers.get("Cache-Control", "") or "max-age=0" in page.headers["Cache-Control"]
    res = client.post(reverse("refer:form"), SELF)
    assert res.status_code == 302 and res.url == reverse("refer:received")
    assert Referral.objects.get().family_name == "Marsh"
    assert b"we have your request" in client.get(res.url).content


def test_public_answers_are_identical_for_honeypot_and_known_people_and_a_throttle_is_said(client, cast, settings):
    settings.SELF_REFERRAL_LIMIT_PER_HOUR = 3
    known = {**SELF, "given_name": cast.pat.given_name, "family_name": cast.pat.family_name,
             "birth_date": cast.pat.birth_date.isoformat()}
    answers = [
        client.post(reverse("refer:form"), SELF),
        client.post(reverse("refer:form"), known),
        client.post(reverse("refer:form"), {**SELF, "website": "http://spam.example"}),
    ]
    assert {(a.status_code, a.url, a.content) for a in answers} == {(302, reverse("refer:received"), b"")}
    throttled = client.post(reverse("refer:form"), SELF)
    assert throttled.status_code == 429 and "We could not accept your form" in throttled.content.decode()
    assert Referral.objects.count() == 2


def test_public_bad_input_shows_clear_errors_and_stores_nothing(client, cast):
    res = client.post(reverse("refer:form"), {**SELF, "birth_date": "2999-01-01", "phone": "", "concern": "hi"})
    assert res.status_code == 400
    body = res.content.decode()
    assert "There is a problem" in body and "cannot be in the future" in body
    assert "telephone number or an e-mail" in body and "how we can help" in body
    assert not Referral.objects.exists()


# --- provider referral form ----------------------------------------------------------------------------------

PROVIDER = {
    "receiving_organization": "", "referring_organization": "", "urgency": "urgent", "given_name": "Ned",
    "family_name": "Stone", "birth_date": "1958-11-20", "gender": "male", "phone": "", "email": "",
    "preferred_language": "en", "mrn": "P-7781", "reason": "Rising PSA, biopsy positive.",
    "cancer_type_text": "Prostate cancer", "stage_text": "II", "requested_services": ["navigation", "second_opinion"],
    "att-TOTAL_FORMS": "3", "att-INITIAL_FORMS": "0", "att-MIN_NUM_FORMS": "0", "att-MAX_NUM_FORMS": "20",
    "att-0-name": "Biopsy report", "att-0-content_type": "application/pdf", "att-0-size_kb": "240",
    "att-0-document_date": "2026-01-15",
}


def test_partner_clinician_sends_a_referral(client, cast):
    _login(client, cast.outsider)
    assert client.get(reverse("referrals:new")).status_code == 200
    data = {**PROVIDER, "receiving_organization": cast.lead.pk, "referring_organization": cast.partner.pk}
    res = client.post(reverse("referrals:new"), data)
    r = Referral.objects.get()
    assert res.status_code == 302 and res.url == reverse("referrals:detail", args=[r.pk])
    assert (r.referring_organization, r.identifier_system, r.identifier_value) == (
        cast.partner, cast.partner.mrn_system, "P-7781")
    assert r.attachments.get().size_bytes == 240 * 1024
    page = client.get(res.url)
    assert page.status_code == 200 and b"Ned Stone" in page.content
    assert reverse("referrals:accept", args=[r.pk]).encode() not in page.content  # the referrer does not triage
    assert b"Withdraw the referral" in page.content and b"Decline and write" not in page.content


def test_provider_form_bad_input_shows_errors_and_stores_nothing(client, cast):
    _login(client, cast.outsider)
    res = client.post(reverse("referrals:new"), {**PROVIDER, "receiving_organization": cast.lead.pk,
                                                 "referring_organization": cast.partner.pk, "reason": "",
                                                 "family_name": "", "birth_date": ""})
    assert res.status_code == 400 and b"There is a problem" in res.content
    assert b"Enter the family name" in res.content
    assert not Referral.objects.exists()


def test_referring_a_known_patient_from_their_record(client, cast):
    _login(client, cast.oncologist)
    url = reverse("referrals:new_for_patient", args=[cast.pat.pk])
    assert client.get(url).status_code == 200
    res = client.post(url, {"receiving_organization": cast.lead.pk, "referring_organization": cast.lead.pk,
                            "urgency": "routine", "reason": "CLP review", "att-TOTAL_FORMS": "0",
                            "att-INITIAL_FORMS": "0"})
    assert res.status_code == 302 and Referral.objects.get().patient == cast.pat
    # The partner navigator cannot start a referral for a patient they cannot see: the same 404 as missing.
    _login(client, cast.outsider)
    assert client.get(url).status_code == 404
    assert client.get(reverse("referrals:new_for_patient", args=[999999])).status_code == 404


# --- login, roles and other organisations ----------------------------------------------------------------------


def test_staff_pages_require_login(client, cast):
    r = provider_referral(cast)
    for url in (reverse("referrals:queue"), reverse("referrals:new"), reverse("referrals:detail", args=[r.pk]),
                reverse("referrals:accept", args=[r.pk]), reverse("referrals:list")):
        res = client.get(url)
        assert res.status_code == 302 and reverse("accounts:login") in res.url


def test_pages_require_the_right_role(client, cast):
    r = provider_referral(cast)
    for user in (cast.researcher, cast.patient_user, cast.caregiver):
        _login(client, user)
        assert client.get(reverse("referrals:queue")).status_code == 403
        assert client.get(reverse("referrals:new")).status_code == 403
        assert client.get(reverse("referrals:detail", args=[r.pk])).status_code == 404
    # The referrer may see the referral but not triage it.
    _login(client, cast.outsider)
    assert client.get(reverse("referrals:accept", args=[r.pk])).status_code == 403
    res = client.post(reverse("referrals:decline", args=[r.pk]), {"reason": "not_eligible"})
    assert res.status_code == 403
    assert Referral.objects.get(pk=r.pk).status == ReferralStatus.RECEIVED


def test_pages_hide_other_organisations(client, cast):
    from oncoliaison.referrals.services import ReferralData, referral_create

    lead_own = referral_create(actor=cast.actor(cast.oncologist),
                               data=ReferralData(reason="CLP review", patient_id=cast.pat.pk))
    _login(client, cast.outsider)
    missing = client.get(reverse("referrals:detail", args=[999999]))
    hidden = client.get(reverse("referrals:detail", args=[lead_own.pk]))
    assert hidden.status_code == missing.status_code == 404
    assert _stable(hidden.content) == _stable(missing.content)
    assert client.post(reverse("referrals:withdraw", args=[lead_own.pk]), {}).status_code == 404
    queue = client.get(reverse("referrals:queue"))
    assert queue.status_code == 200 and b"Pat Patient" not in queue.content
    assert Referral.objects.get(pk=lead_own.pk).status == ReferralStatus.RECEIVED


# --- the queue and triage actions ---------------------------------------------------------------------------------


def test_queue_lists_open_referrals_and_filters_with_htmx(client, cast, django_assert_max_num_queries):
    for i in range(6):
        provider_referral(cast, family_name=f"Queue{i}", urgency="routine" if i % 2 else "emergent")
    _login(client, cast.navigator)
    with django_assert_max_num_queries(15):
        page = client.get(reverse("referrals:queue"))
    body = page.content.decode()
    assert page.status_code == 200 and body.count("Queue") >= 6
    assert body.index("Queue0") < body.index("Queue1")  # emergent before routine
    part = client.get(reverse("referrals:queue"), {"urgency": "routine"}, HTTP_HX_REQUEST="true")
    assert b"<html" not in part.content and b"Queue1" in part.content and b"Queue0" not in part.content
    # Each listed referral is audited as a search disclosure (the same rows every door writes for a list).
    assert AuditEvent.objects.filter(action="search", resource_type="ServiceRequest", user_id=cast.navigator.pk).count() >= 9


def test_triage_actions_from_the_detail_page(client, cast):
    r = provider_referral(cast)
    _login(client, cast.navigator)
    url = lambda name: reverse(f"referrals:{name}", args=[r.pk])  # noqa: E731
    assert client.post(url("request_info"), {"message": "Send the CT report", "version": 1}).status_code == 302
    assert Referral.objects.get(pk=r.pk).status == ReferralStatus.INFO_REQUESTED
    assert client.post(url("info_received"), {"ir-note": "Faxed"}).status_code == 302
    now = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
    assert client.post(url("contact"), {"ct-at": now, "ct-note": "Called"}).status_code == 302
    res = client.post(url("decline"), {"reason": "other", "message": ""})
    assert res.status_code == 400 and b"Explain the reason" in res.content
    assert client.post(url("decline"), {"reason": "referred_elsewhere", "message": "Closer to home."}).status_code == 302
    page = client.get(url("detail"))
    assert b"Letter to the referrer" in page.content and b"Closer to home." in page.content
    # A closed referral refuses further actions with a clear message and no change.
    res = client.post(url("request_info"), {"message": "x"})
    assert res.status_code == 409 and b"cannot be changed" in res.content


def test_stale_form_is_refused(client, cast):
    r = provider_referral(cast)
    _login(client, cast.navigator)
    res = client.post(reverse("referrals:request_info", args=[r.pk]), {"message": "x", "version": "7"})
    assert res.status_code == 412 and b"changed by someone else" in res.content


def test_accept_page_offers_duplicates_then_links(client, cast):
    r = provider_referral(cast, given_name="Pat", family_name="PATIENT", birth_date=cast.pat.birth_date)
    _login(client, cast.navigator)
    url = reverse("referrals:accept", args=[r.pk])
    page = client.get(url)
    assert page.status_code == 200 and f'value="link-{cast.pat.pk}"'.encode() in page.content
    assert b"Same name and date of birth" in page.content
    # Choosing "new" without the reviewed flag (e.g. a stale page) is refused with the candidates shown.
    res = client.post(url, {"choice": "new"})
    assert res.status_code == 409 and b"Possible existing records" in res.content
    res = client.post(url, {"choice": f"link-{cast.pat.pk}", "duplicates_reviewed": "on"})
    assert res.status_code == 302
    assert Referral.objects.get(pk=r.pk).patient == cast.pat


def test_accept_registers_new_and_offers_enrollment(client, cast):
    r = provider_referral(cast)
    _login(client, cast.navigator)
    res = client.post(reverse("referrals:accept", args=[r.pk]), {"choice": "new"})
    assert res.status_code == 302
    r.refresh_from_db()
    assert r.status == ReferralStatus.ACCEPTED and r.patient.family_name == "Quinn"
    page = client.get(reverse("referrals:detail", args=[r.pk]))
    assert reverse("programs:enroll_referral", args=[r.pk]).encode() in page.content


def test_accept_bad_choice_is_a_clear_error(client, cast):
    r = provider_referral(cast)
    _login(client, cast.navigator)
    res = client.post(reverse("referrals:accept", args=[r.pk]), {"choice": "maybe"})
    assert res.status_code == 400 and b"Choose an existing record" in res.content
    assert Referral.objects.get(pk=r.pk).status == ReferralStatus.RECEIVED


def test_referrer_does_not_see_the_programs_record_after_linking(client, cast):
    from oncoliaison.referrals.services import referral_accept

    r = provider_referral(cast, given_name="Pat", family_name="Patient", birth_date=cast.pat.birth_date)
    cast.pat.family_name = "Patient-Registered"
    cast.pat.save()
    referral_accept(actor=cast.actor(cast.navigator), referral=r, link_patient_id=cast.pat.pk)
    _login(client, cast.outsider)
    body = client.get(reverse("referrals:detail", args=[r.pk])).content.decode()
    assert "Referral of Pat Patient" in body and "Patient-Registered" not in body
    assert reverse("patients:detail", args=[cast.pat.pk]) not in body
    _login(client, cast.navigator)
    body = client.get(reverse("referrals:detail", args=[r.pk])).content.decode()
    assert "Patient-Registered" in body and reverse("patients:detail", args=[cast.pat.pk]) in body
