"""The demo program's referrals populate the triage queue, the lists and the program."""

from __future__ import annotations

import pytest

from oncoliaison.accounts.models import User
from oncoliaison.accounts.services import actor_for_user
from oncoliaison.demo.seed import REFERRALS, seed_demo
from oncoliaison.programs.models import ProgramEpisode
from oncoliaison.referrals.models import Referral, ReferralSource, ReferralStatus
from oncoliaison.referrals.selectors import triage_queue_for

pytestmark = pytest.mark.django_db


def test_demo_referrals_cover_every_state_and_source():
    seed_demo(patients=40)
    assert Referral.objects.count() == len(REFERRALS) == 15
    assert set(Referral.objects.values_list("status", flat=True)) == set(ReferralStatus.values)
    assert set(Referral.objects.values_list("referral_source", flat=True)) == set(ReferralSource.values)
    months = {r.received_at.strftime("%Y-%m") for r in Referral.objects.all()}
    assert len(months) >= 5
    for r in Referral.objects.filter(status=ReferralStatus.ACCEPTED):
        assert r.patient is not None and r.accepted_at and r.first_contact_at and r.first_appointment_at
        assert r.history.filter(to_status="accepted").exists()
    assert ProgramEpisode.objects.filter(status="active").count() >= 3
    navigator = actor_for_user(User.objects.get(username="navigator"))
    queue = triage_queue_for(navigator)
    assert len(queue) == 7 and queue[0].urgency == "emergent"


def test_measures_over_the_demo_referrals():
    import datetime as dt

    from django.utils import timezone

    from oncoliaison.core.errors import Forbidden
    from oncoliaison.referrals.selectors import referral_measures_for

    seed_demo(patients=40)
    now = timezone.now()
    navigator = actor_for_user(User.objects.get(username="navigator"))
    m = referral_measures_for(navigator, start=now - dt.timedelta(days=365), end=now + dt.timedelta(days=1))
    assert m.total == 15 and sum(m.by_month.values()) == 15 and m.by_kind == {"self": 8, "provider": 7}
    assert m.by_status == {"received": 5, "info_requested": 2, "accepted": 5, "declined": 2, "withdrawn": 1}
    assert m.by_source["physician"] == 7 and set(m.by_source) == set(ReferralSource.values)
    assert m.acceptance_rate == 5 / 7
    assert 0 < m.median_days_to_first_contact <= 3 and 1 <= m.median_days_to_acceptance <= 5
    assert m.median_days_to_first_appointment > m.median_days_to_acceptance
    recent = referral_measures_for(navigator, start=now - dt.timedelta(days=10), end=now)
    assert recent.total == 5 and recent.median_days_to_acceptance is None
    partner = actor_for_user(User.objects.get(username="partnerdoc"))
    assert referral_measures_for(partner, start=now - dt.timedelta(days=365), end=now).total == 0
    with pytest.raises(Forbidden):
        referral_measures_for(actor_for_user(User.objects.get(username="researcher")), start=now, end=now)
    with pytest.raises(Forbidden):
        referral_measures_for(navigator, start=now, end=now, organization_id=partner.memberships[0][0])
