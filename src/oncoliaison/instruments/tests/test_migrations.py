"""Moving the instruments of both domains into the instruments app keeps every row, reference and
Questionnaire id, and turns the permissions into their history."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from oncoliaison.testing import Cast

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("assessments", "0001_needs_assessments"), ("monitoring", "0005_switch_off_reasons"), ("instruments", None)]


def _migrate(targets: list[tuple[str, str | None]]):  # type: ignore[no-untyped-def]
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return MigrationExecutor(connection).loader.project_state([t for t in targets if t[1] is not None]).apps


def test_rows_move_with_their_ids_references_and_permission_history(cast: Cast) -> None:
    org, patient = cast.lead, cast.pat
    old = _migrate(BEFORE)
    now = timezone.now()
    # Symptom monitoring, ids deliberately not 1.
    SymptomInstrument = old.get_model("monitoring", "SymptomInstrument")
    esas = SymptomInstrument.objects.create(pk=7, code="esas-r", title="ESAS-r", publisher="AHS", source_url="",
                                            citation="Hui 2017", licence_text="Free", scoring_method="esas_r")
    pro = SymptomInstrument.objects.create(pk=8, code="pro-ctcae", title="PRO-CTCAE", publisher="NCI",
                                           source_url="", citation="Basch", licence_text="NCI terms",
                                           requires_permission=True, scoring_method="proctcae_composite")
    m_version = old.get_model("monitoring", "InstrumentVersion").objects.create(
        pk=5, instrument=esas, version="2010-11", current=True, recall="NOW", definition={"code": "esas-r"})
    old.get_model("monitoring", "InstrumentItem").objects.create(
        pk=40, version=m_version, link_id="esas-1", order=1, text="Pain", kind="scale", min_value=0, max_value=10)
    MPermission = old.get_model("monitoring", "InstrumentPermission")
    MPermission.objects.create(instrument=pro, organization_id=org.pk, granted_by="NCI", reference="NCI-OLD",
                               granted_on=dt.date(2025, 1, 1), enabled=False, recorded_at=now - dt.timedelta(days=9),
                               disabled_at=now - dt.timedelta(days=5), disabled_reason="renewed")
    MPermission.objects.create(instrument=pro, organization_id=org.pk, granted_by="NCI", reference="NCI-NEW",
                               granted_on=dt.date(2026, 1, 1), recorded_at=now - dt.timedelta(days=4))
    # Needs assessments, whose ids collide with the symptom ones.
    AInstrument = old.get_model("assessments", "Instrument")
    dt_instrument = AInstrument.objects.create(pk=7, code="nccn-dt", title="NCCN DT", licence="NCCN",
                                               requires_permission=True)
    AVersion = old.get_model("assessments", "InstrumentVersion")
    a_old = AVersion.objects.create(pk=5, instrument=dt_instrument, version="2021", status="active", scoring="nccn-dt",
                                    definition={"v": 1}, checksum="a")
    a_new = AVersion.objects.create(pk=6, instrument=dt_instrument, version="2022", status="active", scoring="nccn-dt",
                                    definition={"v": 2}, checksum="b")
    old.get_model("assessments", "InstrumentPermission").objects.create(
        instrument=dt_instrument, organization_id=org.pk, enabled=False, note="paused")
    Assessment = old.get_model("assessments", "Assessment")
    assessment = Assessment.objects.create(patient_id=patient.pk, organization_id=org.pk, instrument_version=a_old,
                                           filled_by="staff", started_at=now, authored_at=now)
    report = old.get_model("monitoring", "SymptomReport").objects.create(
        patient_id=patient.pk, organization_id=org.pk, version=m_version, source="phone", reporter_kind="staff",
        authored_at=now, received_at=now)

    new = _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    Instrument = new.get_model("instruments", "Instrument")
    Version = new.get_model("instruments", "InstrumentVersion")
    assert Instrument.objects.get(pk=7).code == "esas-r"  # symptom instruments keep their ids
    moved_dt = Instrument.objects.get(code="nccn-dt")
    assert (moved_dt.purpose, moved_dt.licence, moved_dt.requires_permission) == ("needs-assessment", "NCCN", True)
    esas_v = Version.objects.get(pk=5)
    assert (esas_v.instrument_id, esas_v.number, esas_v.scoring, esas_v.recall) == (7, 5, "esas_r", "NOW")
    assert new.get_model("instruments", "InstrumentItem").objects.get(pk=40).version_id == 5
    # Questionnaire ids stay: assessment-5 and assessment-6 are the same versions as before.
    by_number = {v.number: v for v in Version.objects.filter(instrument=moved_dt)}
    assert (by_number[a_old.pk].version, by_number[a_new.pk].version) == ("2021", "2022")
    assert not by_number[a_old.pk].current and by_number[a_new.pk].current
    assert new.get_model("assessments", "Assessment").objects.get(pk=assessment.pk).instrument_version_id == (
        by_number[a_old.pk].pk)
    assert new.get_model("monitoring", "SymptomReport").objects.get(pk=report.pk).version_id == 5
    # Permissions are history: the disabled grant and its withdrawal, the later grant, the switch-off.
    Permission = new.get_model("instruments", "InstrumentPermission")
    rows = list(Permission.objects.order_by("recorded_at", "pk").values_list(
        "instrument__code", "kind", "reference", "reason", "note"))
    assert rows[:3] == [("pro-ctcae", "grant", "NCI-OLD", "", ""), ("pro-ctcae", "withdraw", "", "renewed", ""),
                        ("pro-ctcae", "grant", "NCI-NEW", "", "")]
    assert ("nccn-dt", "switch-off", "", "", "paused") in rows
    withdrawal = Permission.objects.get(kind="withdraw")
    assert withdrawal.withdraws.reference == "NCI-OLD"
    # The load that follows adds PRO-CTCAE's version and leaves the copied ESAS-r version alone.
    assert Version.objects.get(instrument__code="esas-r").pk == 5
    pro_v = Version.objects.get(instrument__code="pro-ctcae")
    assert pro_v.number == 6 and pro_v.items.count() > 100
