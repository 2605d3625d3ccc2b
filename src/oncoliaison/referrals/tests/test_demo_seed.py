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
