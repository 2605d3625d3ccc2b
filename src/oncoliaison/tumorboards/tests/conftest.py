from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from oncoliaison.accounts.models import User
from oncoliaison.accounts.services import actor_for_user
from oncoliaison.core import clock
from oncoliaison.core.actor import Actor
from oncoliaison.organisations.models import Membership, Role
from oncoliaison.patients.models import Consent, ConsentKind
from oncoliaison.testing import PASSWORD, Cast
from oncoliaison.tumorboards import services
from oncoliaison.tumorboards.models import ConferenceSeries, Meeting


@dataclass
class Board:
    cast: Cast
    clp: User
    radiologist: User
    partner_doc: User
    series: ConferenceSeries
    meeting: Meeting

    def actor(self, user: User) -> Actor:
        return actor_for_user(user)


def staff(username: str, cast_org, role: str) -> User:  # type: ignore[no-untyped-def]
    user = User.objects.create_user(username=username, password=PASSWORD, first_name=username.title(),
                                    last_name="Doe", kind="staff")
    Membership.objects.create(user=user, organization=cast_org, role=role)
    return user


@pytest.fixture
def board(cast: Cast) -> Board:
    clp = staff("carl", cast.lead, Role.CLP)
    radiologist = staff("rita", cast.lead, Role.PHYSICIAN)
    partner_doc = staff("paula", cast.partner, Role.PHYSICIAN)
    # The partner hospital may see Pat (a data-sharing consent), and takes part in the series.
    Consent.objects.create(patient=cast.pat, kind=ConsentKind.DATA_SHARING, grantee_organization=cast.partner,
                           organization=cast.lead)
    series = services.series_create(actor=actor_for_user(clp), organization_id=cast.lead.pk, data=services.SeriesData(
        name="Breast tumor board", disease_site="breast", coordinator_id=clp.pk, default_location="Room 4B",
        shared_with_ids=[cast.partner.pk]))
    meeting = services.meeting_schedule(actor=actor_for_user(clp), series=series, data=services.MeetingData(
        starts_at=clock.now() + dt.timedelta(days=7), generate_video=True))
    return Board(cast, clp, radiologist, partner_doc, series, meeting)
