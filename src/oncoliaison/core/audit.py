"""Writing and verifying the audit chain.

Every helper joins the caller's transaction (or opens one), so the audit row commits or rolls back
with the change it records.  Rows carry ids, never names or identifiers of patients.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import cast

from django.db import connections, router, transaction

from . import bulk, clock
from .actor import Actor
from .crypto import audit_hmac_key
from .models import AuditAction, AuditChainHead, AuditEvent, AuditOutcome

GENESIS = "0" * 64
_FIELDS = (
    "seq",
    "recorded_at",
    "user_id",
    "username",
    "client_id",
    "role",
    "organization_id",
    "patient_id",
    "action",
    "category",
    "resource_type",
    "resource_id",
    "outcome",
    "source_address",
    "channel",
    "detail",
    "prev_hash",
)


def _canonical_values(values: Iterable[object]) -> bytes:
    """The hashed text: the ``_FIELDS`` values in order, joined by the unit separator."""
    parts = []
    for value in values:
        if isinstance(value, dt.datetime):
            value = value.isoformat(timespec="microseconds")
        parts.append("" if value is None else str(value))
    return "\x1f".join(parts).encode()


def _canonical(event: AuditEvent) -> bytes:
    return _canonical_values(getattr(event, name) for name in _FIELDS)


def compute_hash(event: AuditEvent) -> str:
    return hmac.new(audit_hmac_key(), _canonical(event), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Entry:
    action: str
    category: str = ""
    resource_type: str = ""
    resource_id: str | int = ""
    patient_id: int | None = None
    outcome: str = AuditOutcome.SUCCESS
    detail: str = ""


_COLUMNS = (*_FIELDS, "hash")


def record(actor: Actor, entries: Iterable[Entry], *, channel: str = "") -> None:
    """Append entries for ``actor`` in one locked step of the chain."""
    entries = list(entries)
    if not entries:
        return
    now = clock.now()
    key = audit_hmac_key()
    user = (actor.user_id, actor.username[:150], actor.client_id or "", actor.primary_role[:32],
            actor.primary_organization_id)
    source = actor.source_address[:64]
    with transaction.atomic():
        head = AuditChainHead.objects.select_for_update().filter(pk=1).first()
        if head is None:
            head = AuditChainHead.objects.create(pk=1)
        seq, prev = head.last_seq, head.last_hash
        rows: list[tuple[object, ...]] = []
        for e in entries:
            seq += 1
            # In _FIELDS order.
            values = (seq, now, *user, e.patient_id, e.action, e.category, e.resource_type,
                      str(e.resource_id)[:64], e.outcome, source, channel, e.detail[:300], prev)
            prev = hmac.new(key, _canonical_values(values), hashlib.sha256).hexdigest()
            rows.append((*values, prev))
        _insert(rows)
        AuditChainHead.objects.filter(pk=1).update(last_seq=seq, last_hash=prev)


def _insert(rows: list[tuple[object, ...]]) -> None:
    # The stored timestamp in the database's own form (the hash covers the Python value, read back equal).
    at = connections[router.db_for_write(AuditEvent)].ops.adapt_datetimefield_value
    bulk.insert_rows(AuditEvent, _COLUMNS, [(row[0], at(cast(dt.datetime, row[1])), *row[2:]) for row in rows])


def log(
    actor: Actor,
    action: str,
    *,
    category: str = "",
    resource_type: str = "",
    resource_id: str | int = "",
    patient_id: int | None = None,
    outcome: str = AuditOutcome.SUCCESS,
    detail: str = "",
    channel: str = "",
) -> None:
    record(
        actor,
        [Entry(action, category, resource_type, resource_id, patient_id, outcome, detail)],
        channel=channel,
    )


def log_patients_read(
    actor: Actor,
    patient_ids: Iterable[int],
    *,
    category: str,
    resource_type: str,
    action: str = AuditAction.READ,
    channel: str = "",
) -> None:
    """One row per patient whose data a page, search or export disclosed."""
    record(
        actor,
        [Entry(action, category, resource_type, pid, pid) for pid in dict.fromkeys(patient_ids)],
        channel=channel,
    )


# --- verification ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class VerifyProblem:
    seq: int
    event_id: int | None
    reason: str

    def __str__(self) -> str:
        ident = f" (id {self.event_id})" if self.event_id is not None else ""
        return f"audit record seq {self.seq}{ident}: {self.reason}"


def _iter_events() -> Iterator[AuditEvent]:
    return AuditEvent.objects.order_by("id").iterator(chunk_size=5000)


def verify_chain() -> tuple[int, VerifyProblem | None]:
    """Walk the chain in insertion order; return (records checked, first problem or None)."""
    expected_seq, prev = 1, GENESIS
    count = 0
    for ev in _iter_events():
        if ev.seq != expected_seq:
            if ev.seq > expected_seq:
                return count, VerifyProblem(
                    expected_seq, None, f"missing: deleted before record seq {ev.seq} (id {ev.id})"
                )
            return count, VerifyProblem(ev.seq, ev.id, "out of order: sequence number repeated or moved")
        if ev.prev_hash != prev:
            return count, VerifyProblem(ev.seq, ev.id, "chain broken: previous-hash does not match (reordered or re-sealed)")
        if compute_hash(ev) != ev.hash:
            return count, VerifyProblem(ev.seq, ev.id, "edited: content does not match its hash")
        prev, expected_seq = ev.hash, expected_seq + 1
        count += 1
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is not None and (head.last_seq != count or head.last_hash != prev):
        return count, VerifyProblem(
            count + 1, None, f"missing: the log should end at seq {head.last_seq} but ends at seq {count}"
        )
    return count, None
