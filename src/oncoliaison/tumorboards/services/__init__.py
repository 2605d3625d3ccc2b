"""The only writers of tumor boards: keyword-only ``actor``, one transaction, the audit row inside it,
notices after commit.  Care-plan tasks are made through ``careplans.services`` (never a second copy).

This package's modules follow the board's life: ``series`` (series, meetings, invitations), ``cases``
(submission, decisions, agenda, packet), ``meeting`` (presenter mode, attendance, discussion,
recommendations, closing), ``after`` (summary, addenda, concordance).  Callers import from here."""

from .after import (
    addendum_add,
    concordance_override,
    concordance_refresh,
    concordance_refresh_due,
    draft_summary,
    notices_mark_read,
    summary_release,
    summary_save,
)
from .cases import ATTACHMENT_KINDS, CaseData, agenda_order, case_decide, case_submit, packet_refresh
from .meeting import (
    AttendanceData,
    DiscussionData,
    RecommendationData,
    attendance_record,
    case_record_discussion,
    meeting_close,
    meeting_present,
    meeting_start,
    recommendation_add,
    recommendations_to_tasks,
)
from .series import (
    MeetingData,
    SeriesData,
    generated_room_link,
    invite,
    meeting_cancel,
    meeting_schedule,
    meetings_schedule_recurring,
    series_create,
    series_update,
)

__all__ = [
    "ATTACHMENT_KINDS",
    "AttendanceData",
    "CaseData",
    "DiscussionData",
    "MeetingData",
    "RecommendationData",
    "SeriesData",
    "addendum_add",
    "agenda_order",
    "attendance_record",
    "case_decide",
    "case_record_discussion",
    "case_submit",
    "concordance_override",
    "concordance_refresh",
    "concordance_refresh_due",
    "draft_summary",
    "generated_room_link",
    "invite",
    "meeting_cancel",
    "meeting_close",
    "meeting_present",
    "meeting_schedule",
    "meeting_start",
    "meetings_schedule_recurring",
    "notices_mark_read",
    "packet_refresh",
    "recommendation_add",
    "recommendations_to_tasks",
    "series_create",
    "series_update",
    "summary_release",
    "summary_save",
]
