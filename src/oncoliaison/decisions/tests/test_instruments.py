"""The shared-decision and experience measures are on a fresh database (loaded by a data migration), loading
them again adds nothing, and CollaboRATE (CC BY-NC-ND) stays off until a program records its permission."""

from __future__ import annotations

import datetime as dt

import pytest

from oncoliaison.core import clock
from oncoliaison.decisions import rules
from oncoliaison.decisions.instruments import load_measures, version_specs
from oncoliaison.instruments import services
from oncoliaison.instruments.models import (
    Instrument,
    InstrumentItem,
    InstrumentVersion,
    PermissionKind,
    Purpose,
)
from oncoliaison.instruments.rules import NEEDS_PERMISSION
from oncoliaison.instruments.selectors import instrument_enabled_for
from oncoliaison.testing import Cast

pytestmark = pytest.mark.django_db


def test_a_fresh_database_has_the_measures_with_their_checksums() -> None:
    versions = {v.instrument.code: v for v in InstrumentVersion.objects.select_related("instrument").filter(
        instrument__purpose__in=[Purpose.DECISION_SUPPORT, Purpose.EXPERIENCE])}
    assert set(versions) == {"sure", "collaborate", "sdm-q-9", "nps"}
    for spec in version_specs():
        version = versions[spec.code]
        assert version.checksum == services.checksum_of(spec.definition)
        assert version.scoring in rules.SCORERS
        assert version.loaded_from.startswith(f"instruments/data/{spec.purpose}/")
        assert version.instrument.citation and version.instrument.licence and version.instrument.source_url
    assert list(InstrumentItem.objects.filter(version=versions["sure"]).values_list("link_id", flat=True)) == list(
        rules.SURE_ITEMS)
    assert Instrument.objects.get(code="nps").purpose == Purpose.EXPERIENCE


def test_loading_twice_adds_nothing() -> None:
    counts = (Instrument.objects.count(), InstrumentVersion.objects.count(), InstrumentItem.objects.count())
    load_measures()
    load_measures()
    assert (Instrument.objects.count(), InstrumentVersion.objects.count(), InstrumentItem.objects.count()) == counts


def test_the_ohri_sure_test_is_free_and_collaborate_needs_permission_until_recorded(cast: Cast) -> None:
    sure, collaborate = Instrument.objects.get(code="sure"), Instrument.objects.get(code="collaborate")
    assert instrument_enabled_for(sure, cast.lead.pk)[0]
    assert "do not alter them" in sure.licence
    assert collaborate.requires_permission and "BY-NC-ND" in collaborate.licence
    assert instrument_enabled_for(collaborate, cast.lead.pk) == (False, NEEDS_PERMISSION)
    services.permission_record(
        actor=cast.actor(cast.admin), instrument=collaborate, organization_id=cast.lead.pk, detail="granted",
        entry=services.PermissionEntry(kind=PermissionKind.GRANT, reference="ELWYN-2027", granted_by="G. Elwyn",
                                       holder="Lead", granted_on=clock.today() - dt.timedelta(days=1)))
    assert instrument_enabled_for(collaborate, cast.lead.pk) == (True, "Permission ELWYN-2027 recorded.")
    assert instrument_enabled_for(collaborate, cast.partner.pk) == (False, NEEDS_PERMISSION)
