"""Reads for the program dashboard: aggregate measures of one organisation over a period, always given the
actor.  Only a Cancer Liaison Physician or program administrator of a lead program or partner hospital may
see them, and only for their own organisation.  Nothing returned here identifies a patient.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count
from django.utils import timezone

from oncoliaison.assessments.models import Assessment, AssessmentStatus
from oncoliaison.careplans.models import Barrier, BarrierKind
from oncoliaison.core import audit
from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import Forbidden
from oncoliaison.core.models import AuditAction
from oncoliaison.organisations.models import ADMIN_ROLES, CARE_DELIVERING_KINDS, Organization
from oncoliaison.programs.models import ProgramEpisode
from oncoliaison.referrals.models import ReferralSource
from oncoliaison.referrals.selectors import ReferralMeasures, referral_measures_for
from oncoliaison.worklists.selectors import caseload_summary

from . import rules

CATEGORY = "program_measures"


def dashboard_organization_ids(actor: Actor) -> frozenset[int]:
    """Organisations whose dashboard the actor may see: a lead program or partner hospital where they are the
    CLP or a program administrator."""
    if actor.kind != "staff":
        return frozenset()
    return frozenset(org_id for org_id, role, kind in actor.memberships
                     if role in ADMIN_ROLES and kind in CARE_DELIVERING_KINDS)


def require_dashboard_role(actor: Actor, organization_id: int | None = None) -> int:
    """The organisation to report on (the one asked for, else the actor's first); Forbidden otherwise."""
    allowed = dashboard_organization_ids(actor)
    if not allowed:
        raise Forbidden("The program dashboard is for the Cancer Liaison Physician and program administrators.")
    if organization_id is None:
        return min(allowed)
    if organization_id not in allowed:
        raise Forbidden("You may see the dashboard of your own organisation only.")
    return organization_id


def dashboard_organizations_for(actor: Actor) -> list[Organization]:
    return list(Organization.objects.filter(pk__in=dashboard_organization_ids(actor)).order_by("name"))


@dataclass(frozen=True)
class BarrierRow:
    kind: str
    label: str
    opened: int
    resolved: int


@dataclass(frozen=True)
class CaseloadRow:
    navigator: str
    open_episodes: int
    open_tasks: int


@dataclass(frozen=True)
class ProgramMeasures:
    organization: Organization
    period: rules.Period
    referrals: ReferralMeasures
    by_month: list[tuple[str, int]]  # every month of the period, zero when none
    screening: rules.ScreeningRate
    barriers: list[BarrierRow]
    caseloads: list[CaseloadRow]


def _bounds(period: rules.Period) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(period.first, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(period.last + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    return start, end


def screening_for(organization_id: int, period: rules.Period) -> rules.ScreeningRate:
    """The distress-screening rate of the organisation (definition in dashboard.rules)."""
    episodes = [
        rules.EpisodeFacts(pid, status, start, end)
        for pid, status, start, end in ProgramEpisode.objects.filter(
            organization_id=organization_id, status__in=rules.COUNTED_STATUSES, period_start__lte=period.last,
        ).exclude(period_end__lt=period.first).values_list("patient_id", "status", "period_start", "period_end")
    ]
    _, end = _bounds(period)
    screens: dict[int, list[dt.date]] = {}
    rows = Assessment.objects.filter(
        organization_id=organization_id, patient_id__in={e.patient_id for e in episodes},
        instrument_version__instrument__code=rules.SCREENING_INSTRUMENT,
        status__in=[AssessmentStatus.COMPLETED, AssessmentStatus.AMENDED], authored_at__lt=end,
    ).values_list("patient_id", "authored_at")
    for pid, authored in rows:
        screens.setdefault(pid, []).append(timezone.localtime(authored).date())
    return rules.screening_rate(episodes, screens, period)


def barriers_for(organization_id: int, period: rules.Period) -> list[BarrierRow]:
    """Barriers of the organisation's patients identified, and resolved, within the period, by kind."""
    base = Barrier.objects.filter(patient__organization_id=organization_id)
    opened = dict(base.filter(identified_at__gte=period.first, identified_at__lte=period.last)
                  .values_list("kind").annotate(n=Count("id")))
    resolved = dict(base.filter(resolved_at__gte=period.first, resolved_at__lte=period.last)
                    .values_list("kind").annotate(n=Count("id")))
    return [BarrierRow(kind, str(label), opened.get(kind, 0), resolved.get(kind, 0))
            for kind, label in BarrierKind.choices if opened.get(kind) or resolved.get(kind)]


def program_measures_for(actor: Actor, *, period: rules.Period, organization_id: int | None = None,
                         channel: str = "web") -> ProgramMeasures:
    """Every measure of the dashboard for one organisation and period (aggregates only; audited as a read)."""
    org_id = require_dashboard_role(actor, organization_id)
    organization = Organization.objects.get(pk=org_id)
    start, end = _bounds(period)
    referrals = referral_measures_for(actor, start=start, end=end, organization_id=org_id)
    by_month = [(key, referrals.by_month.get(key, 0)) for key in rules.month_keys(period)]
    caseloads = [
        CaseloadRow(row["user"].get_full_name() or row["user"].get_username(),  # type: ignore[attr-defined]  # caseload rows hold a User
                    int(row["episodes"]), int(row["tasks"]))  # type: ignore[call-overload]  # caseload rows hold int counts
        for row in caseload_summary(actor, org_id)
    ]
    measures = ProgramMeasures(
        organization=organization, period=period, referrals=referrals, by_month=by_month,
        screening=screening_for(org_id, period), barriers=barriers_for(org_id, period), caseloads=caseloads,
    )
    audit.log(actor, AuditAction.READ, category=CATEGORY, resource_type="MeasureReport", resource_id=org_id,
              detail=f"program dashboard {period.first:%Y-%m-%d}..{period.last:%Y-%m-%d}", channel=channel)
    return measures


# --- tables for the page and the CSV export (aggregate rows only) -------------------------------------------

TABLES = ("sources", "months", "timeliness", "screening", "barriers", "caseloads")


def source_label(key: str) -> str:
    labels: dict[str, str] = {k: str(v) for k, v in ReferralSource.choices}
    return labels.get(key, "Not recorded")


def _days(x: float | None) -> str:
    return "" if x is None else f"{x:.1f}"


def table_rows(measures: ProgramMeasures, table: str) -> tuple[list[str], list[list[str]]]:
    """(header, rows) of one of the dashboard's tables, as text."""
    r = measures.referrals
    if table == "sources":
        return ["Referral source", "Referrals"], [[source_label(k), str(v)] for k, v in r.by_source.items()]
    if table == "months":
        return ["Month received", "Referrals"], [[k, str(v)] for k, v in measures.by_month]
    if table == "timeliness":
        return ["Interval", "Median days", "90th percentile days"], [
            ["Referral to first contact", _days(r.median_days_to_first_contact), _days(r.p90_days_to_first_contact)],
            ["Referral to first appointment", _days(r.median_days_to_first_appointment),
             _days(r.p90_days_to_first_appointment)],
        ]
    if table == "screening":
        s = measures.screening
        return ["Enrolled patients", "Screened", "Not screened", "Rate (%)"], [
            [str(s.eligible), str(s.screened), str(s.not_screened), "" if s.rate is None else f"{s.rate * 100:.1f}"]
        ]
    if table == "barriers":
        return ["Barrier kind", "Opened", "Resolved"], [[b.label, str(b.opened), str(b.resolved)]
                                                        for b in measures.barriers]
    if table == "caseloads":
        return ["Navigator", "Open episodes", "Open tasks"], [[c.navigator, str(c.open_episodes), str(c.open_tasks)]
                                                             for c in measures.caseloads]
    raise ValueError(f"unknown table {table}")


def measures_exported(actor: Actor, measures: ProgramMeasures, table: str, *, channel: str = "web") -> None:
    audit.log(actor, AuditAction.EXPORT, category=CATEGORY, resource_type="MeasureReport",
              resource_id=measures.organization.pk,
              detail=f"{table} CSV {measures.period.first:%Y-%m-%d}..{measures.period.last:%Y-%m-%d}",
              channel=channel)
