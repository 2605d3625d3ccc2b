"""The texts of referral e-mail notices (sent by referrals.tasks).  No patient details: a link to the queue."""

from __future__ import annotations

from oncoliaison.core.notices import Notice


def urgent_referral_waiting(urgency: str, program: str, queue_url: str) -> Notice:
    """To the receiving program's navigators when an urgent or emergent referral arrives."""
    return Notice(f"OncoLiaison: new {urgency} referral",
                  f"A new {urgency} referral is waiting in the triage queue of {program}.  Open the queue: {queue_url}")
