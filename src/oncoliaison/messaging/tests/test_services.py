"""Secure messages: routing, read receipts, notices without content, access and validation."""

from __future__ import annotations

import pytest
from django.core import mail

from oncoliaison.core.errors import Forbidden, NotFound, ValidationFailed
from oncoliaison.core.models import AuditEvent
from oncoliaison.messaging import selectors, services
from oncoliaison.messaging.models import Attachment, Message, Thread, ThreadKind, ThreadParticipant
from oncoliaison.messaging.services import AttachmentData
from oncoliaison.messaging.tasks import send_message_notices
from oncoliaison.organisations.models import Membership, Role
from oncoliaison.patients.models import CareTeamParticipant, Consent, ConsentKind, ProxyScope
from oncoliaison.patients.selectors import access_patient
from oncoliaison.testing import Cast

SECRET_BODY = "My tumour marker result worries me — CA-125 went up"


def _emails(cast: Cast) -> None:
    for user, email in ((cast.navigator, "grace@example.org"), (cast.oncologist, "sam@example.org"),
                        (cast.patient_user, "pat@example.org"), (cast.caregiver, "cara@example.org")):
        user.email = email
        user.save(update_fields=["email"])


def _patient_thread(cast: Cast, body: str = SECRET_BODY) -> Thread:
    actor = cast.actor(cast.patient_user)
    patient = access_patient(actor, cast.pat.pk)
    return services.thread_start(actor=actor, kind=ThreadKind.PATIENT, subject="Question about results",
                                 body=body, patient=patient)


def _give_message_scope(cast: Cast) -> None:
    Consent.objects.filter(grantee_user=cast.caregiver).update(proxy_scope=ProxyScope.MESSAGE)


# --- routing ---------------------------------------------------------------------------------------


def test_new_patient_thread_is_routed_to_the_care_team_navigator(cast: Cast) -> None:
    thread = _patient_thread(cast)
    roles = dict(ThreadParticipant.objects.filter(thread=thread).values_list("user_id", "role"))
    assert roles == {cast.patient_user.pk: "patient", cast.navigator.pk: "navigator"}
    assert thread.routed
    assert thread.organization_id == cast.lead.pk
    # The oncologist (not a navigator) is on the team but is not routed the thread...
    assert cast.oncologist.pk not in roles
    # ...yet sees it, being on the patient's care.
    assert selectors.thread_queryset_for(cast.actor(cast.oncologist)).filter(pk=thread.pk).exists()


def test_without_a_team_navigator_the_organisations_navigators_get_the_thread(cast: Cast) -> None:
    CareTeamParticipant.objects.filter(user=cast.navigator).delete()
    other_nav = Membership.objects.create(user=cast.admin, organization=cast.lead, role=Role.NAVIGATOR).user
    thread = _patient_thread(cast)
    routed = set(ThreadParticipant.objects.filter(thread=thread, role="navigator").values_list("user_id", flat=True))
    assert routed == {cast.navigator.pk, other_nav.pk}


def test_thread_without_any_navigator_is_marked_unrouted(cast: Cast) -> None:
    CareTeamParticipant.objects.filter(user=cast.navigator).delete()
    Membership.objects.filter(role=Role.NAVIGATOR, organization=cast.lead).delete()
    thread = _patient_thread(cast)
    assert not thread.routed
    assert selectors.thread_queryset_for(cast.actor(cast.oncologist)).filter(pk=thread.pk).exists()


# --- read receipts and unread counts ---------------------------------------------------------------


def test_read_receipts_and_unread_counts(cast: Cast) -> None:
    thread = _patient_thread(cast)
    nav = cast.actor(cast.navigator)
    pat = cast.actor(cast.patient_user)
    assert selectors.unread_count_for(nav) == 1
    assert selectors.unread_count_for(pat) == 0  # own message
    first = thread.messages.get()
    loaded = selectors.thread_get_for(nav, thread.pk)
    assert selectors.read_receipts(loaded)[first.pk] == []
    services.thread_mark_read(actor=nav, thread=thread)
    assert selectors.unread_count_for(nav) == 0
    loaded = selectors.thread_get_for(pat, thread.pk)
    assert [p.user_id for p in selectors.read_receipts(loaded)[first.pk]] == [cast.navigator.pk]
    # Marking again changes nothing and writes no second receipt.
    assert services.thread_mark_read(actor=nav, thread=thread) is None
    reply = services.message_post(actor=nav, thread=thread, body="I will call you this afternoon.")
    assert selectors.unread_count_for(pat) == 1
    inbox = selectors.thread_list_for(pat)
    assert inbox[0].unread == 1
    services.thread_mark_read(actor=pat, thread=thread)
    assert ThreadParticipant.objects.get(thread=thread, user=cast.patient_user).last_read_message_id == reply.pk


def test_a_staff_reader_joins_quietly(cast: Cast) -> None:
    thread = _patient_thread(cast)
    services.thread_mark_read(actor=cast.actor(cast.oncologist), thread=thread)
    p = ThreadParticipant.objects.get(thread=thread, user=cast.oncologist)
    assert p.notify is False and p.role == "staff"


# --- notices ---------------------------------------------------------------------------------------


def test_notice_email_never_contains_the_content(cast: Cast, django_capture_on_commit_callbacks) -> None:
    _emails(cast)
    with django_capture_on_commit_callbacks(execute=True):
        thread = _patient_thread(cast)
    assert len(mail.outbox) == 1
    notice = mail.outbox[0]
    assert notice.to == ["grace@example.org"]
    text = notice.subject + notice.body
    for secret in (SECRET_BODY, "CA-125", "Question about results", "Pat", "Patient", "Lead Cancer Program"):
        assert secret not in text
    assert f"/messages/{thread.pk}/" in notice.body
    assert "new secure message" in notice.subject


def test_notices_go_once_to_the_other_participants(cast: Cast, django_capture_on_commit_callbacks) -> None:
    _emails(cast)
    thread = _patient_thread(cast)
    with django_capture_on_commit_callbacks(execute=True):
        message = services.message_post(actor=cast.actor(cast.navigator), thread=thread, body="Calling you now.")
    assert [m.to for m in mail.outbox] == [["pat@example.org"]]
    # Running the task again (a retried job) sends nothing more.
    assert send_message_notices.call(message.pk, "") == 0
    assert len(mail.outbox) == 1


def test_revoked_proxy_gets_no_notice(cast: Cast, django_capture_on_commit_callbacks) -> None:
    _emails(cast)
    _give_message_scope(cast)
    cara = cast.actor(cast.caregiver)
    thread = services.thread_start(actor=cara, kind=ThreadKind.PATIENT, subject="Transport", body="Can we park?",
                                   patient=access_patient(cara, cast.pat.pk))
    Consent.objects.filter(grantee_user=cast.caregiver).update(status="inactive")
    with django_capture_on_commit_callbacks(execute=True):
        services.message_post(actor=cast.actor(cast.navigator), thread=thread, body="Yes, level 2.")
    assert "cara@example.org" not in [addr for m in mail.outbox for addr in m.to]
    assert "pat@example.org" in [addr for m in mail.outbox for addr in m.to]


# --- proxies ---------------------------------------------------------------------------------------


def test_view_only_proxy_cannot_message(cast: Cast) -> None:
    cara = cast.actor(cast.caregiver)
    patient = access_patient(cara, cast.pat.pk)
    with pytest.raises(Forbidden):
        services.thread_start(actor=cara, kind=ThreadKind.PATIENT, subject="Hi", body="Hello", patient=patient)
    with pytest.raises(Forbidden):
        selectors.thread_list_for(cara)
    thread = _patient_thread(cast)
    with pytest.raises(Forbidden):
        selectors.thread_get_for(cara, thread.pk)
    with pytest.raises(Forbidden):
        services.message_post(actor=cara, thread=thread, body="Me too")
    assert Message.objects.count() == 1


def test_report_scope_does_not_include_messages(cast: Cast) -> None:
    Consent.objects.filter(grantee_user=cast.caregiver).update(proxy_scope=ProxyScope.REPORT)
    with pytest.raises(Forbidden):
        selectors.thread_list_for(cast.actor(cast.caregiver))


def test_message_scope_proxy_sees_and_writes_then_loses_everything_on_revocation(cast: Cast) -> None:
    _give_message_scope(cast)
    thread = _patient_thread(cast)
    cara = cast.actor(cast.caregiver)
    assert [t.pk for t in selectors.thread_list_for(cara)] == [thread.pk]
    services.message_post(actor=cara, thread=thread, body="Writing for Pat.")
    assert Message.objects.filter(thread=thread, author=cast.caregiver, author_role="proxy").exists()
    Consent.objects.filter(grantee_user=cast.caregiver).update(status="inactive")
    assert not selectors.thread_queryset_for(cara).exists()
    with pytest.raises(Forbidden):
        selectors.thread_get_for(cara, thread.pk)


# --- staff-to-staff --------------------------------------------------------------------------------


def test_staff_thread_about_a_patient(cast: Cast) -> None:
    nav = cast.actor(cast.navigator)
    patient = access_patient(nav, cast.pat.pk)
    thread = services.thread_start(actor=nav, kind=ThreadKind.STAFF, subject="Tumour board?", body="Discuss Friday",
                                   patient=patient, participant_ids=[cast.oncologist.pk])
    assert selectors.thread_queryset_for(cast.actor(cast.oncologist)).filter(pk=thread.pk).exists()
    # The program administrator of the same organisation does not read clinical messages (minimum necessary).
    assert not selectors.thread_queryset_for(cast.actor(cast.admin)).filter(pk=thread.pk).exists()
    # The patient and their proxy never see staff threads.
    assert not selectors.thread_queryset_for(cast.actor(cast.patient_user)).filter(pk=thread.pk).exists()
    _give_message_scope(cast)
    assert not selectors.thread_queryset_for(cast.actor(cast.caregiver)).filter(pk=thread.pk).exists()


def test_staff_thread_refuses_colleagues_who_may_not_see_the_patient(cast: Cast) -> None:
    nav = cast.actor(cast.navigator)
    patient = access_patient(nav, cast.pat.pk)
    for colleague in (cast.outsider, cast.researcher, cast.patient_user):
        with pytest.raises(ValidationFailed) as exc:
            services.thread_start(actor=nav, kind=ThreadKind.STAFF, subject="S", body="B", patient=patient,
                                  participant_ids=[colleague.pk])
        assert "participants" in exc.value.field_errors
    with pytest.raises(ValidationFailed):
        services.thread_start(actor=nav, kind=ThreadKind.STAFF, subject="S", body="B", patient=patient)
    assert not Thread.objects.exists()


# --- access ----------------------------------------------------------------------------------------


def test_hides_other_organisations_same_404_as_missing(cast: Cast) -> None:
    thread = _patient_thread(cast)
    olga = cast.actor(cast.outsider)
    with pytest.raises(NotFound) as hidden:
        selectors.thread_get_for(olga, thread.pk)
    with pytest.raises(NotFound) as missing:
        selectors.thread_get_for(olga, 999_999)
    assert str(hidden.value) == str(missing.value)
    assert selectors.thread_list_for(olga) == []
    with pytest.raises(NotFound):
        services.message_post(actor=olga, thread=thread, body="Hello")
    with pytest.raises(NotFound):
        services.thread_mark_read(actor=olga, thread=thread)


def test_other_patient_cannot_see_the_thread(cast: Cast) -> None:
    thread = _patient_thread(cast)
    from oncoliaison.accounts.models import User

    otto_user = User.objects.create_user(username="otto", password="x", kind="patient")
    cast.other_patient.user = otto_user
    cast.other_patient.save()
    with pytest.raises(NotFound):
        selectors.thread_get_for(cast.actor(otto_user), thread.pk)


def test_requires_the_right_role_researcher_refused(cast: Cast) -> None:
    thread = _patient_thread(cast)
    rex = cast.actor(cast.researcher)
    with pytest.raises(Forbidden):
        selectors.thread_list_for(rex)
    with pytest.raises(Forbidden):
        selectors.thread_get_for(rex, thread.pk)
    with pytest.raises(Forbidden):
        services.thread_start(actor=rex, kind=ThreadKind.STAFF, subject="S", body="B",
                              participant_ids=[cast.navigator.pk])


def test_reads_and_writes_are_audited(cast: Cast) -> None:
    before = AuditEvent.objects.count()
    thread = _patient_thread(cast)
    selectors.thread_get_for(cast.actor(cast.navigator), thread.pk)
    rows = list(AuditEvent.objects.filter(category="messages").order_by("seq"))
    assert [(r.action, r.resource_type, r.patient_id) for r in rows] == [
        ("create", "Thread", cast.pat.pk), ("read", "Thread", cast.pat.pk)]
    assert AuditEvent.objects.count() > before
    assert all(SECRET_BODY not in r.detail for r in rows)


# --- bad input -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("subject", "body", "attachments", "field"),
    [
        ("", "Hello", [], "subject"),
        ("Hi", "   ", [], "body"),
        ("x" * 201, "Hello", [], "subject"),
        ("Hi", "x" * 10_001, [], "body"),
        ("Hi", "Hello", [AttachmentData("virus.exe", "application/x-msdownload", 10)], "attachments"),
        ("Hi", "Hello", [AttachmentData("scan.pdf", "application/pdf", 60 * 1024 * 1024)], "attachments"),
    ],
)
def test_bad_input_is_refused_with_a_clear_error_and_no_change(cast: Cast, subject, body, attachments, field) -> None:
    actor = cast.actor(cast.patient_user)
    with pytest.raises(ValidationFailed) as exc:
        services.thread_start(actor=actor, kind=ThreadKind.PATIENT, subject=subject, body=body,
                              patient=access_patient(actor, cast.pat.pk), attachments=attachments)
    assert field in exc.value.field_errors
    assert not Thread.objects.exists() and not Message.objects.exists()


def test_attachment_metadata_is_recorded(cast: Cast) -> None:
    actor = cast.actor(cast.patient_user)
    thread = services.thread_start(
        actor=actor, kind=ThreadKind.PATIENT, subject="Scan", body="Here is my scan report",
        patient=access_patient(actor, cast.pat.pk),
        attachments=[AttachmentData("report.pdf", "application/pdf", 123_456)],
    )
    a = Attachment.objects.get(message__thread=thread)
    assert (a.name, a.content_type, a.size) == ("report.pdf", "application/pdf", 123_456)


def test_patient_cannot_start_a_thread_for_someone_else(cast: Cast) -> None:
    actor = cast.actor(cast.patient_user)
    with pytest.raises(Forbidden):
        services.thread_start(actor=actor, kind=ThreadKind.PATIENT, subject="S", body="B",
                              patient=cast.other_patient)
    with pytest.raises(Forbidden):
        services.thread_start(actor=actor, kind=ThreadKind.STAFF, subject="S", body="B", patient=cast.pat,
                              participant_ids=[cast.navigator.pk])
    assert not Thread.objects.exists()


def test_inbox_query_budget(cast: Cast, django_assert_max_num_queries) -> None:
    for i in range(5):
        _patient_thread(cast, body=f"Question {i}")
    nav = cast.actor(cast.navigator)
    with django_assert_max_num_queries(8):
        threads = selectors.thread_list_for(nav)
        assert len(threads) == 5 and all(t.unread == 1 for t in threads)
    assert ConsentKind  # keep the import for readers of the cast


def test_notice_is_in_the_patients_language(cast: Cast, django_capture_on_commit_callbacks) -> None:
    _emails(cast)
    cast.pat.preferred_language = "es"
    cast.pat.save()
    thread = _patient_thread(cast)
    with django_capture_on_commit_callbacks(execute=True):
        services.message_post(actor=cast.actor(cast.navigator), thread=thread, body="Hola")
    assert mail.outbox[0].subject == "Tiene un nuevo mensaje seguro"
    assert "Hola" not in mail.outbox[0].body
