"""Referrals for tests, built through the services (so history and audit are as in use)."""

from __future__ import annotations

import datetime as dt

from oncoliaison.referrals.models import Referral
from oncoliaison.referrals.services import ReferralData, referral_create
from oncoliaison.testing import Cast


def provider_referral(cast: Cast, *, by=None, **overrides) -> Referral:  # type: ignore[no-untyped-def]
    data = ReferralData(
        reason="New diagnosis of breast cancer; needs navigation and a surgical consult.",
        urgency="urgent", given_name="Nora", family_name="Quinn", birth_date=dt.date(1970, 2, 3), gender="female",
        phone="555-0142", cancer_type_text="Breast cancer", stage_text="IIA",
        requested_services=["navigation", "surgical_oncology"],
    )
    for k, v in overrides.items():
        setattr(data, k, v)
    return referral_create(actor=cast.actor(by or cast.outsider), data=data)
