"""JSON shapes of secure messages between patients (or their proxies) and the care team."""

from __future__ import annotations

from typing import Any

from ninja import Field, Schema

from oncoliaison.core.schemas import Bool, DateTime, Id, Int

from .models import ParticipantRole, ThreadKind


class MessageAttachmentOut(Schema):
    name: str
    content_type: str
    size: Int


class MessageOut(Schema):
    id: Id
    author_id: Id | None
    author_name: str
    author_role: ParticipantRole
    body: str
    created_at: DateTime
    attachments: list[MessageAttachmentOut]

    @staticmethod
    def resolve_author_name(obj: Any) -> str:
        return str(obj.author.display_name) if obj.author else ""

    @staticmethod
    def resolve_attachments(obj: Any) -> list[Any]:
        return list(obj.attachments.all())


class ThreadParticipantOut(Schema):
    user_id: Id
    display_name: str
    role: ParticipantRole
    last_read_message_id: Id | None
    last_read_at: DateTime | None

    @staticmethod
    def resolve_display_name(obj: Any) -> str:
        return str(obj.user.display_name)


class ThreadSummaryOut(Schema):
    id: Id
    kind: ThreadKind
    subject: str
    patient_id: Id | None
    organization: str
    created_at: DateTime
    last_message_at: DateTime
    routed: Bool = Field(..., description="False when no navigator could be found to route a patient's thread to")
    unread: Int = 0
    message_count: Int = 0

    @staticmethod
    def resolve_organization(obj: Any) -> str:
        return str(obj.organization.slug)


class ThreadOut(ThreadSummaryOut):
    participants: list[ThreadParticipantOut]
    messages: list[MessageOut]

    @staticmethod
    def resolve_participants(obj: Any) -> list[Any]:
        return list(obj.participants.all())

    @staticmethod
    def resolve_messages(obj: Any) -> list[Any]:
        return list(obj.messages.all())


class InboxFilter(Schema):
    box: str = Field("all", pattern="^(all|mine)$", description="all, or mine: threads I take part in")
    patient_id: Id | None = None


class ThreadIn(Schema):
    kind: ThreadKind = Field(ThreadKind.PATIENT, description="patient: with the patient; staff: among colleagues")
    subject: str = Field(..., min_length=1, pattern=r"\S", max_length=200)
    body: str = Field(..., min_length=1, pattern=r"\S", max_length=10000)
    patient_id: Id | None = Field(default=None, description="Required for a patient thread")
    participant_ids: list[Id] = Field(default_factory=list, description="Staff threads: the colleagues")


class MessageIn(Schema):
    body: str = Field(..., min_length=1, pattern=r"\S", max_length=10000)


class UnreadOut(Schema):
    unread: Int
