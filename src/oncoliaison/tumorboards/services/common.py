"""What every tumor-board service shares: the audit row, the version check, the coordinator rule and
notices (in-app rows now, e-mail after commit)."""


from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction

from oncoliaison.core import audit
from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import Forbidden, PreconditionFailed

from ..models import (
    BoardCase,
    BoardNotice,
    ConferenceSeries,
    Meeting,
)
from ..selectors import (
    CATEGORY,
    may_coordinate,
)


def log_event(actor: Actor, action: str, resource_type: str, pk: int, patient_id: int | None, detail: str,
         channel: str) -> None:
    audit.log(actor, action, category=CATEGORY, resource_type=resource_type, resource_id=pk, patient_id=patient_id,
              detail=detail, channel=channel)


def check_version(current: int, expected: int | None) -> None:
    if expected is not None and expected != current:
        raise PreconditionFailed(
            f"Someone else changed this in the meantime (version {current}, yours {expected}). Reload and try again.")


def require_coordinator(actor: Actor, series: ConferenceSeries) -> None:
    if not may_coordinate(actor, series):
        raise Forbidden("Only the coordinator of this series (or the program's CLP) can do this.")


def notify(user_ids: Sequence[int | None], kind: str, meeting: Meeting, case: BoardCase | None = None) -> None:
    rows = [BoardNotice(user_id=uid, kind=kind, meeting=meeting, case=case) for uid in dict.fromkeys(user_ids) if uid]
    if rows:
        BoardNotice.objects.bulk_create(rows)
        ids = [r.user_id for r in rows]
        transaction.on_commit(lambda: _send_email(ids, kind, meeting.pk))


def _send_email(user_ids: list[int], kind: str, meeting_id: int) -> None:
    from ..tasks import send_notices

    send_notices.enqueue(user_ids, kind, meeting_id)
