"""Secure-message pages: inbox, thread with htmx reply, new thread; access and bad input."""

from __future__ import annotations

import re

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from oncoliaison.messaging import services
from oncoliaison.messaging.models import Attachment, Message, Thread, ThreadKind, ThreadParticipant
from oncoliaison.patients.selectors import access_patient
from oncoliaison.testing import Cast


def _client(user) -> Client:  # type: ignore[no-untyped-def]
    c = Client()
    c.force_login(user)
    return c


def _stable(content: bytes) -> str:
    text = re.sub(r'"X-CSRFToken": "[^"]+"', "", content.decode())
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", text)


def _thread(cast: Cast) -> Thread:
    actor = cast.actor(cast.patient_user)
    return services.thread_start(actor=actor, kind=ThreadKind.PATIENT, subject="Nausea after chemo",
                                 body="Feeling sick since Tuesday", patient=access_patient(actor, cast.pat.pk))


def test_patient_writes_to_the_team_with_an_attachment(cast: Cast) -> None:
    c = _client(cast.patient_user)
    assert c.get(reverse("messaging:new")).status_code == 200
    upload = SimpleUploadedFile("letter.pdf", b"%PDF-1.4 test", content_type="application/pdf")
    r = c.post(reverse("messaging:new"), {"subject": "Letter", "body": "See the letter", "attachments": [upload]})
    assert r.status_code == 302
    thread = Thread.objects.get()
    assert r.url == reverse("messaging:thread", args=[thread.pk])
    a = Attachment.objects.get()
    assert (a.name, a.content_type, a.size) == ("letter.pdf", "application/pdf", 13)
    assert ThreadParticipant.objects.filter(thread=thread, user=cast.navigator, role="navigator").exists()


def test_new_thread_bad_input_is_a_clear_error_and_no_change(cast: Cast) -> None:
    c = _client(cast.patient_user)
    r = c.post(reverse("messaging:new"), {"subject": "", "body": ""})
    assert r.status_code == 400 and "There is a problem" in r.content.decode()
    bad = SimpleUploadedFile("x.exe", b"MZ", content_type="application/x-msdownload")
    r = c.post(reverse("messaging:new"), {"subject": "S", "body": "B", "attachments": [bad]})
    assert r.status_code == 400 and "PDF, Word" in r.content.decode()
    assert not Thread.objects.exists()


def test_navigator_inbox_unread_then_read_on_opening(cast: Cast) -> None:
    thread = _thread(cast)
    c = _client(cast.navigator)
    inbox = c.get(reverse("messaging:inbox"))
    assert inbox.status_code == 200 and "Nausea after chemo" in inbox.content.decode()
    assert "1 new" in inbox.content.decode()
    page = c.get(reverse("messaging:thread", args=[thread.pk]))
    assert page.status_code == 200 and "Feeling sick since Tuesday" in page.content.decode()
    assert page.headers["Cache-Control"] == "no-store"
    assert "1 new" not in c.get(reverse("messaging:inbox")).content.decode()
    # The patient sees the read receipt.
    mine = _client(cast.patient_user).get(reverse("messaging:thread", args=[thread.pk])).content.decode()
    assert "Read by Grace Navigator" in mine


def test_reply_with_htmx_returns_the_conversation_partial(cast: Cast) -> None:
    thread = _thread(cast)
    c = _client(cast.navigator)
    r = c.post(reverse("messaging:reply", args=[thread.pk]), {"body": "Try the anti-sickness tablets"},
               HTTP_HX_REQUEST="true")
    body = r.content.decode()
    assert r.status_code == 200 and body.lstrip().startswith('<div id="conversation">')
    assert "Try the anti-sickness tablets" in body and "<html" not in body
    assert Message.objects.filter(thread=thread).count() == 2
    empty = c.post(reverse("messaging:reply", args=[thread.pk]), {"body": " "}, HTTP_HX_REQUEST="true")
    assert empty.status_code == 200 and "There is a problem" in empty.content.decode()
    assert Message.objects.filter(thread=thread).count() == 2


def test_reply_without_javascript_redirects(cast: Cast) -> None:
    thread = _thread(cast)
    r = _client(cast.oncologist).post(reverse("messaging:reply", args=[thread.pk]), {"body": "Noted."})
    assert r.status_code == 302 and r.url == reverse("messaging:thread", args=[thread.pk])


def test_staff_start_a_staff_thread_about_a_patient(cast: Cast) -> None:
    c = _client(cast.navigator)
    url = reverse("messaging:new_for", args=[cast.pat.pk])
    page = c.get(url)
    assert page.status_code == 200 and "Sam Oncologist" in page.content.decode()
    assert "Olga" not in page.content.decode()
    r = c.post(url, {"kind": "staff", "participants": [cast.oncologist.pk], "subject": "Dose", "body": "Reduce?"})
    assert r.status_code == 302
    t = Thread.objects.get()
    assert t.kind == "staff" and t.patient == cast.pat
    assert _client(cast.patient_user).get(reverse("messaging:thread", args=[t.pk])).status_code == 404


def test_hides_other_organisations_same_404_as_missing(cast: Cast) -> None:
    thread = _thread(cast)
    c = _client(cast.outsider)
    hidden = c.get(reverse("messaging:thread", args=[thread.pk]))
    missing = c.get(reverse("messaging:thread", args=[999_999]))
    assert hidden.status_code == missing.status_code == 404
    assert _stable(hidden.content) == _stable(missing.content)
    assert c.post(reverse("messaging:reply", args=[thread.pk]), {"body": "hi"}).status_code == 404
    assert c.get(reverse("messaging:new_for", args=[cast.pat.pk])).status_code == 404
    assert "Nausea" not in c.get(reverse("messaging:inbox") + "?box=all").content.decode()
    assert Message.objects.count() == 1


def test_requires_the_right_role(cast: Cast) -> None:
    thread = _thread(cast)
    c = _client(cast.researcher)
    assert c.get(reverse("messaging:inbox")).status_code == 403
    assert c.get(reverse("messaging:thread", args=[thread.pk])).status_code == 403
    assert c.post(reverse("messaging:reply", args=[thread.pk]), {"body": "hi"}).status_code == 403
    assert Message.objects.count() == 1


def test_inbox_needs_sign_in(db) -> None:
    r = Client().get(reverse("messaging:inbox"))
    assert r.status_code == 302 and "/accounts/login/" in r.url


def test_attachment_content_is_never_kept_only_its_size(cast: Cast) -> None:
    from oncoliaison.messaging.uploads import MetadataOnlyUploadHandler

    big = SimpleUploadedFile("scan.pdf", b"%" * (3 * 1024 * 1024 + 7), content_type="application/pdf")
    r = _client(cast.patient_user).post(reverse("messaging:new"), {"subject": "Scan", "body": "Big", "attachments": [big]})
    assert r.status_code == 302
    assert Attachment.objects.get().size == 3 * 1024 * 1024 + 7
    handler = MetadataOnlyUploadHandler()
    handler.new_file("attachments", "a.pdf", "application/pdf", 3)
    assert handler.receive_data_chunk(b"abc", 0) is None
    kept = handler.file_complete(3)
    assert kept.size == 3 and kept.read() == b""


def test_csrf_is_still_enforced_with_the_upload_handler(cast: Cast) -> None:
    c = Client(enforce_csrf_checks=True)
    c.force_login(cast.patient_user)
    assert c.post(reverse("messaging:new"), {"subject": "S", "body": "B"}).status_code == 403
    thread = _thread(cast)
    assert c.post(reverse("messaging:reply", args=[thread.pk]), {"body": "B"}).status_code == 403
    assert Message.objects.count() == 1


def test_staff_inbox_has_a_new_message_button_that_asks_which_patient(cast: Cast, django_assert_max_num_queries) -> None:
    c = _client(cast.navigator)
    inbox = c.get(reverse("messaging:inbox")).content.decode()
    assert f'href="{reverse("messaging:new")}"' in inbox and "New message" in inbox
    with django_assert_max_num_queries(15):
        page = c.get(reverse("messaging:new"))  # nothing typed: the patients of their care teams
    assert page.status_code == 200
    assert reverse("messaging:new_for", args=[cast.pat.pk]) in page.content.decode()
    by_mrn = c.get(reverse("messaging:new"), {"q": "L-1001"}).content.decode()
    assert reverse("messaging:new_for", args=[cast.pat.pk]) in by_mrn
    # another organisation's patient is never offered, by name or by MRN
    for q in ("Otto", "P-2001"):
        assert reverse("messaging:new_for", args=[cast.other_patient.pk]) not in c.get(
            reverse("messaging:new"), {"q": q}).content.decode()
    assert _client(cast.researcher).get(reverse("messaging:new")).status_code == 403


def test_the_menu_shows_the_unread_count_on_every_page_until_read(cast: Cast, django_assert_max_num_queries) -> None:
    badge = '<span class="badge unread">1<span class="visually-hidden"> unread</span></span>'
    thread = _thread(cast)
    c = _client(cast.navigator)
    assert badge in c.get(reverse("home:home")).content.decode()
    assert badge in c.get(reverse("patients:list")).content.decode()
    assert badge not in _client(cast.outsider).get(reverse("home:home")).content.decode()  # not theirs to see
    c.get(reverse("messaging:thread", args=[thread.pk]))
    assert 'class="badge unread"' not in c.get(reverse("home:home")).content.decode()
    # The patient's menu counts the team's reply.
    services.message_post(actor=cast.actor(cast.navigator), thread=thread, body="Call us if it gets worse")
    assert '<span class="badge unread">1 unread</span>' in _client(cast.patient_user).get(reverse("portal:home")).content.decode()
