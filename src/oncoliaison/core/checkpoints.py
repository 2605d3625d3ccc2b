"""Signed checkpoints: the audit chain anchored outside the database it protects.

The hash chain (``core.audit``) shows any edited, deleted or reordered row, but not rows cut from its
end together with the chain head, nor a wiped table.  A checkpoint records, at a moment, how far the
chain reached, signed with a key that lives in configuration, and is kept where a person with database
access cannot rewrite it unnoticed: appended to ``AUDIT_CHECKPOINT_FILE`` (0600, fsync) and sent to the
``oncoliaison.audit.checkpoint`` logger (console / journald, and syslog when ``AUDIT_SYSLOG_ADDRESS`` is
set — a remote or write-once target the database host cannot reach back into).

One checkpoint is one JSON line (keys sorted, no spaces)::

    {"alg":"HMAC-SHA256","count":1250,"key":"3f9a0c2e51b7","n":42,"prev":"<sig of checkpoint 41>",
     "shards":[{"hash":"<hash of record 1250>","seq":1250,"shard":1}],"sig":"<HMAC of the rest>",
     "time":"2026-12-04T03:31:00.000000+00:00","v":1}

- ``n``: the checkpoint's own number, gap-free from 1; ``prev`` is the signature of checkpoint n-1
  (GENESIS for the first), so lines cannot be dropped from or moved within the file unnoticed.
- ``shards``: the head of every shard of the audit chain — each shard is its own hash chain with
  gap-free sequence numbers; today there is one, shard 1 (the ``AuditChainHead`` row).  Sharding the
  chain for throughput adds entries here and nothing else: one checkpoint signs all shard heads.
- ``count``: the records in the log at ``time`` (the sum of the shard heads' sequence numbers).
- ``sig``: HMAC-SHA256 under ``AUDIT_CHECKPOINT_KEY`` of the line without ``sig``; ``key`` names the
  key (a fingerprint, not the key) so that a rotated key is told apart from a forged line.

A checkpoint is written only over a chain that extends the previous one: the records added since are
verified first (sequence, links, hashes).  If the log no longer reaches the latest checkpoint the writer
refuses, logs a CRITICAL line naming the missing range and the scheduled job fails — truncation is
reported within a minute, not at the next audit.  ``oncoliaison run-scheduled-jobs`` (cron, every
minute) writes one when the log has grown; when nothing changed it costs one small query and a read of
the file's last line.  ``oncoliaison audit-checkpoint`` writes one on demand.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import hmac
import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any

from django.conf import settings

from . import clock
from .audit import GENESIS, ChainWalk, compute_hash, missing_range, walk_chain
from .crypto import audit_checkpoint_key, audit_hmac_key
from .files import open_private, private_dir
from .models import AuditChainHead, AuditEvent
from .schedule import JobFailed, scheduled_job

VERSION = 1
ALG = "HMAC-SHA256"
logger = logging.getLogger("oncoliaison.audit.checkpoint")


@dataclass(frozen=True)
class ShardHead:
    shard: int
    seq: int
    hash: str


@dataclass(frozen=True)
class Checkpoint:
    n: int
    time: dt.datetime
    count: int
    shards: tuple[ShardHead, ...]
    prev: str
    key: str
    sig: str

    def line(self) -> str:
        return _dumps({**_unsigned(self), "sig": self.sig})

    @property
    def when(self) -> str:
        return self.time.isoformat(timespec="seconds")


class CheckpointError(Exception):
    """The checkpoint file or the log does not match: written as a sentence an auditor can act on."""


def _dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def _unsigned(cp: Checkpoint) -> dict[str, Any]:
    return {"v": VERSION, "alg": ALG, "n": cp.n, "time": cp.time.isoformat(timespec="microseconds"),
            "count": cp.count, "prev": cp.prev, "key": cp.key,
            "shards": [{"shard": s.shard, "seq": s.seq, "hash": s.hash} for s in cp.shards]}


def key_id() -> str:
    return hashlib.sha256(b"key-id:" + audit_checkpoint_key()).hexdigest()[:12]


def _sign(cp: Checkpoint) -> str:
    return hmac.new(audit_checkpoint_key(), _dumps(_unsigned(cp)).encode(), hashlib.sha256).hexdigest()


def parse(line: str, number: int) -> Checkpoint:
    """One line of the file as a Checkpoint whose signature is good, else CheckpointError."""
    try:
        data = json.loads(line)
        cp = Checkpoint(
            n=int(data["n"]), time=dt.datetime.fromisoformat(data["time"]), count=int(data["count"]),
            shards=tuple(ShardHead(int(s["shard"]), int(s["seq"]), str(s["hash"])) for s in data["shards"]),
            prev=str(data["prev"]), key=str(data["key"]), sig=str(data["sig"]),
        )
        if data.get("v") != VERSION or data.get("alg") != ALG:
            raise CheckpointError(f"checkpoint line {number:,}: unknown version or algorithm")
    except (ValueError, KeyError, TypeError) as exc:
        raise CheckpointError(f"checkpoint line {number:,} is not a checkpoint ({type(exc).__name__})") from None
    if cp.key != key_id():
        raise CheckpointError(f"checkpoint {cp.n:,} (line {number:,}) is signed with another key ({cp.key}); "
                              "verify with the AUDIT_CHECKPOINT_KEY in force when it was written")
    if not hmac.compare_digest(_sign(cp), cp.sig):
        raise CheckpointError(f"checkpoint {cp.n:,} (line {number:,}) has a bad signature: the line was edited")
    return cp


def checkpoint_path() -> Path:
    return Path(settings.AUDIT_CHECKPOINT_FILE)


def read_all(path: Path | None = None) -> list[Checkpoint]:
    """Every checkpoint in the file, each signature and link checked; CheckpointError at the first fault."""
    path = path or checkpoint_path()
    if not path.exists():
        return []
    out: list[Checkpoint] = []
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            cp = parse(raw.decode("utf-8", "replace"), number)
            _check_link(out[-1] if out else None, cp, number)
            out.append(cp)
    return out


def _check_link(before: Checkpoint | None, cp: Checkpoint, number: int) -> None:
    expected_n, expected_prev = (before.n + 1, before.sig) if before else (1, GENESIS)
    if cp.n != expected_n:
        raise CheckpointError(f"checkpoint line {number:,}: number {cp.n:,} where {expected_n:,} was expected "
                              "(checkpoints removed or moved)")
    if cp.prev != expected_prev:
        raise CheckpointError(f"checkpoint {cp.n:,} (line {number:,}) does not follow the one before it")


def _last_line(fh: IO[bytes]) -> str | None:
    """The file's last non-empty line, read from the end (the file can hold years of checkpoints)."""
    fh.seek(0, os.SEEK_END)
    size, data = fh.tell(), b""
    while size > 0:
        step = min(4096, size)
        size -= step
        fh.seek(size)
        data = fh.read(step) + data
        lines = [x for x in data.split(b"\n") if x.strip()]
        if len(lines) > 1 or (lines and size == 0):
            return lines[-1].decode("utf-8", "replace")
    return None


# --- the chain's shard heads ----------------------------------------------------------------------


def shard_heads() -> tuple[ShardHead, ...]:
    """The head of each shard of the audit chain (today one: shard 1), as committed now."""
    heads = tuple(ShardHead(pk, seq, h) for pk, seq, h in
                  AuditChainHead.objects.order_by("pk").values_list("pk", "last_seq", "last_hash"))
    return heads or (ShardHead(1, 0, GENESIS),)


def _verify_extension(before: ShardHead, now: ShardHead) -> None:
    """The records of a shard after ``before`` up to ``now`` chain on from it: no gap, no edit."""
    if now.seq < before.seq:
        raise CheckpointError(f"{missing_range(now.seq + 1, before.seq)}: the chain head is back at seq "
                              f"{now.seq:,}, below the latest checkpoint's {before.seq:,}")
    key, prev, expected = audit_hmac_key(), before.hash, before.seq + 1
    if before.seq and not AuditEvent.objects.filter(seq=before.seq, hash=before.hash).exists():
        raise CheckpointError(f"record {before.seq:,}, the latest checkpoint's last, is missing or changed")
    rows = AuditEvent.objects.filter(seq__gt=before.seq, seq__lte=now.seq).order_by("seq")
    for ev in rows.iterator(chunk_size=5000):
        if ev.seq != expected:
            raise CheckpointError(f"{missing_range(expected, ev.seq - 1)} (a sequence gap before record "
                                  f"{ev.seq:,})")
        if ev.prev_hash != prev or compute_hash(ev, key) != ev.hash:
            raise CheckpointError(f"audit record seq {ev.seq:,} (id {ev.id}) is edited or out of order")
        prev, expected = ev.hash, expected + 1
    if expected != now.seq + 1 or prev != now.hash:
        raise CheckpointError(f"{missing_range(expected, now.seq)}: the chain head is at seq {now.seq:,}")


# --- writing ----------------------------------------------------------------------------------------


@contextmanager
def _locked_file() -> Iterator[IO[bytes]]:
    path = checkpoint_path()
    private_dir(path.parent)
    with open_private(path, "a+b") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)  # one writer at a time (cron and an on-demand run)
        try:
            yield fh
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_checkpoint(*, force: bool = False) -> Checkpoint | None:
    """Append a checkpoint if the log grew since the latest one (always with ``force``); None when
    nothing changed.  Raises CheckpointError — after logging it as CRITICAL — when the log no longer
    extends the latest checkpoint, or the file's last line is not a good checkpoint."""
    try:
        with _locked_file() as fh:
            last_line = _last_line(fh)
            before = parse(last_line, 0) if last_line else None
            heads = shard_heads()
            if before is not None:
                old = {s.shard: s for s in before.shards}
                if not force and heads == before.shards:
                    return None
                for head in heads:
                    _verify_extension(old.get(head.shard, ShardHead(head.shard, 0, GENESIS)), head)
                gone = set(old) - {h.shard for h in heads}
                if gone:
                    raise CheckpointError(f"shard(s) {sorted(gone)} of the latest checkpoint are gone")
            elif not force and all(h.seq == 0 for h in heads):
                return None
            else:
                for head in heads:
                    _verify_extension(ShardHead(head.shard, 0, GENESIS), head)
            draft = Checkpoint(n=(before.n + 1) if before else 1, time=clock.now(),
                               count=sum(h.seq for h in heads), shards=heads,
                               prev=before.sig if before else GENESIS, key=key_id(), sig="")
            cp = replace(draft, sig=_sign(draft))
            fh.write(cp.line().encode() + b"\n")
            fh.flush()
            os.fsync(fh.fileno())
            if cp.n == 1:  # the file is new: make its directory entry durable too
                _fsync_dir(checkpoint_path().parent)
    except CheckpointError as exc:
        logger.critical("AUDIT LOG TAMPERED — no checkpoint written: %s", exc)
        raise
    logger.info("audit checkpoint %s", cp.line())
    return cp


@scheduled_job("audit checkpoint", order=100)  # last: it also covers the audit rows the other jobs wrote
def checkpoint_job(now: dt.datetime) -> str:
    """The scheduled job (every minute): a checkpoint when the log grew."""
    try:
        cp = write_checkpoint()
    except CheckpointError as exc:
        raise JobFailed(f"AUDIT LOG TAMPERED — no checkpoint written: {exc}") from exc
    if cp is None:
        return "audit checkpoint: unchanged"
    return f"audit checkpoint {cp.n:,}: {cp.count:,} records"


# --- verification -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verification:
    """The result of ``verify_log``: records verified, the latest checkpoint, and the first problem."""

    count: int
    checkpoint: Checkpoint | None
    problem: str

    @property
    def intact(self) -> bool:
        return not self.problem


# Checkpoints whose records the walk looks up to bound a rewritten tail (the newest ones suffice).
_RECALL = 1000


def _against(walk: ChainWalk, checkpoints: list[Checkpoint]) -> str:
    """The first disagreement between the walked chain and the latest checkpoint, or ""."""
    cp = checkpoints[-1]
    for head in cp.shards:
        if walk.last_seq < head.seq:
            empty = " (the log is empty)" if walk.count == 0 else ""
            return (f"{missing_range(walk.last_seq + 1, head.seq)}{empty}: the latest checkpoint "
                    f"({cp.n:,}, {cp.when}) counted {cp.count:,}")
        if head.seq and walk.hashes_at.get(head.seq) != head.hash:
            # The tail was cut and the log went on growing: the newest checkpoint still matched bounds it.
            good = next((s.seq for c in reversed(checkpoints) for s in c.shards
                         if s.shard == head.shard and walk.hashes_at.get(s.seq) == s.hash and s.seq < head.seq), 0)
            return (f"records {good + 1:,}\u2013{head.seq:,} were removed or replaced: the latest checkpoint "
                    f"({cp.n:,}, {cp.when}) counted {cp.count:,} and its record {head.seq:,} is not in the log")
    return ""


def verify_log() -> Verification:
    """Walk the chain, then compare where it ends with the latest checkpoint in the checkpoint file."""
    try:
        checkpoints = read_all()
    except CheckpointError as exc:
        walk = walk_chain()
        return Verification(walk.count, None, str(walk.problem or f"checkpoint file: {exc}"))
    recall = [s.seq for c in checkpoints[-_RECALL:] for s in c.shards]
    walk = walk_chain(remember=recall)
    cp = checkpoints[-1] if checkpoints else None
    if cp is not None and (walk.problem is None or walk.reached_end):
        # Where the walk read every row, truncation is named against the checkpoint (the chain head
        # may have been cut with the rows, or left behind).
        against = _against(walk, checkpoints)
        if against:
            return Verification(walk.count, cp, against)
    return Verification(walk.count, cp, str(walk.problem) if walk.problem else "")
