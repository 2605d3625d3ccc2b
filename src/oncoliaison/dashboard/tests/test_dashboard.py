"""The program dashboard: measures on known data, who may see it, other organisations hidden, CSV exports."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from oncoliaison.accounts.models import User, UserKind
from oncoliaison.assessments.services import assessment_submit
from oncoliaison.assessments.testing import load_instruments
from oncoliaison.careplans.models import Barrier
from oncoliaison.core.errors import Forbidden
from oncoliaison.core.models import AuditAction, AuditEvent
from oncoliaison.dashboard import rules, selectors
from oncoliaison.organisations.models import Membership, Role
from oncoliaison.patients.models import Patient
from oncoliaison.programs.models import EpisodeStatus, ProgramEpisode
from oncoliaison.referrals.models import Referral
from oncoliaison.referrals.tests.factories import provider_referral
from oncoliaison.testing import PASSWORD

D = dt.date
PERIOD = rules.Period(D(2026, 1, 1), D(2026, 6, 30))
QUERY = {"start": "2026-01-01", "end": "2026-06-30"}


def at(day: dt.date, hour: int = 15) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC)  # whole days apart, whatever the time zone


@pytest.fixture
def clp(cast):  # type: ignore[no-untyped-def]
    user = User.objects.create_user(username="clara", password=PASSWORD, first_name="Clara", last_name="Liaison",
                                    kind=UserKind.STAFF)
    Membership.objects.create(user=user, organization=cast.lead, role=Role.CLP)
    return user


@pytest.fixture
def partner_clp(cast):  # type: ignore[no-untyped-def]
    user = User.objects.create_user(username="petra", password=PASSWORD, first_name="Petra", last_name="Partner",
                                    kind=UserKind.STAFF)
    Membership.objects.create(user=user, organization=cast.partner, role=Role.CLP)
    return user


def _referral(cast, *, org, source, received, contact=None, appointment=None):  # type: ignore[no-untyped-def]
    r = provider_referral(cast)
    Referral.objects.filter(pk=r.pk).update(
        receiving_organization=org, referral_source=source, received_at=at(received),
        first_contact_at=at(contact) if contact else None,
        first_appointment_at=at(appointment) if appointment else None,
    )
    return r


@pytest.fixture
def program_data(cast, clp):  # type: ignore[no-untyped-def]
    """Lead: ten referrals in the period (contact after 1..10 days), one outside; two enrolled patients, one
    screened; barriers.  Partner: one referral, one enrolled patient, one barrier."""
    for i in range(1, 11):
        _referral(cast, org=cast.lead, source="web_search" if i <= 6 else "physician",
                  received=D(2026, 1 + i % 3, 1), contact=D(2026, 1 + i % 3, 1 + i),
                  appointment=D(2026, 1 + i % 3, 1 + 2 * i) if i <= 5 else None)
    _referral(cast, org=cast.lead, source="event", received=D(2025, 12, 31))  # before the period
    _referral(cast, org=cast.partner, source="friend_family", received=D(2026, 3, 3), contact=D(2026, 3, 4))

    second = Patient.objects.create(organization=cast.lead, given_name="Sol", family_name="Second",
                                    birth_date=D(1950, 1, 1), gender="male", synthetic=True)
    for patient in (cast.pat, second):
        ProgramEpisode.objects.create(patient=patient, organization=cast.lead, status=EpisodeStatus.ACTIVE,
                                      period_start=D(2026, 2, 1), navigator=cast.navigator, clp=clp)
    ProgramEpisode.objects.create(patient=cast.other_patient, organization=cast.partner,
                                  status=EpisodeStatus.ACTIVE, period_start=D(2026, 2, 1),
                                  navigator=cast.outsider, clp=clp)
    versions = load_instruments(cast)
    assessment_submit(actor=cast.actor(cast.navigator), patient=cast.pat, version=versions["nccn-dt"],
                      answers={"distress": [6], "problems-practical": ["transportation"]},
                      authored_at=at(D(2026, 3, 1)), filled_by="patient")
    Barrier.objects.create(patient=cast.pat, kind="transportation", identified_at=D(2026, 2, 2),
                           status="resolved", resolved_at=D(2026, 2, 20))
    Barrier.objects.create(patient=second, kind="financial", identified_at=D(2026, 3, 1))
    Barrier.objects.create(patient=second, kind="financial", identified_at=D(2025, 6, 1),
                           status="resolved", resolved_at=D(2026, 1, 5))
    Barrier.objects.create(patient=cast.other_patient, kind="housing", identified_at=D(2026, 2, 2))


def test_measures_on_known_data(cast, program_data):
    m = selectors.program_measures_for(cast.actor(cast.admin), period=PERIOD)
    r = m.referrals
    assert r.total == 10
    assert r.by_source == {"web_search": 6, "physician": 4}
    assert dict(m.by_month) == {"2026-01": 3, "2026-02": 4, "2026-03": 3, "2026-04": 0, "2026-05": 0,
                                "2026-06": 0}
    assert r.median_days_to_first_contact == pytest.approx(5.5)
    assert r.p90_days_to_first_contact == pytest.approx(9.0)
    assert r.median_days_to_first_appointment == pytest.approx(6.0)  # 2, 4, 6, 8, 10
    assert r.p90_days_to_first_appointment == pytest.approx(10.0)
    assert (m.screening.eligible, m.screening.screened) == (2, 1)
    assert m.screening.rate == pytest.approx(0.5)
    assert [(b.kind, b.opened, b.resolved) for b in m.barriers] == [("transportation", 1, 1), ("financial", 1, 1)]
    assert [(c.navigator, c.open_episodes) for c in m.caseloads] == [("Grace Navigator", 2)]


def test_dashboard_audits_the_read_without_patients(cast, program_data):
    selectors.program_measures_for(cast.actor(cast.admin), period=PERIOD)
    row = AuditEvent.objects.filter(category="program_measures").latest("seq")
    assert row.action == AuditAction.READ and row.patient_id is None


def test_page_shows_charts_tables_and_the_definition(client, cast, program_data):
    client.force_login(cast.admin)
    response = client.get(reverse("dashboard:dashboard"), QUERY)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('role="img"') == 6 and html.count("<desc") == 6
    assert 'id="table-sources"' in html and "Web search" in html
    assert "50%" in html and "1 of 2 enrolled patients screened" in html
    assert rules.SCREENING_DEFINITION in html
    assert "Pat" not in html.replace("Patients", "").replace("patients", "") and "L-1001" not in html
    assert "<script" not in html.split("</header>")[-1] or "nonce" in html


def test_default_period_is_the_last_twelve_months(client, cast, clp):
    client.force_login(clp)
    response = client.get(reverse("dashboard:dashboard"))
    assert response.status_code == 200
    assert response.context["m"].period == rules.default_period(timezone.localdate())


def test_an_invalid_period_is_a_form_error(client, cast):
    client.force_login(cast.admin)
    response = client.get(reverse("dashboard:dashboard"), {"start": "2026-06-01", "end": "2026-01-01"})
    assert response.status_code == 400
    assert "before the start date" in response.content.decode()


@pytest.mark.parametrize("who", ["navigator", "oncologist", "outsider", "researcher", "patient_user", "caregiver"])
def test_requires_the_right_role(client, cast, who):
    client.force_login(getattr(cast, who))
    assert client.get(reverse("dashboard:dashboard")).status_code == 403
    assert client.get(reverse("dashboard:export", args=["sources"])).status_code == 403


def test_requires_sign_in(client, cast):
    response = client.get(reverse("dashboard:dashboard"))
    assert response.status_code == 302 and "/login" in response["Location"]


def test_an_administrator_of_a_non_clinical_organisation_is_refused(client, cast):
    Membership.objects.create(user=cast.researcher, organization=cast.research, role=Role.PROGRAM_ADMIN)
    client.force_login(cast.researcher)
    assert client.get(reverse("dashboard:dashboard")).status_code == 403


def test_hides_other_organisations(client, cast, program_data, partner_clp):
    m = selectors.program_measures_for(cast.actor(partner_clp), period=PERIOD)
    assert m.organization == cast.partner
    assert m.referrals.total == 1 and m.referrals.by_source == {"friend_family": 1}
    assert (m.screening.eligible, m.screening.screened) == (1, 0)
    assert [(b.kind, b.opened) for b in m.barriers] == [("housing", 1)]
    with pytest.raises(Forbidden):
        selectors.program_measures_for(cast.actor(partner_clp), period=PERIOD, organization_id=cast.lead.pk)
    client.force_login(partner_clp)
    assert client.get(reverse("dashboard:dashboard"), {**QUERY, "organization": cast.lead.pk}).status_code in (
        400, 403)
    page = client.get(reverse("dashboard:dashboard"), QUERY).content.decode()
    assert "Partner Hospital" in page and "Lead Cancer Program" not in page and "Web search" not in page
    csv_text = client.get(reverse("dashboard:export", args=["sources"]), QUERY).content.decode()
    assert "Web search" not in csv_text and "Friend or family,1" in csv_text


def test_a_clp_of_two_organisations_chooses_one(client, cast, program_data, clp):
    Membership.objects.create(user=clp, organization=cast.partner, role=Role.CLP)
    client.force_login(clp)
    page = client.get(reverse("dashboard:dashboard"), {**QUERY, "organization": cast.partner.pk})
    assert page.status_code == 200 and page.context["m"].organization == cast.partner


@pytest.mark.parametrize("table", selectors.TABLES)
def test_csv_export_is_audited_and_free_of_patient_identifiers(client, cast, program_data, table):
    client.force_login(cast.admin)
    before = AuditEvent.objects.filter(action=AuditAction.EXPORT).count()
    response = client.get(reverse("dashboard:export", args=[table]), QUERY)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"] and "no-store" in response["Cache-Control"]
    text = response.content.decode()
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) >= 2
    for secret in ("Pat", "Patient", "Sol", "Second", "Nora", "Quinn", "L-1001", "1961-04-02", "555-0142"):
        assert secret not in text.replace("patients", "")
    exports = AuditEvent.objects.filter(action=AuditAction.EXPORT)
    assert exports.count() == before + 1
    row = exports.latest("seq")
    assert row.category == "program_measures" and row.patient_id is None and table in row.detail


def test_csv_values(client, cast, program_data):
    client.force_login(cast.admin)
    text = client.get(reverse("dashboard:export", args=["timeliness"]), QUERY).content.decode()
    assert list(csv.reader(io.StringIO(text))) == [
        ["Interval", "Median days", "90th percentile days"],
        ["Referral to first contact", "5.5", "9.0"],
        ["Referral to first appointment", "6.0", "10.0"],
    ]
    text = client.get(reverse("dashboard:export", args=["screening"]), QUERY).content.decode()
    assert list(csv.reader(io.StringIO(text)))[1] == ["2", "1", "1", "50.0"]


def test_unknown_table_is_404(client, cast):
    client.force_login(cast.admin)
    assert client.get(reverse("dashboard:export", args=["patients"])).status_code == 404


def test_nav_link_for_administrators_only(client, cast):
    client.force_login(cast.admin)
    assert reverse("dashboard:dashboard") in client.get("/").content.decode()
    client.force_login(cast.navigator)
    assert reverse("dashboard:dashboard") not in client.get("/").content.decode()


def test_page_query_budget_does_not_grow_with_the_data(client, cast, program_data, django_assert_max_num_queries):
    """Every measure is an aggregate query: the page's query count is fixed, whatever the volume."""
    client.force_login(cast.admin)
    with django_assert_max_num_queries(25):
        assert client.get(reverse("dashboard:dashboard"), QUERY).status_code == 200
    for i in range(20):
        _referral(cast, org=cast.lead, source="event", received=D(2026, 4, 1 + i), contact=D(2026, 4, 2 + i))
    with django_assert_max_num_queries(25):
        assert client.get(reverse("dashboard:dashboard"), QUERY).status_code == 200
