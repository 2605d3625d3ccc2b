from __future__ import annotations

import datetime as dt

import pytest

from oncoliaison.core import clock
from oncoliaison.instruments.models import Instrument
from oncoliaison.organisations.models import Membership, Role
from oncoliaison.patients.models import CareTeamParticipant

# Monday 23 November 2026, 10:00 in New York (the settings' time zone)
FROZEN = dt.datetime(2026, 11, 23, 15, 0, tzinfo=dt.UTC)


class FrozenClock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture
def frozen(monkeypatch):
    """Freeze core.clock (the one place the code asks the time)."""
    from django.utils import timezone

    state = FrozenClock(FROZEN)
    monkeypatch.setattr(clock, "now", lambda: state.now)
    monkeypatch.setattr(clock, "today", lambda: timezone.localdate(state.now))
    return state


@pytest.fixture
def esas(db):
    return Instrument.objects.get(code="esas-r")


@pytest.fixture
def proctcae(db):
    return Instrument.objects.get(code="pro-ctcae")


@pytest.fixture
def clp(cast):
    """A Cancer Liaison Physician on Pat's care team (escalation target)."""
    from oncoliaison.accounts.models import User, UserKind

    user = User.objects.create_user(username="maria", password="x" * 12, first_name="Maria", last_name="CLP",
                                    kind=UserKind.STAFF, email="clp@example.org")
    Membership.objects.create(user=user, organization=cast.lead, role=Role.CLP)
    CareTeamParticipant.objects.create(care_team=cast.care_team, user=user, role="Cancer Liaison Physician")
    return user


def esas_answers(values: list[int | None], **extra: object) -> dict[str, object]:
    answers: dict[str, object] = {f"esas-{i}": v for i, v in enumerate(values, start=1)}
    answers.update(extra)
    return answers


@pytest.fixture(autouse=True)
def _fresh_program_config():
    """Rules and deadlines are cached per process for a few seconds; each test starts clean."""
    from oncoliaison.monitoring.services import config_cache_clear

    config_cache_clear()
    yield
    config_cache_clear()
