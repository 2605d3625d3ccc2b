"""Licence permissions are a history that is never overwritten, and their grant date is honoured by both
domains' gates (the NCCN Distress Thermometer of needs assessments, PRO-CTCAE of symptom monitoring)."""

from __future__ import annotations

import datetime as dt

import pytest

from oncoliaison.assessments import services as assessments
from oncoliaison.assessments.testing import load_instruments
from oncoliaison.core import clock
from oncoliaison.core.errors import Forbidden
from oncoliaison.instruments import cache, selectors
from oncoliaison.instruments.models import (
    AppendOnly,
    Instrument,
    InstrumentPermission,
    PermissionKind,
    Purpose,
)
from oncoliaison.instruments.rules import NEEDS_PERMISSION
from oncoliaison.instruments.selectors import instrument_enabled_for
from oncoliaison.monitoring import services as monitoring
from oncoliaison.testing import Cast

pytestmark = pytest.mark.django_db


def _nccn_dt_permission(cast: Cast, data: assessments.PermissionData) -> InstrumentPermission:
    return assessments.instrument_permission_set(actor=cast.actor(cast.admin),
                                                 instrument=Instrument.objects.get(code="nccn-dt"),
                                                 organization_id=cast.lead.pk, data=data)


def test_the_distress_thermometer_is_off_until_its_permission_is_granted(cast: Cast, monkeypatch) -> None:
    versions = load_instruments(cast, enable_dt=False)
    today = clock.today()
    starts = today + dt.timedelta(days=10)
    _nccn_dt_permission(cast, assessments.PermissionData(
        enabled=True, permission_reference="NCCN-2027", permission_holder="Lead", granted_on=starts))
    nccn_dt = Instrument.objects.get(code="nccn-dt")
    enabled, why = instrument_enabled_for(nccn_dt, cast.lead.pk)
    assert not enabled and why == f"The recorded permission takes effect on {starts:%Y-%m-%d}."
    with pytest.raises(Forbidden, match="takes effect on"):
        assessments.assessment_submit(actor=cast.actor(cast.navigator), patient=cast.pat,
                                      version=versions["nccn-dt"], answers={"distress": ["5"]})
    assert instrument_enabled_for(nccn_dt, cast.lead.pk, on=starts) == (True, "Permission NCCN-2027 recorded.")
    monkeypatch.setattr(clock, "today", lambda: starts)
    assert assessments.assessment_submit(actor=cast.actor(cast.navigator), patient=cast.pat,
                                         version=versions["nccn-dt"], answers={"distress": ["5"]}).pk


def test_pro_ctcae_is_off_until_its_permission_is_granted(cast: Cast) -> None:
    proctcae = Instrument.objects.get(code="pro-ctcae")
    starts = clock.today() + dt.timedelta(days=3)
    monitoring.instrument_permission_record(actor=cast.actor(cast.admin), instrument=proctcae,
                                            organization_id=cast.lead.pk,
                                            data=monitoring.PermissionData("NCI", "NCI-2027", starts))
    assert not monitoring.instrument_on(proctcae, cast.lead.pk)
    assert instrument_enabled_for(proctcae, cast.lead.pk, on=starts)[0]


def test_switching_off_with_blank_fields_keeps_the_recorded_permission(cast: Cast) -> None:
    load_instruments(cast)  # records NCCN-PERM-TEST-1 for the lead program
    nccn_dt = Instrument.objects.get(code="nccn-dt")
    _nccn_dt_permission(cast, assessments.PermissionData(enabled=False))
    assert instrument_enabled_for(nccn_dt, cast.lead.pk) == (False, NEEDS_PERMISSION)
    history = selectors.permission_history(nccn_dt, cast.lead.pk)
    assert [(p.kind, p.reference, p.holder, p.granted_on) for p in history] == [
        (PermissionKind.GRANT, "NCCN-PERM-TEST-1", "Lead Cancer Program", dt.date(2026, 1, 1)),
        (PermissionKind.SWITCH_OFF, "", "", None),
    ]
    recorded = selectors.recorded_permission(nccn_dt, cast.lead.pk)
    assert recorded is not None and recorded.reference == "NCCN-PERM-TEST-1"  # still shown on the settings page


def test_a_recorded_entry_is_never_changed_or_deleted(cast: Cast) -> None:
    load_instruments(cast)
    grant = InstrumentPermission.objects.get(instrument__code="nccn-dt")
    grant.reference = "overwritten"
    with pytest.raises(AppendOnly):
        grant.save()
    with pytest.raises(AppendOnly):
        grant.delete()
    assert InstrumentPermission.objects.get(pk=grant.pk).reference == "NCCN-PERM-TEST-1"


def test_disabling_a_symptom_permission_adds_a_withdrawal_and_keeps_the_grant(cast: Cast) -> None:
    proctcae = Instrument.objects.get(code="pro-ctcae")
    grant = monitoring.instrument_permission_record(
        actor=cast.actor(cast.admin), instrument=proctcae, organization_id=cast.lead.pk,
        data=monitoring.PermissionData("NCI", "NCI-1", dt.date(2026, 1, 1)))
    withdrawal = monitoring.instrument_permission_disable(actor=cast.actor(cast.admin), permission=grant,
                                                          reason="Ended", confirmed=True)
    assert (withdrawal.kind, withdrawal.withdraws_id, withdrawal.reason) == (PermissionKind.WITHDRAW, grant.pk, "Ended")
    assert InstrumentPermission.objects.get(pk=grant.pk).reference == "NCI-1"
    records = selectors.grants_of(cast.lead.pk)[proctcae.pk]
    assert [(r.grant.pk, r.ended_by) for r in records] == [(grant.pk, withdrawal)]
    # disabling it again changes nothing
    assert monitoring.instrument_permission_disable(actor=cast.actor(cast.admin), permission=grant, reason="x",
                                                    confirmed=True) == grant
    assert InstrumentPermission.objects.filter(instrument=proctcae).count() == 2


def test_canonical_urls_are_looked_up_within_the_domain(cast: Cast) -> None:
    load_instruments(cast)
    esas = f"{selectors.QUESTIONNAIRE_BASE}/esas-r"
    nccn = f"{selectors.QUESTIONNAIRE_BASE}/nccn-dt|2022"
    found = selectors.version_for_canonical(esas, purpose=Purpose.SYMPTOM_MONITORING)
    assert found is not None and found.instrument.code == "esas-r" and found.current
    assert selectors.version_for_canonical(esas, purpose=Purpose.NEEDS_ASSESSMENT) is None
    assert selectors.version_for_canonical(nccn, purpose=Purpose.NEEDS_ASSESSMENT).version == "2022"  # type: ignore[union-attr]
    assert selectors.version_for_canonical("http://example.org/Questionnaire/esas-r",
                                           purpose=Purpose.SYMPTOM_MONITORING) is None
    assert selectors.is_our_questionnaire(nccn, purpose=Purpose.NEEDS_ASSESSMENT)
    assert not selectors.is_our_questionnaire(nccn, purpose=Purpose.SYMPTOM_MONITORING)


def test_one_cache_and_one_clear(cast: Cast, django_assert_num_queries) -> None:
    esas = Instrument.objects.get(code="esas-r")
    cache.clear()
    with django_assert_num_queries(1):
        selectors.current_version(esas)
        selectors.current_version(esas)
    cache.clear()
    with django_assert_num_queries(1):
        selectors.current_version(esas)
