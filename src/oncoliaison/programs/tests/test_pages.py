"""Program pages: enrollment from an accepted referral, the episode page with its care team, the list."""

from __future__ import annotations

import pytest
from django.urls import reverse

from oncoliaison.organisations.models import Role
from oncoliaison.programs.models import EpisodeStatus, ProgramEpisode
from oncoliaison.referrals.services import referral_accept
from oncoliaison.referrals.tests.factories import provider_referral

pytestmark = pytest.mark.django_db


@pytest.fixture
def clp(cast):
    from oncoliaison.testing import _staff

    return _staff("maria", "Maria", "Liaison", cast.lead, Role.CLP)


@pytest.fixture
def accepted(cast):
    r = provider_referral(cast)
    return referral_accept(actor=cast.actor(cast.navigator), referral=r, register_new=True)


def test_enroll_from_referral_and_see_the_care_team(client, cast, clp, accepted):
    client.force_login(cast.navigator)
    url = reverse("programs:enroll_referral", args=[accepted.pk])
    page = client.get(url)
    assert page.status_code == 200 and b"Maria Liaison" in page.content and b"Grace Navigator" in page.content
    res = client.post(url, {"navigator": cast.navigator.pk, "clp": clp.pk, "start": "2026-01-05"})
    ep = ProgramEpisode.objects.get()
    assert res.status_code == 302 and res.url == reverse("programs:detail", args=[ep.pk])
    body = client.get(res.url).content.decode()
    assert "Nora Quinn" in body and "Cancer Liaison Physician</strong>: Maria Liaison" in body
    assert "Nurse navigator</strong>: Grace Navigator" in body
    assert "Nora Quinn" in client.get(reverse("programs:list")).content.decode()


def test_enroll_bad_choice_is_a_clear_error_and_changes_nothing(client, cast, clp, accepted):
    client.force_login(cast.navigator)
    url = reverse("programs:enroll_referral", args=[accepted.pk])
    res = client.post(url, {"navigator": clp.pk, "clp": clp.pk, "start": "2026-01-05"})
    assert res.status_code == 400 and b"Select a valid choice" in res.content
    res = client.post(url, {"navigator": "", "clp": clp.pk, "start": ""})
    assert res.status_code == 400 and b"There is a problem" in res.content
    assert not ProgramEpisode.objects.exists()


def test_second_enrollment_is_refused(client, cast, clp):
    client.force_login(cast.navigator)
    url = reverse("programs:enroll_patient", args=[cast.pat.pk])
    assert client.post(url, {"navigator": cast.navigator.pk, "clp": clp.pk, "start": "2026-01-05"}).status_code == 302
    res = client.post(url, {"navigator": cast.navigator.pk, "clp": clp.pk, "start": "2026-01-05"})
    assert res.status_code == 409 and b"already enrolled" in res.content
    assert ProgramEpisode.objects.count() == 1


def test_pages_require_login_and_role(client, cast, clp, accepted):
    url = reverse("programs:enroll_referral", args=[accepted.pk])
    assert client.get(url).status_code == 302
    assert client.get(reverse("programs:list")).status_code == 302
    client.force_login(cast.researcher)
    assert client.get(reverse("programs:list")).status_code == 403
    assert client.get(reverse("programs:enroll_patient", args=[cast.pat.pk])).status_code == 403
    assert client.get(url).status_code == 404  # the researcher cannot see the referral at all


def test_pages_hide_other_organisations(client, cast, clp, accepted):
    from oncoliaison.programs.services import episode_enroll

    ep = episode_enroll(actor=cast.actor(cast.navigator), referral=accepted, navigator_id=cast.navigator.pk,
                        clp_id=clp.pk)
    client.force_login(cast.outsider)  # the referrer: sees the referral, not the lead program's patient
    assert client.get(reverse("programs:detail", args=[ep.pk])).status_code == 404
    assert client.get(reverse("programs:detail", args=[999999])).status_code == 404
    assert client.get(reverse("programs:enroll_referral", args=[accepted.pk])).status_code == 403
    assert client.get(reverse("programs:enroll_patient", args=[cast.pat.pk])).status_code == 404
    assert b"Nora Quinn" not in client.get(reverse("programs:list")).content
    res = client.post(reverse("programs:status", args=[ep.pk]), {"status": "finished"})
    assert res.status_code == 404 and ProgramEpisode.objects.get().status == EpisodeStatus.ACTIVE


def test_status_change_from_the_episode_page(client, cast, clp, accepted):
    from oncoliaison.programs.services import episode_enroll

    ep = episode_enroll(actor=cast.actor(cast.navigator), referral=accepted, navigator_id=cast.navigator.pk,
                        clp_id=clp.pk)
    client.force_login(cast.navigator)
    url = reverse("programs:status", args=[ep.pk])
    res = client.post(url, {"status": "cancelled", "note": ""})
    assert res.status_code == 400 and b"Say why the episode is cancelled" in res.content
    assert client.post(url, {"status": "finished", "note": "Treatment completed", "version": ep.version}).status_code == 302
    ep.refresh_from_db()
    assert ep.status == EpisodeStatus.FINISHED and ep.period_end is not None
