"""JSON API: secure messages (/api/messages/...)."""

from __future__ import annotations

from django.test import Client

from oncoliaison.core.models import AuditEvent
from oncoliaison.core.tests.test_api_auth import as_user, assert_error, bearer
from oncoliaison.messaging.models import Message, Thread
from oncoliaison.patients.models import Consent, ConsentKind
from oncoliaison.testing import Cast

QUESTION = "Is it normal to feel this tired after my second cycle?"


def _start(cast: Cast, user: object = None, **extra: object) -> object:
    body = {"subject": "Tiredness", "body": QUESTION, "patient_id": cast.pat.pk, **extra}
    return as_user(user or cast.patient_user).post("/api/messages/threads", body, content_type="application/json")


def test_patient_asks_and_the_navigator_answers(cast: Cast) -> None:
    response = _start(cast)
    assert response.status_code == 201, response.content  # type: ignore[attr-defined]
    thread = response.json()  # type: ignore[attr-defined]
    assert thread["kind"] == "patient" and thread["routed"] is True and thread["organization"] == "lead"
    assert {p["role"] for p in thread["participants"]} == {"patient", "navigator"}
    assert thread["messages"][0]["body"] == QUESTION
    navigator = as_user(cast.navigator)
    assert navigator.get("/api/messages/unread").json() == {"unread": 1}
    inbox = navigator.get("/api/messages/threads").json()
    assert [t["id"] for t in inbox] == [thread["id"]] and inbox[0]["unread"] == 1
    read = navigator.post(f"/api/messages/threads/{thread['id']}/read")
    assert read.status_code == 200
    assert navigator.get("/api/messages/unread").json() == {"unread": 0}
    reply = navigator.post(f"/api/messages/threads/{thread['id']}/messages", {"body": "Yes; let us talk."},
                           content_type="application/json")
    assert reply.status_code == 201, reply.content
    assert [m["author_role"] for m in reply.json()["messages"]] == ["patient", "staff"]
    assert as_user(cast.patient_user).get("/api/messages/unread").json() == {"unread": 1}
    rows = AuditEvent.objects.filter(category="messages", channel="api")
    assert rows.filter(action="create", resource_type="Thread", patient_id=cast.pat.pk).count() == 1
    assert rows.filter(action="create", resource_type="Message").count() == 1
    assert not AuditEvent.objects.filter(detail__icontains="tired").exists()  # no content in the audit log


def test_threads_hide_other_organisations(cast: Cast) -> None:
    thread = _start(cast).json()  # type: ignore[attr-defined]
    outsider = as_user(cast.outsider)
    for suffix, method, body in (("", "get", None), ("/messages", "post", {"body": "hi"}), ("/read", "post", None)):
        kwargs = {"content_type": "application/json", "data": body} if body else {}
        hidden = getattr(outsider, method)(f"/api/messages/threads/{thread['id']}{suffix}", **kwargs)
        missing = getattr(outsider, method)(f"/api/messages/threads/999999{suffix}", **kwargs)
        assert hidden.status_code == missing.status_code == 404 and hidden.content == missing.content
    assert outsider.get("/api/messages/threads").json() == []
    assert_error(_start(cast, cast.outsider), 404, "not-found")  # the patient is not theirs to see
    assert Message.objects.count() == 1


def test_messaging_requires_the_right_role_or_proxy_scope(cast: Cast) -> None:
    assert_error(as_user(cast.researcher).get("/api/messages/threads"), 403, "forbidden")
    assert_error(as_user(cast.caregiver).get("/api/messages/threads"), 403, "forbidden")  # view-only proxy
    assert_error(_start(cast, cast.caregiver), 403, "forbidden")
    assert_error(Client().get("/api/messages/threads", **bearer(cast.lead, "system/*.cruds")), 403, "forbidden")
    assert as_user(cast.researcher).get("/api/messages/unread").json() == {"unread": 0}
    Consent.objects.filter(kind=ConsentKind.CAREGIVER_PROXY).update(proxy_scope="message")
    response = _start(cast, cast.caregiver)
    assert response.status_code == 201, response.content  # type: ignore[attr-defined]
    assert response.json()["messages"][0]["author_role"] == "proxy"  # type: ignore[attr-defined]


def test_patient_cannot_write_about_someone_else(cast: Cast) -> None:
    response = _start(cast, patient_id=cast.other_patient.pk)
    assert_error(response, 404, "not-found")
    assert Thread.objects.count() == 0


def test_bad_input_is_422_and_nothing_changes(cast: Cast) -> None:
    before = (Thread.objects.count(), Message.objects.count(), AuditEvent.objects.count())
    assert_error(_start(cast, subject=" "), 422, "processing")
    assert_error(_start(cast, body=""), 422, "processing")
    assert_error(_start(cast, kind="gossip"), 422, "processing")
    assert_error(_start(cast, cast.navigator, kind="staff", participant_ids=[]), 422, "processing")
    assert (Thread.objects.count(), Message.objects.count()) == before[:2]


def test_staff_thread_with_a_colleague(cast: Cast) -> None:
    response = _start(cast, cast.navigator, kind="staff", participant_ids=[cast.oncologist.pk],
                      body="Can you see Pat this week?")
    assert response.status_code == 201, response.content  # type: ignore[attr-defined]
    thread = response.json()  # type: ignore[attr-defined]
    assert thread["kind"] == "staff"
    assert as_user(cast.oncologist).get(f"/api/messages/threads/{thread['id']}").status_code == 200
    assert_error(as_user(cast.patient_user).get(f"/api/messages/threads/{thread['id']}"), 404, "not-found")
    refused = _start(cast, cast.navigator, kind="staff", participant_ids=[cast.outsider.pk])
    assert_error(refused, 422, "processing")
