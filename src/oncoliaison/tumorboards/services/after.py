"""After the meeting: the patient's plain-language summary, addenda, concordance, notices read."""


from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db import transaction
from django.db.models import Q

from oncoliaison.accounts.services import system_actor
from oncoliaison.core import clock
from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from oncoliaison.core.models import AuditAction
from oncoliaison.core.roles import Role
from oncoliaison.oncology.selectors import cancer_record_for

from .. import rules
from ..models import (
    Addendum,
    BoardCase,
    BoardNotice,
    CaseStatus,
    Concordance,
    MeetingStatus,
    Recommendation,
    SummaryStatus,
)
from .common import check_version, log_event, require_coordinator

# --- after the meeting --------------------------------------------------------------------------------------


def _require_navigator(actor: Actor, case: BoardCase) -> None:
    roles = actor.roles_in(case.patient.organization_id) | actor.roles_in(case.meeting.series.organization_id)
    if not roles & {Role.NAVIGATOR, Role.CLP}:
        raise Forbidden("A navigator (or the CLP) reviews and releases the patient's summary.")


def draft_summary(case: BoardCase) -> str:
    """A plain-language starting point for the navigator: what the team discussed and recommends."""
    lines = [f"Your care team met on {case.meeting.starts_at:%B %-d, %Y} to review your care together."]
    recs = list(case.recommendations.order_by("pk"))
    if recs:
        lines.append("The team recommends:")
        lines += [f"- {r.get_kind_display()}: {r.description}" for r in recs]
    if case.trial_discussed:
        lines.append("The team also talked about whether a clinical trial could be right for you.")
    lines.append("Your care team will talk with you about these recommendations and answer your questions.")
    return "\n".join(lines)


def summary_save(*, actor: Actor, case: BoardCase, text: str, expected_version: int | None = None,
                 channel: str = "web") -> BoardCase:
    _require_navigator(actor, case)
    check_version(case.version, expected_version)
    if case.status != CaseStatus.DISCUSSED:
        raise Conflict("A summary is written after the case is discussed.")
    if case.summary_status == SummaryStatus.RELEASED:
        raise Conflict("The summary was released to the patient; a correction is an addendum.")
    if not text.strip():
        raise ValidationFailed("The summary is empty.", field_errors={"summary": ["Write the summary."]})
    with transaction.atomic():
        case.summary = text.strip()
        case.summary_status = SummaryStatus.DRAFT
        case.version += 1
        case.save()
        log_event(actor, AuditAction.UPDATE, "Composition", case.pk, case.patient_id, "summary draft", channel)
    return case


def summary_release(*, actor: Actor, case: BoardCase, expected_version: int | None = None,
                    channel: str = "web") -> BoardCase:
    _require_navigator(actor, case)
    check_version(case.version, expected_version)
    if case.summary_status != SummaryStatus.DRAFT or not case.summary.strip():
        raise Conflict("Save the summary before releasing it.")
    with transaction.atomic():
        case.summary_status = SummaryStatus.RELEASED
        case.summary_released_by_id = actor.user_id
        case.summary_released_at = clock.now()
        case.version += 1
        case.save()
        log_event(actor, AuditAction.UPDATE, "Composition", case.pk, case.patient_id, "summary released", channel)
    return case


def addendum_add(*, actor: Actor, case: BoardCase, text: str, channel: str = "web") -> Addendum:
    if actor.user_id is None or not actor.patient_care_organization_ids:
        raise Forbidden("Addenda are written by the care team.")
    if case.packet_frozen_at is None:
        raise Conflict("The meeting is still open: change the record itself.")
    if not text.strip():
        raise ValidationFailed("The addendum is empty.", field_errors={"text": ["Write the addendum."]})
    with transaction.atomic():
        row = Addendum.objects.create(case=case, author_id=actor.user_id, written_at=clock.now(), text=text.strip())
        # The board's review of the case (its Composition) is amended: a new version of the case record.
        case.version += 1
        case.save(update_fields=["version", "updated_at"])
        log_event(actor, AuditAction.CREATE, "BoardCase", case.pk, case.patient_id, "addendum", channel)
    return row


def concordance_refresh(*, actor: Actor, case: BoardCase, channel: str = "web") -> int:
    """Derive each recommendation's concordance from the treatments in the record (manual overrides stay)."""
    record = cancer_record_for(actor, case.patient_id, channel=channel)
    treatments = [rules.Treatment(kind=t.kind, started=t.when, label=t.label) for t in record.timeline]
    day = case.meeting.starts_at.date()
    changed = 0
    with transaction.atomic():
        for rec in case.recommendations.filter(concordance_manual=False):
            result = rules.concordance(rec.kind, meeting_day=day, today=clock.today(), treatments=treatments)
            if (rec.concordance, rec.concordance_evidence) != (result.value, result.evidence):
                changed += 1
            Recommendation.objects.filter(pk=rec.pk).update(
                concordance=result.value, concordance_evidence=result.evidence[:300],
                concordance_checked_at=clock.now())
        if changed:
            log_event(actor, AuditAction.UPDATE, "BoardCase", case.pk, case.patient_id, "concordance derived", channel)
    return changed


def concordance_override(*, actor: Actor, recommendation: Recommendation, value: str, reason: str,
                         channel: str = "web") -> Recommendation:
    case = recommendation.case
    require_coordinator(actor, case.meeting.series)
    if value not in Concordance.values:
        raise ValidationFailed(f"Concordance must be one of: {', '.join(Concordance.values)}.")
    if not reason.strip():
        raise ValidationFailed("Say why the derived value is overridden.", field_errors={"reason": ["Give a reason."]})
    with transaction.atomic():
        recommendation.concordance = value
        recommendation.concordance_manual = True
        recommendation.concordance_reason = reason.strip()[:300]
        recommendation.concordance_checked_at = clock.now()
        recommendation.save()
        log_event(actor, AuditAction.UPDATE, "ServiceRequest", recommendation.pk, case.patient_id,
             f"concordance {value} (manual)", channel)
    return recommendation


def notices_mark_read(*, actor: Actor, notice_ids: Sequence[int] | None = None) -> int:
    if actor.user_id is None:
        return 0
    qs = BoardNotice.objects.filter(user_id=actor.user_id, read_at__isnull=True)
    if notice_ids is not None:
        qs = qs.filter(pk__in=notice_ids)
    return qs.update(read_at=clock.now())


CONCORDANCE_RECHECK = dt.timedelta(days=1)
CONCORDANCE_BATCH = 100
CONCORDANCE_CLIENT = "tumor-board-concordance"


def concordance_refresh_due(now: dt.datetime, *, limit: int = CONCORDANCE_BATCH) -> int:
    """The daily check: cases of held meetings with a recommendation whose concordance is still open (not
    set by hand) and not checked for a day are derived again from the record.  The job reads each record
    as the series' program (a system actor: the reads are audited as the job's); returns how many cases."""
    stale = Q(concordance_checked_at__isnull=True) | Q(concordance_checked_at__lt=now - CONCORDANCE_RECHECK)
    case_ids = list(Recommendation.objects.filter(stale, concordance=Concordance.PENDING, concordance_manual=False,
                                                  case__meeting__status=MeetingStatus.HELD)
                    .order_by("case_id").values_list("case_id", flat=True).distinct()[:limit])
    actors: dict[int, Actor] = {}
    done = 0
    for case in BoardCase.objects.filter(pk__in=case_ids).select_related("meeting__series"):
        org = case.meeting.series.organization_id
        actor = actors.setdefault(org, system_actor(organization_id=org, client_id=CONCORDANCE_CLIENT, scopes=None,
                                                    username="job:tumor-board-concordance"))
        try:
            concordance_refresh(actor=actor, case=case, channel="job")
        except NotFound:  # the patient left the program's care (e.g. transferred): mark checked, try tomorrow
            case.recommendations.filter(concordance_manual=False).update(concordance_checked_at=now)
            continue
        done += 1
    return done
