"""The audit log: chained, append-only, and verified by `oncoliaison audit-verify`."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from oncoliaison.core import audit, bulk
from oncoliaison.core.actor import Actor
from oncoliaison.core.models import AuditAction, AuditChainHead, AuditEvent
from oncoliaison.core.tests.tampering import as_intruder as _raw

ACTOR = Actor(kind="staff", user_id=7, username="grace", memberships=((1, "navigator", "lead_program"),),
              source_address="10.0.0.5")


def _write(n: int) -> None:
    for i in range(n):
        audit.log(ACTOR, AuditAction.READ, category="demographics", resource_type="Patient", resource_id=i,
                  patient_id=i, channel="web")


def _ensure_sqlite_delete_guard() -> None:
    """conftest lifts the DELETE trigger for the SQLite test flush; put it back inside this test."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cur:
            cur.execute("DROP TRIGGER IF EXISTS core_auditevent_no_delete")
            cur.execute("CREATE TRIGGER core_auditevent_no_delete BEFORE DELETE ON core_auditevent "
                        "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: DELETE refused'); END;")


def _verify_exit(capsys) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exc:
        call_command("audit_verify")
    return int(exc.value.code or 0), capsys.readouterr().err


@pytest.mark.django_db
def test_records_are_chained_in_sequence():
    _write(3)
    events = list(AuditEvent.objects.order_by("seq"))
    assert [e.seq for e in events] == [1, 2, 3]
    assert events[0].prev_hash == audit.GENESIS
    assert events[1].prev_hash == events[0].hash and events[2].prev_hash == events[1].hash
    head = AuditChainHead.objects.get(pk=1)
    assert (head.last_seq, head.last_hash) == (3, events[2].hash)
    assert audit.verify_chain() == (3, None)


@pytest.mark.django_db
def test_record_carries_the_astm_fields():
    audit.log(ACTOR, AuditAction.UPDATE, category="consent", resource_type="Consent", resource_id=9,
              patient_id=4, channel="api", detail="revoked")
    e = AuditEvent.objects.get()
    assert (e.user_id, e.username, e.role, e.organization_id) == (7, "grace", "navigator", 1)
    assert (e.patient_id, e.action, e.category, e.resource_type, e.resource_id) == (4, "update", "consent", "Consent", "9")
    assert (e.outcome, e.source_address, e.channel) == ("success", "10.0.0.5", "api")
    assert e.recorded_at is not None


@pytest.mark.django_db
def test_verify_command_passes_on_an_intact_log(capsys):
    _write(5)
    call_command("audit_checkpoint")
    call_command("audit_verify")
    assert "5 records verified" in capsys.readouterr().out


@pytest.mark.django_db
def test_database_refuses_update_and_delete_of_audit_rows():
    _ensure_sqlite_delete_guard()
    _write(1)
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.update(detail="changed")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.get().detail == ""


@pytest.mark.django_db
def test_verify_names_the_first_edited_record(capsys):
    _write(5)
    target = AuditEvent.objects.get(seq=3)
    _raw("UPDATE core_auditevent SET patient_id = 999 WHERE id = %s", [target.id])
    code, err = _verify_exit(capsys)
    assert code == 1
    assert f"seq 3 (id {target.id})" in err and "edited" in err


@pytest.mark.django_db
def test_verify_catches_a_deleted_record(capsys):
    _write(5)
    _raw("DELETE FROM core_auditevent WHERE seq = 2")
    code, err = _verify_exit(capsys)
    assert code == 1 and "record 2 is missing" in err and "deleted" in err


@pytest.mark.django_db
def test_verify_catches_deletion_of_the_newest_records(capsys):
    _write(4)
    _raw("DELETE FROM core_auditevent WHERE seq >= 3")
    code, err = _verify_exit(capsys)
    assert code == 1 and "missing" in err and "seq 4" in err


@pytest.mark.django_db
def test_verify_catches_reordering(capsys):
    _write(4)
    a, b = AuditEvent.objects.get(seq=2), AuditEvent.objects.get(seq=3)
    # Swap the content of two rows (including their hashes): each row is self-consistent, the chain is not.
    _raw("UPDATE core_auditevent SET seq = -1 WHERE id = %s", [a.id])
    _raw("UPDATE core_auditevent SET seq = 2, prev_hash = %s, hash = %s, resource_id = %s WHERE id = %s",
         [a.prev_hash, a.hash, a.resource_id, b.id])
    _raw("UPDATE core_auditevent SET seq = 3, prev_hash = %s, hash = %s, resource_id = %s WHERE id = %s",
         [b.prev_hash, b.hash, b.resource_id, a.id])
    code, err = _verify_exit(capsys)
    assert code == 1 and "seq 2" in err


@pytest.mark.django_db
def test_a_resealed_row_is_caught_because_the_key_is_not_in_the_database(capsys):
    """Someone who edits a row and recomputes a plain SHA-256 still fails: the chain uses an HMAC key."""
    import hashlib

    _write(2)
    e = AuditEvent.objects.get(seq=2)
    fake = hashlib.sha256(b"anything").hexdigest()
    _raw("UPDATE core_auditevent SET patient_id = 1, hash = %s WHERE id = %s", [fake, e.id])
    AuditChainHead.objects.filter(pk=1).update(last_hash=fake)
    code, err = _verify_exit(capsys)
    assert code == 1 and "seq 2" in err


@pytest.mark.django_db
def test_audit_row_rolls_back_with_the_change_it_records():
    with pytest.raises(RuntimeError), transaction.atomic():
        _write(1)
        raise RuntimeError("use case failed")
    assert AuditEvent.objects.count() == 0
    _write(1)
    assert AuditEvent.objects.get().seq == 1  # the chain did not advance for the rolled-back row
    assert audit.verify_chain() == (1, None)


@pytest.mark.django_db
def test_log_patients_read_writes_one_row_per_distinct_patient():
    audit.log_patients_read(ACTOR, [5, 6, 5], category="demographics", resource_type="Patient",
                            action=AuditAction.SEARCH, channel="fhir")
    assert sorted(AuditEvent.objects.values_list("patient_id", flat=True)) == [5, 6]
    assert set(AuditEvent.objects.values_list("action", flat=True)) == {"search"}


@pytest.mark.django_db
def test_a_large_disclosure_is_written_whole_and_verifies():
    """Lists of many patients take the bulk path (COPY on PostgreSQL): every row, every field, one chain."""
    audit.log(ACTOR, AuditAction.READ, category="demographics", resource_type="Patient", resource_id=1, patient_id=1)
    ids = list(range(100, 100 + 3 * bulk.COPY_FROM))
    audit.log_patients_read(ACTOR, ids, category="worklist", resource_type="Patient", action=AuditAction.SEARCH,
                            channel="web")
    rows = list(AuditEvent.objects.order_by("seq"))
    assert [r.seq for r in rows] == list(range(1, 2 + len(ids)))
    assert [r.patient_id for r in rows[1:]] == ids
    last = rows[-1]
    assert (last.user_id, last.username, last.role, last.organization_id, last.source_address) == \
        (7, "grace", "navigator", 1, "10.0.0.5")
    assert (last.action, last.category, last.resource_id, last.channel, last.client_id, last.detail) == \
        ("search", "worklist", str(ids[-1]), "web", "", "")
    assert rows[1].prev_hash == rows[0].hash
    assert AuditChainHead.objects.get(pk=1).last_hash == last.hash
    assert audit.verify_chain() == (len(rows), None)
