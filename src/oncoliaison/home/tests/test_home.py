"""The administrator's home counts its organisation's active members and patients, one subquery each."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from oncoliaison.organisations.models import Membership
from oncoliaison.patients.models import Patient
from oncoliaison.testing import Cast

pytestmark = pytest.mark.django_db


def test_the_administrators_home_counts_active_members_and_patients(cast: Cast) -> None:
    lead = cast.lead
    Membership.objects.filter(organization=lead, user=cast.oncologist).update(active=False)
    Patient.objects.create(organization=lead, given_name="Gone", family_name="Away", birth_date=dt.date(1950, 1, 1),
                           active=False)
    Patient.objects.create(organization=lead, given_name="Also", family_name="Here", birth_date=dt.date(1960, 2, 2))
    members = Membership.objects.filter(organization=lead, active=True).count()
    patients = Patient.objects.filter(organization=lead, active=True).count()
    assert members >= 2 and patients >= 2  # a join of the two would have counted pairs
    client = Client()
    client.force_login(cast.admin)
    with CaptureQueriesContext(connection) as queries:
        html = client.get("/").content.decode()
    assert re.search(rf'<span class="stat">{members}</span> active members', html)
    assert re.search(rf'<span class="stat">{patients}</span> active patients', html)
    # Counted without joining memberships to patients (the join grew as every member times every patient).
    counting = [q["sql"] for q in queries.captured_queries if "member_count" in q["sql"]]
    assert len(counting) == 1
    assert not re.search(r"JOIN\s+\"?organisations_membership\"?.*JOIN\s+\"?patients_patient\"?", counting[0], re.S)
