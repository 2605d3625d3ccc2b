"""The referrer's reply to a request for more information: a message and the documents asked for.

The files are stored through Django's storage API under random names (never the sent name), with their
SHA-256; their type is read from their first bytes.  One transaction: the referral returns to the queue
("Information received"), a history row and audit rows (the referral, each document) are written inside it.
A file stored before a refused or failed transaction is deleted again.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from django.core.files.base import File
from django.core.files.storage import default_storage
from django.db import transaction

from oncoliaison.core import audit, clock
from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import Forbidden, ValidationFailed
from oncoliaison.core.models import AuditAction

from . import rules
from .models import Referral, ReferralAttachment, ReferralStatus
from .services import audit_referral, history_add, referral_locked, status_move

MAX_REPLY_CHARS = 4000


@dataclass(frozen=True)
class ReplyFile:
    """An uploaded file as the door received it (a Django UploadedFile or any file object)."""

    name: str
    size: int
    content: File[bytes]


def may_reply(actor: Actor, referral: Referral) -> bool:
    """The referring clinician answers the program's request for information."""
    return (referral.status == ReferralStatus.INFO_REQUESTED and actor.kind == "staff"
            and actor.user_id is not None and actor.user_id == referral.referring_clinician_id)


def _checked(files: list[ReplyFile]) -> tuple[list[tuple[ReplyFile, str]], dict[str, list[str]]]:
    errors: dict[str, list[str]] = {}
    accepted: list[tuple[ReplyFile, str]] = []
    if len(files) > rules.MAX_REPLY_FILES:
        errors["documents"] = [f"Attach at most {rules.MAX_REPLY_FILES} files to one reply."]
        return [], errors
    for f in files:
        f.content.seek(0)
        head = f.content.read(2048)
        f.content.seek(0)
        content_type, problem = rules.reply_file_problem(f.name, f.size, head)
        if problem:
            errors.setdefault("documents", []).append(problem)
        else:
            accepted.append((f, content_type))
    return accepted, errors


def _store(referral_id: int, f: ReplyFile) -> tuple[str, str]:
    """(storage name, SHA-256) of the saved file."""
    digest = hashlib.sha256()
    f.content.seek(0)
    for chunk in iter(lambda: f.content.read(64 * 1024), b""):
        digest.update(chunk)
    f.content.seek(0)
    extension = f.name[f.name.rfind("."):].lower()
    name = default_storage.save(f"referrals/{referral_id}/{secrets.token_hex(16)}{extension}", f.content)
    return name, digest.hexdigest()


def referral_reply(*, actor: Actor, referral: Referral, message: str, files: list[ReplyFile],
                   expected_version: int | None = None, channel: str = "web") -> Referral:
    """The referrer replies (a message, documents, or both); the referral goes back to the triage queue."""
    if not may_reply(actor, referral):
        raise Forbidden("Only the referring clinician can reply, while the program is asking for information.")
    text = message.strip()
    accepted, errors = _checked(files)
    if not text and not files:
        errors.setdefault("message", []).append("Write a reply or attach the documents that were asked for.")
    if len(text) > MAX_REPLY_CHARS:
        errors.setdefault("message", []).append(f"Keep the reply under {MAX_REPLY_CHARS:,} characters.")
    if errors:
        raise ValidationFailed("The reply was not sent.", field_errors=errors)
    stored: list[str] = []
    try:
        saved = []
        for f, content_type in accepted:
            name, digest = _store(referral.pk, f)
            stored.append(name)
            saved.append((f, content_type, name, digest))
        with transaction.atomic():
            locked = referral_locked(referral, expected_version)
            previous = status_move(actor, locked, ReferralStatus.RECEIVED)
            now = clock.now()
            locked.info_reply_message = text
            locked.version += 1
            locked.save()
            for f, content_type, name, digest in saved:
                doc = ReferralAttachment.objects.create(
                    referral=locked, name=f.name[-200:], content_type=content_type, size_bytes=f.size, file=name,
                    sha256=digest, uploaded_by_id=actor.user_id, uploaded_at=now,
                    description="Sent with the reply to the request for information")
                audit.log(actor, AuditAction.CREATE, category="referral", resource_type="DocumentReference",
                          resource_id=doc.pk, patient_id=locked.patient_id, channel=channel)
            note = text if not saved else f"{text}\n{len(saved)} document(s) attached.".strip()
            history_add(locked, actor, previous, locked.status, "referrer_replied", note, at=now)
            audit_referral(actor, AuditAction.UPDATE, locked, f"referrer replied with {len(saved)} document(s)", channel)
    except BaseException:
        for name in stored:
            default_storage.delete(name)
        raise
    return locked
