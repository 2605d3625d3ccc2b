"""SMART App Launch v2 system scopes (hl7.org/fhir/smart-app-launch/scopes-and-launch-context.html)."""

from __future__ import annotations

import pytest

from oncoliaison.core.scopes import ScopeError, ScopeSet


def test_v2_letters_grant_exactly_those_interactions():
    s = ScopeSet.parse("system/Patient.rs system/Consent.cruds")
    assert s.allows("Patient", "r") and s.allows("Patient", "s")
    assert not s.allows("Patient", "c") and not s.allows("Patient", "u") and not s.allows("Patient", "d")
    assert all(s.allows("Consent", x) for x in "cruds")
    assert not s.allows("Organization", "r")


def test_wildcard_type_and_v1_forms():
    s = ScopeSet.parse("system/*.read system/Patient.write")
    assert s.allows("Organization", "r") and s.allows("CareTeam", "s")
    assert s.allows("Patient", "c") and s.allows("Patient", "u") and s.allows("Patient", "d")
    assert not s.allows("Consent", "c")


@pytest.mark.parametrize("bad", ["patient/Patient.rs", "system/Patient.sr", "system/Patient.rr", "Patient.read",
                                 "system/patient.rs", "system/Patient.x", "user/*.*"])
def test_malformed_or_unsupported_scopes_are_refused(bad):
    with pytest.raises(ScopeError):
        ScopeSet.parse(bad)


def test_narrowing_keeps_only_granted_interactions():
    granted = ScopeSet.parse("system/Patient.rs system/Organization.r")
    asked = ScopeSet.parse("system/Patient.cruds system/Consent.r")
    assert str(granted.narrowed_to(asked)) == "system/Patient.rs"


def test_round_trip_text_is_canonical():
    assert str(ScopeSet.parse("system/Patient.read system/Patient.c")) == "system/Patient.crs"
