"""Writing and verifying the audit chain.

Every helper joins the caller's transaction (or opens one), so the audit row commits or rolls back
with the change it records.  Rows carry ids, never names or identifiers of patients.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from typing import cast

from django.db import connections, router, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from . import bulk, clock
from .actor import Actor
from .crypto import audit_hmac_key
from .models import AuditAction, AuditChainHead, AuditEvent, AuditOutcome

GENESIS = "0" * 64
# How a row written during a break-glass session begins its detail ("emergency access #12; ...").
EMERGENCY_MARK = "emergency access #"
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


def compute_hash(event: AuditEvent, key: bytes | None = None) -> str:
    return hmac.new(key or audit_hmac_key(), _canonical(event), hashlib.sha256).hexdigest()


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
    """Append entries for ``actor`` in one locked step of the chain: the head is read under the write lock,
    the rows are inserted, and the database moves the head with them (migration 0005's trigger) — three
    statements inside the transaction, written as SQL so that nothing is compiled per call."""
    entries = list(entries)
    if not entries:
        return
    now = clock.now()
    key = audit_hmac_key()
    user = (actor.user_id, actor.username[:150], actor.client_id or "", actor.primary_role[:32],
            actor.primary_organization_id)
    source = actor.source_address[:64]
    conn = connections[router.db_for_write(AuditEvent)]
    with transaction.atomic(using=conn.alias):
        seq, prev = _head_locked(conn)
        rows: list[tuple[object, ...]] = []
        for e in entries:
            seq += 1
            emergency = actor.emergency_access_id_for(e.patient_id)
            if emergency is not None:  # break-glass: every access during it carries the session's id
                e = replace(e, detail=f"{EMERGENCY_MARK}{emergency};{' ' + e.detail if e.detail else ''}")
            # In _FIELDS order.
            values = (seq, now, *user, e.patient_id, e.action, e.category, e.resource_type,
                      str(e.resource_id)[:64], e.outcome, source, channel, e.detail[:300], prev)
            prev = hmac.new(key, _canonical_values(values), hashlib.sha256).hexdigest()
            rows.append((*values, prev))
        _insert(rows)


def _head_locked(conn: BaseDatabaseWrapper) -> tuple[int, str]:
    """The chain head's (sequence number, hash), locked until the transaction ends (FOR UPDATE; SQLite's
    IMMEDIATE transaction already holds the write lock)."""
    # The table name from the model's metadata, quoted; no input reaches this text.
    table = conn.ops.quote_name(AuditChainHead._meta.db_table)
    lock = " FOR UPDATE" if conn.features.has_select_for_update else ""
    with conn.cursor() as cursor:
        cursor.execute(f"SELECT last_seq, last_hash FROM {table} WHERE id = 1{lock}")  # noqa: S608
        row = cursor.fetchone()
    if row is None:
        AuditChainHead.objects.create(pk=1)
        return 0, GENESIS
    return int(row[0]), str(row[1])


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


def log_refused(
    actor: Actor,
    *,
    category: str = "",
    resource_type: str = "",
    resource_id: str | int = "",
    patient_id: int | None = None,
    detail: str = "",
    channel: str = "",
) -> None:
    """A refused attempt: a record not visible to the actor (answered 404 like a missing one), a 401 or a
    403.  ``patient_id`` is the patient the record belongs to when it exists, so that the patient's
    organisation sees the attempt; the audit selector shows it to no one else (the requester's own
    organisation sees the row without it, so the row never tells them the patient exists)."""
    log(actor, AuditAction.ACCESS_DENIED, category=category, resource_type=resource_type,
        resource_id=str(resource_id)[:64], patient_id=patient_id, outcome=AuditOutcome.DENIED,
        detail=detail, channel=channel)


def log_patients_read(
    actor: Actor,
    patient_ids: Iterable[int],
    *,
    category: str,
    resource_type: str,
    action: str = AuditAction.READ,
    channel: str = "",
    detail: str = "",
) -> None:
    """One row per patient whose data a page, search, count or export disclosed."""
    record(
        actor,
        [Entry(action, category, resource_type, pid, pid, detail=detail) for pid in dict.fromkeys(patient_ids)],
        channel=channel,
    )


# --- verification ---------------------------------------------------------------------------------
# Every record carries a sequence number, gap-free from 1, and the hash of the one before it.  The walk
# below checks both in insertion order; ``core.checkpoints`` compares where the walk ended with the
# latest signed checkpoint (which is kept outside the database) to catch a truncated or wiped log.


@dataclass(frozen=True)
class VerifyProblem:
    """The first thing wrong: at record ``seq`` (``event_id`` when a row is at fault), or a ``missing``
    range of sequence numbers (first, last)."""

    seq: int
    event_id: int | None
    reason: str
    missing: tuple[int, int] | None = None

    def __str__(self) -> str:
        if self.missing is not None:
            return f"{missing_range(*self.missing)}: {self.reason}"
        ident = f" (id {self.event_id})" if self.event_id is not None else ""
        return f"audit record seq {self.seq:,}{ident}: {self.reason}"


@dataclass(frozen=True)
class ChainWalk:
    """Where a walk of one shard's chain ended: records verified, the last sequence number and hash
    verified, the hashes seen at the sequence numbers asked for, and the first problem (or None)."""

    count: int
    last_seq: int
    last_hash: str
    hashes_at: dict[int, str]
    problem: VerifyProblem | None
    reached_end: bool = True  # every row was read (a problem, if any, is at the chain head)


def _iter_events() -> Iterator[AuditEvent]:
    return AuditEvent.objects.order_by("id").iterator(chunk_size=5000)


def missing_range(first: int, last: int) -> str:
    return f"record {first:,} is missing" if first == last else f"records {first:,}\u2013{last:,} are missing"


def walk_chain(remember: Iterable[int] = ()) -> ChainWalk:
    """Walk the chain in insertion order, checking sequence numbers (gap-free from 1), links and hashes."""
    wanted = set(remember)
    hashes_at: dict[int, str] = {}
    expected_seq, prev, count = 1, GENESIS, 0
    key = audit_hmac_key()

    def stop(problem: VerifyProblem, *, reached_end: bool = False) -> ChainWalk:
        return ChainWalk(count, expected_seq - 1, prev, hashes_at, problem, reached_end)

    for ev in _iter_events():
        if ev.seq != expected_seq:
            if ev.seq > expected_seq:
                later = AuditEvent.objects.filter(seq__gte=expected_seq, seq__lt=ev.seq).order_by("seq").first()
                if later is not None:
                    return stop(VerifyProblem(ev.seq, ev.id, f"out of order: stored before record seq "
                                              f"{later.seq:,} (id {later.id})"))
                return stop(VerifyProblem(expected_seq, None, f"deleted — the sequence jumps from {expected_seq - 1:,} "
                                          f"to {ev.seq:,} (id {ev.id})", (expected_seq, ev.seq - 1)))
            return stop(VerifyProblem(ev.seq, ev.id, "out of order: sequence number repeated or moved "
                                      f"(expected {expected_seq:,} here)"))
        if ev.prev_hash != prev:
            return stop(VerifyProblem(ev.seq, ev.id,
                                      "chain broken: previous-hash does not match (reordered or re-sealed)"))
        if compute_hash(ev, key) != ev.hash:
            return stop(VerifyProblem(ev.seq, ev.id, "edited: content does not match its hash"))
        if ev.seq in wanted:
            hashes_at[ev.seq] = ev.hash
        prev, expected_seq = ev.hash, expected_seq + 1
        count += 1
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is not None and (head.last_seq != count or head.last_hash != prev):
        if head.last_seq > count:
            return stop(VerifyProblem(count + 1, None, f"deleted — the chain head is at seq {head.last_seq:,} but "
                                      f"the log ends at seq {count:,}", (count + 1, head.last_seq)), reached_end=True)
        return stop(VerifyProblem(count + 1, None, f"the chain head (seq {head.last_seq:,}) does not match the "
                                  f"log's last record (seq {count:,})"), reached_end=True)
    return ChainWalk(count, count, prev, hashes_at, None)


def verify_chain() -> tuple[int, VerifyProblem | None]:
    """The chain alone: (records checked, first problem or None).  ``core.checkpoints.verify_log`` adds
    the comparison with the latest checkpoint."""
    walk = walk_chain()
    return walk.count, walk.problem
