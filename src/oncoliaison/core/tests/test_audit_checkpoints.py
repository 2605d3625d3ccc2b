"""Signed checkpoints anchor the audit chain outside the database: truncation, a wiped log, deletions,
edits, reordering and sequence gaps are each named by `oncoliaison audit-verify` — with the append-only
triggers dropped first, as an intruder with database access would."""

from __future__ import annotations

import json
import logging
import stat
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from oncoliaison.core import audit, checkpoints
from oncoliaison.core.actor import Actor
from oncoliaison.core.models import AuditAction, AuditChainHead, AuditEvent
from oncoliaison.core.tests.tampering import as_intruder

pytestmark = pytest.mark.django_db

ACTOR = Actor(kind="staff", user_id=7, username="grace", memberships=((1, "navigator", "lead_program"),),
              source_address="10.0.0.5")


def _write(n: int) -> None:
    audit.record(ACTOR, [audit.Entry(AuditAction.READ, "demographics", "Patient", i, i) for i in range(n)],
                 channel="web")


def _verify(capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    try:
        call_command("audit_verify")
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.err + out.out


def _reset_head(seq: int) -> None:
    """What an intruder does after cutting rows: point the chain head at the new last record."""
    last = AuditEvent.objects.filter(seq=seq).values_list("hash", flat=True).first() or audit.GENESIS
    AuditChainHead.objects.filter(pk=1).update(last_seq=seq, last_hash=last)


def _file() -> Path:
    return Path(settings.AUDIT_CHECKPOINT_FILE)


def test_checkpoint_is_a_signed_json_line_of_shard_heads_in_a_private_file(caplog: pytest.LogCaptureFixture):
    _write(3)
    with caplog.at_level(logging.INFO, logger="oncoliaison.audit.checkpoint"):
        cp = checkpoints.write_checkpoint()
    assert cp is not None
    lines = _file().read_text().splitlines()
    data = json.loads(lines[0])
    head = AuditChainHead.objects.get(pk=1)
    assert (data["n"], data["count"], data["prev"], data["alg"]) == (1, 3, audit.GENESIS, "HMAC-SHA256")
    assert data["shards"] == [{"shard": 1, "seq": 3, "hash": head.last_hash}]
    assert len(data["sig"]) == 64 and data["key"] == checkpoints.key_id()
    assert stat.S_IMODE(_file().stat().st_mode) == 0o600
    assert stat.S_IMODE(_file().parent.stat().st_mode) == 0o700
    # The same line goes to the dedicated logger, for journald or syslog to keep a copy.
    assert any(cp.line() in r.getMessage() for r in caplog.records if r.name == "oncoliaison.audit.checkpoint")


def test_unchanged_log_costs_one_query_and_writes_nothing():
    _write(2)
    checkpoints.write_checkpoint()
    with CaptureQueriesContext(connection) as queries:
        assert checkpoints.write_checkpoint() is None
    assert len(queries) == 1
    assert len(_file().read_text().splitlines()) == 1
    _write(1)
    cp = checkpoints.write_checkpoint()
    assert cp is not None and (cp.n, cp.count) == (2, 3)
    assert json.loads(_file().read_text().splitlines()[1])["prev"] == json.loads(
        _file().read_text().splitlines()[0])["sig"]


def test_scheduled_jobs_write_the_checkpoint_when_the_log_grew(capsys: pytest.CaptureFixture[str]):
    _write(4)
    call_command("run_scheduled_jobs")
    assert "audit checkpoint 1: 4 records" in capsys.readouterr().out
    call_command("run_scheduled_jobs")
    assert "audit checkpoint: unchanged" in capsys.readouterr().out


def test_intact_log_verifies_against_its_checkpoint(capsys: pytest.CaptureFixture[str]):
    _write(5)
    call_command("audit_checkpoint")
    _write(2)
    code, text = _verify(capsys)
    assert code == 0
    assert "7 records verified" in text and "counted 5" in text and "2 written since" in text


def test_truncation_with_the_head_reset_names_the_missing_range(capsys: pytest.CaptureFixture[str]):
    _write(1250)
    cp = checkpoints.write_checkpoint()
    assert cp is not None
    as_intruder("DELETE FROM core_auditevent WHERE seq > 1200")
    _reset_head(1200)
    assert audit.verify_chain() == (1200, None)  # the chain alone cannot see it
    code, text = _verify(capsys)
    assert code == 1
    assert f"records 1,201\u20131,250 are missing: the latest checkpoint (1, {cp.when}) counted 1,250" in text


def test_a_wiped_log_is_detected(capsys: pytest.CaptureFixture[str]):
    _write(10)
    checkpoints.write_checkpoint()
    as_intruder("DELETE FROM core_auditevent")
    AuditChainHead.objects.all().delete()
    code, text = _verify(capsys)
    assert code == 1 and "records 1\u201310 are missing (the log is empty)" in text and "counted 10" in text


def test_deletion_from_the_middle_is_named(capsys: pytest.CaptureFixture[str]):
    _write(10)
    checkpoints.write_checkpoint()
    as_intruder("DELETE FROM core_auditevent WHERE seq BETWEEN 4 AND 6")
    code, text = _verify(capsys)
    assert code == 1 and "records 4\u20136 are missing" in text and "jumps from 3 to 7" in text


def test_an_edited_record_is_named(capsys: pytest.CaptureFixture[str]):
    _write(10)
    checkpoints.write_checkpoint()
    target = AuditEvent.objects.get(seq=6)
    as_intruder("UPDATE core_auditevent SET patient_id = 999 WHERE id = %s", [target.id])
    code, text = _verify(capsys)
    assert code == 1 and f"seq 6 (id {target.id}): edited" in text


def test_reordered_records_are_named(capsys: pytest.CaptureFixture[str]):
    _write(10)
    checkpoints.write_checkpoint()
    a, b = AuditEvent.objects.get(seq=4), AuditEvent.objects.get(seq=5)
    cols = "prev_hash = %s, hash = %s, resource_id = %s, patient_id = %s"
    as_intruder("UPDATE core_auditevent SET seq = -1 WHERE id = %s", [a.id])
    as_intruder(f"UPDATE core_auditevent SET seq = 4, {cols} WHERE id = %s",
                [a.prev_hash, a.hash, a.resource_id, a.patient_id, b.id])
    as_intruder(f"UPDATE core_auditevent SET seq = 5, {cols} WHERE id = %s",
                [b.prev_hash, b.hash, b.resource_id, b.patient_id, a.id])
    code, text = _verify(capsys)
    assert code == 1 and f"seq 5 (id {a.id}): out of order: stored before record seq 4 (id {b.id})" in text


def test_renumbered_sequence_gap_is_named(capsys: pytest.CaptureFixture[str]):
    _write(10)
    checkpoints.write_checkpoint()
    as_intruder("UPDATE core_auditevent SET seq = seq + 100 WHERE seq >= 8")
    code, text = _verify(capsys)
    assert code == 1 and "records 8\u2013107 are missing" in text


def test_a_cut_tail_hidden_under_new_records_is_bounded_by_the_checkpoints(capsys: pytest.CaptureFixture[str]):
    _write(20)
    checkpoints.write_checkpoint()
    _write(10)
    checkpoints.write_checkpoint()
    as_intruder("DELETE FROM core_auditevent WHERE seq > 25")
    _reset_head(25)
    _write(8)  # the application goes on appending after the cut
    code, text = _verify(capsys)
    assert code == 1
    assert "records 21\u201330 were removed or replaced" in text and "counted 30" in text


def test_the_checkpoint_job_refuses_and_alerts_after_truncation(caplog: pytest.LogCaptureFixture,
                                                               capsys: pytest.CaptureFixture[str]):
    _write(10)
    checkpoints.write_checkpoint()
    as_intruder("DELETE FROM core_auditevent WHERE seq > 7")
    _reset_head(7)
    _write(1)  # the log grows again from the cut: no checkpoint may bless it
    with caplog.at_level(logging.INFO, logger="oncoliaison.audit.checkpoint"), pytest.raises(SystemExit) as exc:
        call_command("run_scheduled_jobs")
    assert exc.value.code == 1
    assert "AUDIT LOG TAMPERED" in capsys.readouterr().err
    assert any(r.levelno == logging.CRITICAL for r in caplog.records)
    assert len(_file().read_text().splitlines()) == 1


def test_an_edited_or_removed_checkpoint_line_is_detected(capsys: pytest.CaptureFixture[str]):
    for _ in range(3):
        _write(2)
        checkpoints.write_checkpoint()
    lines = _file().read_text().splitlines()
    forged = json.loads(lines[2])
    forged["count"] = 4
    _file().write_text("\n".join([*lines[:2], json.dumps(forged)]) + "\n")
    code, text = _verify(capsys)
    assert code == 1 and "checkpoint 3 (line 3) has a bad signature" in text
    _file().write_text("\n".join([lines[0], lines[2]]) + "\n")
    code, text = _verify(capsys)
    assert code == 1 and "number 3 where 2 was expected" in text


def test_verify_without_any_checkpoint_says_truncation_cannot_be_ruled_out(capsys: pytest.CaptureFixture[str]):
    _write(3)
    code, text = _verify(capsys)
    assert code == 2 and "no checkpoint" in text


def test_checkpoint_signed_with_another_key_is_not_accepted(settings, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    _write(3)
    checkpoints.write_checkpoint()
    settings.AUDIT_CHECKPOINT_KEY = "a-different-key"
    code, text = _verify(capsys)
    assert code == 1 and "signed with another key" in text
