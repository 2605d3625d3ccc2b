"""The referral status table, queue order, duplicate matching and the decline letter."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from oncoliaison.referrals import rules
from oncoliaison.referrals.models import DeclineReason, ReferralStatus, Urgency

S = ReferralStatus

# Every (from, to) pair that is allowed; every other pair of statuses must be refused.
ALLOWED = {
    (S.RECEIVED, S.INFO_REQUESTED), (S.RECEIVED, S.ACCEPTED), (S.RECEIVED, S.DECLINED), (S.RECEIVED, S.WITHDRAWN),
    (S.INFO_REQUESTED, S.RECEIVED), (S.INFO_REQUESTED, S.ACCEPTED), (S.INFO_REQUESTED, S.DECLINED),
    (S.INFO_REQUESTED, S.WITHDRAWN),
}


@pytest.mark.parametrize(("current", "target"), list(itertools.product(S.values, S.values)))
def test_transition_table_is_exactly_the_documented_one(current, target):
    expected = (current, target) in ALLOWED
    assert rules.can_transition(current, target) is expected
    error = rules.transition_error(current, target)
    assert (error is None) is expected
    if not expected:
        assert error and len(error) > 20


def test_every_status_is_in_the_table_and_terminal_ones_are_final():
    assert set(rules.TRANSITIONS) == set(S.values)
    assert {S.ACCEPTED, S.DECLINED, S.WITHDRAWN} == rules.TERMINAL


def test_errors_explain_what_is_possible():
    assert "already accepted" in rules.transition_error(S.ACCEPTED, S.DECLINED)
    msg = rules.transition_error(S.INFO_REQUESTED, S.INFO_REQUESTED)
    assert "it can become" in msg and "accepted" in msg
    assert rules.transition_error("bogus", S.ACCEPTED).startswith("Unknown referral status")
    assert rules.transition_error(S.RECEIVED, "bogus").startswith("Unknown referral status")


def test_allowed_actions():
    assert rules.allowed_actions(S.RECEIVED) == {"request_info", "accept", "decline", "withdraw"}
    assert rules.allowed_actions(S.INFO_REQUESTED) == {"info_received", "accept", "decline", "withdraw"}
    assert rules.allowed_actions(S.DECLINED) == frozenset()
    assert rules.allowed_actions("bogus") == frozenset()


def test_queue_order_is_urgency_then_waiting_time():
    t0 = dt.datetime(2026, 1, 1, 9, tzinfo=dt.UTC)
    items = [
        ("routine-old", Urgency.ROUTINE, t0),
        ("urgent-new", Urgency.URGENT, t0 + dt.timedelta(days=2)),
        ("emergent-new", Urgency.EMERGENT, t0 + dt.timedelta(days=3)),
        ("urgent-old", Urgency.URGENT, t0 + dt.timedelta(days=1)),
    ]
    ordered = [name for name, u, at in sorted(items, key=lambda i: rules.triage_sort_key(i[1], i[2]))]
    assert ordered == ["emergent-new", "urgent-old", "urgent-new", "routine-old"]


@pytest.mark.parametrize(("urgency", "hours", "overdue"), [
    (Urgency.EMERGENT, 3, False), (Urgency.EMERGENT, 5, True),
    (Urgency.URGENT, 23, False), (Urgency.URGENT, 25, True),
    (Urgency.ROUTINE, 71, False), (Urgency.ROUTINE, 73, True),
])
def test_first_contact_targets(urgency, hours, overdue):
    received = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    now = received + dt.timedelta(hours=hours)
    assert rules.first_contact_overdue(urgency, received, None, now) is overdue
    assert rules.first_contact_overdue(urgency, received, received, now) is False


def test_milestones_cannot_precede_the_referral_or_lie_in_the_future():
    received = dt.datetime(2026, 1, 10, tzinfo=dt.UTC)
    now = dt.datetime(2026, 1, 20, tzinfo=dt.UTC)
    assert rules.milestone_error("contact", received + dt.timedelta(days=1), received_at=received, now=now) is None
    assert "before" in rules.milestone_error("contact", received - dt.timedelta(days=1), received_at=received, now=now)
    assert "future" in rules.milestone_error("contact", now + dt.timedelta(days=1), received_at=received, now=now)
    assert rules.milestone_error("first appointment", now + dt.timedelta(days=9), received_at=received, now=now,
                                 allow_future=True) is None


@pytest.mark.parametrize(("raw", "normal"), [
    ("O'Brien-Núñez", "obriennunez"), ("  María José ", "mariajose"), ("SMITH", "smith"), ("Zoë", "zoe"),
    ("", ""),
])
def test_normalise_name(raw, normal):
    assert rules.normalise_name(raw) == normal


BIRTH = dt.date(1960, 5, 1)


@pytest.mark.parametrize(("prospect", "existing", "expected"), [
    (("Ana", "Núñez", BIRTH), ("ana", "NUNEZ", BIRTH), ["Same name and date of birth"]),
    (("Ana", "Nunez", BIRTH), ("Anna", "Nunez", BIRTH), ["Same family name and date of birth"]),
    (("Nunez", "Ana", BIRTH), ("Ana", "Nunez", BIRTH), ["Same date of birth, given and family names swapped"]),
    (("Ana", "Nunez", BIRTH), ("Ana", "Nunez-Lopez", BIRTH), ["Same given name and date of birth, similar family name"]),
    (("Ana", "Nunez", BIRTH), ("Ana", "Nunez", dt.date(1960, 5, 2)), []),
    (("Ana", "Nunez", None), ("Ana", "Nunez", BIRTH), []),
    (("Bea", "Smith", BIRTH), ("Ana", "Nunez", BIRTH), []),
])
def test_duplicate_reasons_on_names_and_birth_date(prospect, existing, expected):
    p = rules.PersonFacts(*prospect)
    e = rules.PersonFacts(*existing)
    assert rules.duplicate_reasons(p, e) == expected


def test_duplicate_reasons_on_identifier_alone_and_together():
    mrn = frozenset({("urn:mrn", "A-1")})
    p = rules.PersonFacts("Ana", "Nunez", BIRTH, mrn)
    assert rules.duplicate_reasons(p, rules.PersonFacts("X", "Y", dt.date(1990, 1, 1), mrn)) == ["Same identifier"]
    assert rules.duplicate_reasons(p, rules.PersonFacts("Ana", "Nunez", BIRTH, mrn)) == [
        "Same identifier", "Same name and date of birth"]
    other_system = frozenset({("urn:other", "A-1")})
    assert rules.duplicate_reasons(p, rules.PersonFacts("X", "Y", BIRTH, other_system)) == []


def test_decline_letter_names_reason_message_and_contact():
    letter = rules.decline_letter(
        reason=DeclineReason.OUT_OF_SCOPE, message="We suggest the regional sarcoma centre.", person="Ana Nunez",
        referrer="Dr Walsh", program="Riverside Cancer Institute", received_on=dt.date(2026, 3, 4),
        program_contact="555-0100",
    )
    assert letter.startswith("Dear Dr Walsh,")
    assert "Ana Nunez" in letter and "March 4, 2026" in letter
    assert "Service not offered by the program" in letter
    assert "regional sarcoma centre" in letter and "555-0100" in letter
    plain = rules.decline_letter(reason=DeclineReason.OTHER, message="", person="A", referrer="", program="P",
                                 received_on=dt.date(2026, 1, 1))
    assert plain.startswith("Dear colleague,") and "contact us." in plain


def test_decline_letter_to_a_person_who_referred_themselves():
    letter = rules.decline_letter(reason=DeclineReason.UNABLE_TO_CONTACT, message="", person="Ana Nunez",
                                  referrer="Ana Nunez", program="P", received_on=dt.date(2026, 1, 1),
                                  self_referral=True)
    assert letter.startswith("Dear Ana Nunez,") and "your request of January 1, 2026" in letter
    assert "referring" not in letter


def test_median_and_intervals():
    assert rules.median([]) is None
    assert rules.median([3.0, 1.0, 2.0]) == 2.0
    assert rules.median([4.0, 1.0, 2.0, 3.0]) == 2.5
    t = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    pairs = [(t, t + dt.timedelta(days=2)), (t, None), (None, t), (t, t - dt.timedelta(days=1)),
             (t, t + dt.timedelta(hours=12))]
    assert rules.interval_days(pairs) == [2.0, 0.5]
