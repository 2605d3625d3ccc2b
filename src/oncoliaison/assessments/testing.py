"""Test helpers shared by the assessment and care-plan tests (not used at run time)."""

from __future__ import annotations

import datetime as dt

from oncoliaison.core.actor import Actor
from oncoliaison.instruments.models import Instrument, InstrumentVersion, Purpose
from oncoliaison.testing import Cast

from .selectors import current_version
from .services import PermissionData, instrument_permission_set, instruments_load_bundled


def load_instruments(cast: Cast, *, enable_dt: bool = True) -> dict[str, InstrumentVersion]:
    """Load the bundled instruments; record the NCCN permission for the lead program (as its administrator)."""
    instruments_load_bundled(actor=Actor(kind="system", username="cli:test"))
    if enable_dt:
        instrument_permission_set(
            actor=cast.actor(cast.admin), instrument=Instrument.objects.get(code="nccn-dt"),
            organization_id=cast.lead.pk,
            data=PermissionData(enabled=True, permission_reference="NCCN-PERM-TEST-1",
                                permission_holder="Lead Cancer Program", granted_on=dt.date(2026, 1, 1)),
        )
    out = {}
    for instrument in Instrument.objects.filter(purpose=Purpose.NEEDS_ASSESSMENT):
        version = current_version(instrument)
        assert version is not None
        out[instrument.code] = version
    return out
