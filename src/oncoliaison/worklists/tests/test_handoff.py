"""Routing follows the patient's navigator now, and patients are handed off one or many at a time.

Grace (``navigator``) and Daniel (``navigator2``) are the demo program's navigators; Maria (``clp``) its CLP.
"""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import TestCase
from django.urls import reverse

from oncoliaison.accounts.models import User
from oncoliaison.accounts.services import actor_for_user
from oncoliaison.careplans.models import Task
from oncoliaison.careplans.rules import TASK_OPEN
from oncoliaison.core.errors import Forbidden, ValidationFailed
from oncoliaison.core.models import AuditEvent
from oncoliaison.demo.seed import seed_demo
from oncoliaison.instruments.models import Instrument
from oncoliaison.messaging.models import ParticipantRole, Thread, ThreadKind, ThreadParticipant
from oncoliaison.messaging.services import navigators_for
from oncoliaison.monitoring import selectors as alert_selectors
from oncoliaison.monitoring import services as monitoring
from oncoliaison.monitoring.models import Alert
from oncoliaison.organisations.models import Organization
from oncoliaison.patients.models import CareTeamParticipant
from oncoliaison.patients.selectors import current_participant_q
from oncoliaison.programs.models import OPEN_EPISODE_STATUSES, NavigatorHandoff, ProgramEpisode
from oncoliaison.worklists import selectors, services

SEVERE_PAIN = {f"esas-{i}": v for i, v in enumerate([9, 2, 1, 0, 2, 1, 1, 2, 3], start=1)}


@pytest.fixture
def demo(db):  # type: ignore[no-untyped-def]
    seed_demo(patients=12)
    users = {u.username: u for u in User.objects.all()}
    for name in ("navigator", "navigator2"):
        users[name].email = f"{name}@example.org"
        users[name].save()
    return users


def _lead() -> Organization:
    return Organization.objects.get(slug="riverside-cancer-institute")


def _graces_episode(demo) -> ProgramEpisode:  # type: ignore[no-untyped-def]
    return (ProgramEpisode.objects.filter(navigator=demo["navigator"], status__in=OPEN_EPISODE_STATUSES,
                                          organization=_lead()).select_related("patient").order_by("pk").first())


def _severe_report(demo, patient) -> Alert:  # type: ignore[no-untyped-def]
    esas = Instrument.objects.get(code="esas-r")
    result = monitoring.report_submit(actor=actor_for_user(demo["oncologist"]), patient=patient, instrument=esas,
                                      answers=SEVERE_PAIN, source="phone")
    assert result.alert is not None
    return result.alert


def _is_member_today(patient_id: int, user: User) -> bool:
    return CareTeamParticipant.objects.filter(current_participant_q(), care_team__patient_id=patient_id,
                                              user=user, care_team__status="active").exists()


# --- 2. routing after a caseload reassignment -------------------------------------------------------------


def test_after_caseload_reassignment_everything_routes_to_the_new_navigator(demo):
    grace, daniel = demo["navigator"], demo["navigator2"]
    episode = _graces_episode(demo)
    patient = episode.patient
    with TestCase.captureOnCommitCallbacks(execute=True):
        already_open = _severe_report(demo, patient)
    assert already_open.assigned_to_id == grace.pk
    thread = Thread.objects.create(kind=ThreadKind.PATIENT, organization=_lead(), patient=patient, subject="Q",
                                   created_at=already_open.created_at, last_message_at=already_open.created_at)
    ThreadParticipant.objects.create(thread=thread, user=grace, role=ParticipantRole.NAVIGATOR,
                                     joined_at=already_open.created_at)

    result = services.caseload_reassign(actor=actor_for_user(demo["clp"]), organization_id=_lead().pk,
                                        from_user_id=grace.pk, to_user_id=daniel.pk, note="Grace on leave")
    assert result.episodes and result.alerts >= 1 and result.threads >= 1

    # The alert open at reassignment is Daniel's now; so is a new one, and its notice goes to Daniel.
    assert Alert.objects.get(pk=already_open.pk).assigned_to_id == daniel.pk
    mail.outbox.clear()
    with TestCase.captureOnCommitCallbacks(execute=True):
        new = _severe_report(demo, patient)
    assert new.assigned_to_id == daniel.pk
    assert [m.to for m in mail.outbox] == [[daniel.email]]
    mine = alert_selectors.alert_worklist_for(actor_for_user(daniel), mine_only=True)
    assert {already_open.pk, new.pk} <= {a.pk for a in mine}
    assert not {already_open.pk, new.pk} & {a.pk for a in alert_selectors.alert_worklist_for(
        actor_for_user(grace), mine_only=True)}
    # Grace left the care team today; Daniel is on it; messages route to Daniel.
    assert not _is_member_today(patient.pk, grace) and _is_member_today(patient.pk, daniel)
    assert navigators_for(patient) == [daniel.pk]
    assert ThreadParticipant.objects.get(thread=thread, user=daniel).notify
    assert not ThreadParticipant.objects.get(thread=thread, user=grace).notify
    assert not Task.objects.filter(owner=grace, patient=patient, status__in=TASK_OPEN).exists()
    # Daniel's worklist counts the patient's alerts; the care-team page lists one navigator.
    wl = selectors.worklist_for(actor_for_user(daniel))
    assert {already_open.pk, new.pk} <= {a.pk for a in wl.alerts}
    assert NavigatorHandoff.objects.filter(episode=episode, from_navigator=grace, to_navigator=daniel,
                                           note="Grace on leave").exists()


def test_care_team_page_lists_only_the_current_navigator(demo, client):
    episode = _graces_episode(demo)
    services.patients_hand_off(actor=actor_for_user(demo["clp"]), episode_ids=[episode.pk],
                               to_user_id=demo["navigator2"].pk, note="Daniel takes over")
    client.force_login(demo["clp"])
    html = client.get(reverse("programs:detail", args=[episode.pk])).content.decode()
    team = html[html.index('id="team-title"'):html.index("</section>", html.index('id="team-title"'))]
    assert demo["navigator2"].display_name in team and demo["navigator"].display_name not in team
    assert "Daniel takes over" in html
    # Grace's home lists the patients she is a care-team member of today, Daniel's the handed-off patient.
    for user, listed in ((demo["navigator"], False), (demo["navigator2"], True)):
        client.force_login(user)
        home = client.get("/")
        assert (episode.patient_id in {p.pk for p in home.context["my_patients"]}) is listed


# --- 13. hand-off of one patient or several --------------------------------------------------------------


def test_a_navigator_hands_one_patient_to_a_peer_with_a_note(demo, client):
    grace, daniel = demo["navigator"], demo["navigator2"]
    episode = _graces_episode(demo)
    others = ProgramEpisode.objects.filter(navigator=grace, status__in=OPEN_EPISODE_STATUSES).exclude(pk=episode.pk)
    others_before = others.count()
    client.force_login(grace)
    url = reverse("worklists:handoff")
    # A note is required, and nothing changes without one.
    r = client.post(url, {"navigator": grace.pk, "patients": [episode.patient_id], "to_user": daniel.pk, "note": ""})
    assert r.status_code == 422 and "hand-off note" in r.content.decode()
    assert ProgramEpisode.objects.get(pk=episode.pk).navigator_id == grace.pk
    r = client.post(url, {"navigator": grace.pk, "patients": [episode.patient_id], "to_user": daniel.pk,
                          "note": "Awaiting PET result; call Tuesday"})
    assert r.status_code == 302
    assert ProgramEpisode.objects.get(pk=episode.pk).navigator_id == daniel.pk
    assert others.count() == others_before  # only the one patient moved
    assert AuditEvent.objects.filter(resource_type="EpisodeOfCare", resource_id=str(episode.pk),
                                     detail=f"navigator {grace.pk} -> {daniel.pk}").exists()
    client.force_login(daniel)
    html = client.get(reverse("worklists:worklist")).content.decode()
    assert "Handed to you" in html and "Awaiting PET result; call Tuesday" in html


def test_the_clp_hands_off_several_patients_and_other_navigators_may_not(demo):
    grace, daniel = demo["navigator"], demo["navigator2"]
    episodes = list(ProgramEpisode.objects.filter(navigator=grace, status__in=OPEN_EPISODE_STATUSES)
                    .order_by("pk").values_list("pk", flat=True)[:2])
    assert len(episodes) == 2
    # Daniel may not take Grace's patients himself, nor the partner hospital's physician.
    with pytest.raises(Forbidden):
        services.patients_hand_off(actor=actor_for_user(daniel), episode_ids=episodes, to_user_id=daniel.pk,
                                   note="mine now")
    with pytest.raises(ValidationFailed):
        services.patients_hand_off(actor=actor_for_user(demo["partnerdoc"]), episode_ids=episodes,
                                   to_user_id=daniel.pk, note="x")
    with pytest.raises(ValidationFailed) as exc:
        services.patients_hand_off(actor=actor_for_user(demo["clp"]), episode_ids=episodes,
                                   to_user_id=demo["oncologist"].pk, note="x")
    assert "to_user" in exc.value.field_errors
    assert set(ProgramEpisode.objects.filter(pk__in=episodes).values_list("navigator_id", flat=True)) == {grace.pk}
    result = services.patients_hand_off(actor=actor_for_user(demo["clp"]), episode_ids=episodes,
                                        to_user_id=daniel.pk, note="Balancing caseloads")
    assert result.episodes == 2
    assert set(ProgramEpisode.objects.filter(pk__in=episodes).values_list("navigator_id", flat=True)) == {daniel.pk}
    assert NavigatorHandoff.objects.filter(episode_id__in=episodes, by=demo["clp"]).count() == 2
