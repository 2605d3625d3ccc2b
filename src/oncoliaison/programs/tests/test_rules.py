"""The program-episode status table (FHIR EpisodeOfCare statuses)."""

from __future__ import annotations

import itertools

import pytest

from oncoliaison.programs import rules
from oncoliaison.programs.models import EpisodeStatus as E

ALLOWED = {
    (E.PLANNED, E.ACTIVE), (E.PLANNED, E.CANCELLED),
    (E.ACTIVE, E.ONHOLD), (E.ACTIVE, E.FINISHED), (E.ACTIVE, E.CANCELLED),
    (E.ONHOLD, E.ACTIVE), (E.ONHOLD, E.FINISHED), (E.ONHOLD, E.CANCELLED),
}


@pytest.mark.parametrize(("current", "target"), list(itertools.product(E.values, E.values)))
def test_transition_table(current, target):
    allowed = (current, target) in ALLOWED
    assert rules.can_transition(current, target) is allowed
    assert (rules.transition_error(current, target) is None) is allowed


def test_messages():
    assert "cannot change" in rules.transition_error(E.FINISHED, E.ACTIVE)
    assert "it can become" in rules.transition_error(E.PLANNED, E.ONHOLD)
    assert rules.transition_error("x", E.ACTIVE) == "Unknown episode status."
    assert set(rules.TRANSITIONS) == set(E.values)
