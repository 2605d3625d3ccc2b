"""Enrollment opens the program episode, assigns navigator and CLP and builds the care team."""

from __future__ import annotations

import datetime as dt

import pytest

from oncoliaison.core import clock
from oncoliaison.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from oncoliaison.core.models import AuditEvent
from oncoliaison.organisations.models import Membership, Role
from oncoliaison.patients.models import CareTeam
from oncoliaison.programs import services
from oncoliaison.programs.models import EpisodeStatus, ProgramEpisode
from oncoliaison.programs.selectors import clps_of, episode_get_for, episode_list_for, navigators_of
from oncoliaison.referrals.services import referral_accept
from oncoliaison.referrals.tests.factories import provider_referral

pytestmark = pytest.mark.django_db


@pytest.fixture
def clp(cast):
    from oncoliaison.testing import _staff

    return _staff("maria", "Maria", "Liaison", cast.lead, Role.CLP)


def _accepted(cast):
    r = provider_referral(cast)
    return referral_accept(actor=cast.actor(cast.navigator), referral=r, register_new=True)


def test_enroll_from_an_accepted_referral_builds_a_new_care_team(cast, clp):
    r = _accepted(cast)
    ep = services.episode_enroll(actor=cast.actor(cast.navigator), referral=r, navigator_id=cast.navigator.pk,
                                 clp_id=clp.pk)
    assert (ep.status, ep.patient, ep.organization, ep.navigator, ep.clp, ep.referral) == (
        EpisodeStatus.ACTIVE, r.patient, cast.lead, cast.navigator, clp, r)
    assert ep.period_start == clock.today() and ep.period_end is None
    members = {(p.user_id, p.role) for p in ep.care_team.participants.all()}
    assert members == {(cast.navigator.pk, "Nurse navigator"), (clp.pk, "Cancer Liaison Physician")}
    assert AuditEvent.objects.filter(resource_type="EpisodeOfCare", action="create", patient_id=r.patient_id).exists()
    assert AuditEvent.objects.filter(resource_type="CareTeam", action="create", patient_id=r.patient_id).exists()


def test_enroll_extends_an_existing_care_team_without_duplicates(cast, clp):
    ep = services.episode_enroll(actor=cast.actor(cast.navigator), patient=cast.pat, navigator_id=cast.navigator.pk,
                                 clp_id=clp.pk)
    assert ep.care_team == cast.care_team
    members = sorted((p.user.username, p.role) for p in cast.care_team.participants.all())
    assert members == [("grace", "Nurse navigator"), ("maria", "Cancer Liaison Physician"),
                       ("sam", "Medical oncologist")]
    assert CareTeam.objects.filter(patient=cast.pat).count() == 1


def test_one_open_episode_per_patient_and_program(cast, clp):
    nav = cast.actor(cast.navigator)
    ep = services.episode_enroll(actor=nav, patient=cast.pat, navigator_id=cast.navigator.pk, clp_id=clp.pk)
    with pytest.raises(Conflict):
        services.episode_enroll(actor=nav, patient=cast.pat, navigator_id=cast.navigator.pk, clp_id=clp.pk)
    services.episode_set_status(actor=nav, episode=ep, status=EpisodeStatus.FINISHED, note="Treatment completed")
    again = services.episode_enroll(actor=nav, patient=cast.pat, navigator_id=cast.navigator.pk, clp_id=clp.pk)
    assert again.pk != ep.pk and ProgramEpisode.objects.filter(patient=cast.pat).count() == 2


def test_database_refuses_a_second_open_episode(cast, clp):
    from django.db import IntegrityError, transaction

    common = dict(patient=cast.pat, organization=cast.lead, period_start=clock.today(), navigator=cast.navigator,
                  clp=clp)
    ProgramEpisode.objects.create(status=EpisodeStatus.ACTIVE, **common)
    with pytest.raises(IntegrityError), transaction.atomic():
        ProgramEpisode.objects.create(status=EpisodeStatus.ONHOLD, **common)
    ProgramEpisode.objects.create(status=EpisodeStatus.FINISHED, **common)


def test_navigator_and_clp_must_hold_those_roles_in_the_program(cast, clp):
    nav = cast.actor(cast.navigator)
    with pytest.raises(ValidationFailed) as exc:
        services.episode_enroll(actor=nav, patient=cast.pat, navigator_id=cast.oncologist.pk, clp_id=cast.navigator.pk)
    assert set(exc.value.field_errors) == {"navigator", "clp"}
    with pytest.raises(ValidationFailed):  # a navigator of another organisation
        services.episode_enroll(actor=nav, patient=cast.pat, navigator_id=cast.outsider.pk, clp_id=clp.pk)
    Membership.objects.filter(user=clp).update(active=False)
    with pytest.raises(ValidationFailed):
        services.episode_enroll(actor=nav, patient=cast.pat, navigator_id=cast.navigator.pk, clp_id=clp.pk)
    assert not ProgramEpisode.objects.exists()


def test_enroll_needs_an_accepted_referral(cast, clp):
    r = provider_referral(cast)
    with pytest.raises(Conflict):
        services.episode_enroll(actor=cast.actor(cast.navigator), referral=r, navigator_id=cast.navigator.pk,
                                clp_id=clp.pk)
    assert not ProgramEpisode.objects.exists()


def test_enroll_is_for_the_programs_clinical_staff(cast, clp):
    r = _accepted(cast)
    for user in (cast.outsider, cast.researcher):
        with pytest.raises(Forbidden):
            services.episode_enroll(actor=cast.actor(user), referral=r, navigator_id=cast.navigator.pk,
                                    clp_id=clp.pk)
    assert not ProgramEpisode.objects.exists()


def test_future_start_is_planned(cast, clp):
    start = clock.today() + dt.timedelta(days=10)
    ep = services.episode_enroll(actor=cast.actor(cast.navigator), patient=cast.pat, navigator_id=cast.navigator.pk,
                                 clp_id=clp.pk, start=start)
    assert ep.status == EpisodeStatus.PLANNED


def test_status_changes_follow_the_table(cast, clp):
    nav = cast.actor(cast.navigator)
    ep = services.episode_enroll(actor=nav, patient=cast.pat, navigator_id=cast.navigator.pk, clp_id=clp.pk)
    ep = services.episode_set_status(actor=nav, episode=ep, status=EpisodeStatus.ONHOLD, note="Patient travelling")
    ep = services.episode_set_status(actor=nav, episode=ep, status=EpisodeStatus.ACTIVE)
    with pytest.raises(ValidationFailed):
        services.episode_set_status(actor=nav, episode=ep, status=EpisodeStatus.CANCELLED)
    ep = services.episode_set_status(actor=nav, episode=ep, status=EpisodeStatus.FINISHED)
    assert ep.period_end == clock.today()
    with pytest.raises(Conflict):
        services.episode_set_status(actor=nav, episode=ep, status=EpisodeStatus.ACTIVE)
    assert ProgramEpisode.objects.get(pk=ep.pk).status == EpisodeStatus.FINISHED
    with pytest.raises(Forbidden):
        services.episode_set_status(actor=cast.actor(cast.outsider), episode=ep, status=EpisodeStatus.ACTIVE)


def test_selectors_hide_other_organisations(cast, clp):
    ep = services.episode_enroll(actor=cast.actor(cast.navigator), patient=cast.pat, navigator_id=cast.navigator.pk,
                                 clp_id=clp.pk)
    assert episode_get_for(cast.actor(cast.oncologist), ep.pk) == ep
    assert episode_get_for(cast.actor(cast.patient_user), ep.pk) == ep
    for user in (cast.outsider, cast.researcher):
        with pytest.raises(NotFound):
            episode_get_for(cast.actor(user), ep.pk)
    assert episode_list_for(cast.actor(cast.navigator)) == [ep]
    assert episode_list_for(cast.actor(cast.outsider)) == []
    with pytest.raises(Forbidden):
        episode_list_for(cast.actor(cast.researcher))
    assert list(navigators_of(cast.lead.pk)) == [cast.navigator] and list(clps_of(cast.lead.pk)) == [clp]
