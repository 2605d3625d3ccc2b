"""The referrer answers "More information requested": a message and the documents asked for, stored through
Django's storage, checked for size and type, audited, and visible to the triage navigator."""

from __future__ import annotations

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from oncoliaison.core.errors import Forbidden, ValidationFailed
from oncoliaison.core.models import AuditEvent
from oncoliaison.referrals import replies, rules, services
from oncoliaison.referrals.models import Referral, ReferralAttachment, ReferralStatus
from oncoliaison.testing import Cast

from .factories import provider_referral

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path
    settings.STORAGES = {**settings.STORAGES,
                         "default": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                                     "OPTIONS": {"location": str(tmp_path)}}}


def _asked(cast: Cast) -> Referral:
    r = provider_referral(cast)
    return services.referral_request_info(actor=cast.actor(cast.navigator), referral=r,
                                          message="Please send the pathology report.")


def _file(name: str, content: bytes) -> replies.ReplyFile:
    upload = SimpleUploadedFile(name, content)
    return replies.ReplyFile(name, len(content), upload)


def test_file_rules_read_the_type_from_the_content() -> None:
    assert rules.reply_file_problem("report.pdf", len(PDF), PDF) == ("application/pdf", "")
    assert rules.reply_file_problem("report.pdf", 10, b"MZ\x90\x00 not a pdf")[1] == (
        "report.pdf: the content is not a PDF file.")
    assert "only PDF, JPEG, PNG or plain-text" in rules.reply_file_problem("run.exe", 10, b"MZ")[1]
    assert "larger than 10 MB" in rules.reply_file_problem("big.pdf", 11 * 1024 * 1024, PDF)[1]
    assert rules.reply_file_problem("empty.txt", 0, b"")[1] == "empty.txt: the file is empty."


def test_referrer_replies_with_a_document_and_the_referral_returns_to_the_queue(cast: Cast) -> None:
    r = _asked(cast)
    r = replies.referral_reply(actor=cast.actor(cast.outsider), referral=r, message="Report attached.",
                               files=[_file("pathology.pdf", PDF)], expected_version=r.version)
    assert r.status == ReferralStatus.RECEIVED and r.info_reply_message == "Report attached."
    doc = ReferralAttachment.objects.get(referral=r)
    assert (doc.name, doc.content_type, doc.size_bytes, doc.uploaded_by_id) == (
        "pathology.pdf", "application/pdf", len(PDF), cast.outsider.pk)
    assert doc.file.name.startswith(f"referrals/{r.pk}/") and "pathology" not in doc.file.name
    with default_storage.open(doc.file.name, "rb") as stored:
        assert stored.read() == PDF
    assert r.history.filter(event="referrer_replied", by_user=cast.outsider).exists()
    assert AuditEvent.objects.filter(action="create", resource_type="DocumentReference",
                                     resource_id=str(doc.pk)).exists()


def test_bad_files_are_refused_with_a_reason_and_nothing_changes(cast: Cast) -> None:
    r = _asked(cast)
    with pytest.raises(ValidationFailed) as caught:
        replies.referral_reply(actor=cast.actor(cast.outsider), referral=r, message="",
                               files=[_file("scan.pdf", b"<html>not a pdf</html>"), _file("ok.pdf", PDF)])
    assert caught.value.field_errors == {"documents": ["scan.pdf: the content is not a PDF file."]}
    assert Referral.objects.get(pk=r.pk).status == ReferralStatus.INFO_REQUESTED
    assert not ReferralAttachment.objects.exists()
    with pytest.raises(ValidationFailed):
        replies.referral_reply(actor=cast.actor(cast.outsider), referral=r, message=" ", files=[])


def test_only_the_referrer_replies_and_only_when_asked(cast: Cast) -> None:
    r = _asked(cast)
    with pytest.raises(Forbidden):
        replies.referral_reply(actor=cast.actor(cast.navigator), referral=r, message="x", files=[])
    fresh = provider_referral(cast, given_name="Ivo", family_name="Lind")
    with pytest.raises(Forbidden):
        replies.referral_reply(actor=cast.actor(cast.outsider), referral=fresh, message="x", files=[])


def test_reply_page_and_the_navigator_downloads_the_document(client: Client, cast: Cast) -> None:
    r = _asked(cast)
    client.force_login(cast.outsider)
    page = client.get(reverse("referrals:detail", args=[r.pk])).content.decode()
    assert "Reply with the information asked for" in page
    bad = client.post(reverse("referrals:reply", args=[r.pk]), {
        "version": r.version, "message": "", "documents": [SimpleUploadedFile("notes.exe", b"MZ")]})
    assert bad.status_code == 400
    assert "notes.exe: only PDF, JPEG, PNG or plain-text files can be attached." in bad.content.decode()
    sent = client.post(reverse("referrals:reply", args=[r.pk]), {
        "version": r.version, "message": "Both reports attached.",
        "documents": [SimpleUploadedFile("pathology.pdf", PDF), SimpleUploadedFile("note.txt", b"CT: 3 cm mass")]})
    assert sent.status_code == 302
    client.force_login(cast.navigator)
    page = client.get(reverse("referrals:detail", args=[r.pk])).content.decode()
    assert "Both reports attached." in page and "pathology.pdf" in page
    doc = ReferralAttachment.objects.get(name="pathology.pdf")
    response = client.get(reverse("referrals:attachment", args=[r.pk, doc.pk]))
    assert response.status_code == 200 and b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf" and "attachment" in response["Content-Disposition"]
    assert AuditEvent.objects.filter(action="read", resource_type="DocumentReference", resource_id=str(doc.pk),
                                     user_id=cast.navigator.pk).exists()
    client.force_login(cast.researcher)
    assert client.get(reverse("referrals:attachment", args=[r.pk, doc.pk])).status_code == 404
