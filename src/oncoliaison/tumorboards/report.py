"""The CoC standard 2.5 conference report as the pages show it: one section per series for a calendar year,
each figure as a row (label, count, denominator, percent) that the page's tables, its charts and the CSV
export all read, so the three never disagree.

The figures themselves are ``rules.conference_report`` (their definitions: that function's docstring and
docs/tumor-boards.md); who may read which series is ``selectors.report_series_for``.  Nothing here
identifies a patient: the report holds counts only, and reading or exporting it is audited as such.
"""

from __future__ import annotations

from dataclasses import dataclass

from oncoliaison.core import audit
from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import Forbidden, NotFound
from oncoliaison.core.models import AuditAction

from . import rules, selectors
from .models import ConferenceSeries, Meeting, Specialty

RESOURCE_TYPE = "MeasureReport"
SPECIALTY_LABELS: dict[str, str] = {str(k): str(v) for k, v in Specialty.choices}


@dataclass(frozen=True)
class Figure:
    """One figure of the report: ``count`` of ``of`` (None for a plain count), and the percent."""

    key: str
    label: str
    count: int
    of: int | None = None
    percent: float | None = None
    group: str = "conferences"


@dataclass(frozen=True)
class SeriesReport:
    series: ConferenceSeries
    year: int
    report: rules.ConferenceReport
    figures: tuple[Figure, ...]

    def group(self, name: str) -> list[Figure]:
        return [f for f in self.figures if f.group == name]

    @property
    def required_labels(self) -> list[str]:
        return [SPECIALTY_LABELS.get(s, s) for s in self.series.required_specialties]


# The report's parts, in order: (group, caption of its table).
GROUPS = (
    ("conferences", "Conferences scheduled, held and cancelled"),
    ("cases", "Cases presented, and what was discussed (percent of cases presented)"),
    ("attendance", "Attendance of the required specialties (percent of conferences held)"),
    ("partners", "Partner-hospital participation"),
)


def _share(key: str, label: str, share: rules.Share, group: str) -> Figure:
    return Figure(key, label, share.count, share.of, share.percent, group)


def figures_of(report: rules.ConferenceReport, required_specialties: list[str]) -> tuple[Figure, ...]:
    """Every figure of one series' report, in the order the page, the charts and the CSV show them."""
    r = report
    return (
        Figure("scheduled", "Conferences scheduled", r.scheduled),
        Figure("held", "Conferences held", r.held, r.scheduled, rules.Share(r.held, r.scheduled).percent),
        Figure("cancelled", "Conferences cancelled", r.cancelled, r.scheduled,
               rules.Share(r.cancelled, r.scheduled).percent),
        Figure("cases_presented", "Cases presented", r.cases_presented, group="cases"),
        _share("prospective", "Prospective cases", r.prospective, "cases"),
        _share("stage_discussed", "Stage discussed", r.stage_discussed, "cases"),
        _share("guideline_discussed", "National guideline discussed", r.guideline_discussed, "cases"),
        _share("trial_discussed", "Clinical trials discussed", r.trial_discussed, "cases"),
        *(_share(f"attendance_{s}", SPECIALTY_LABELS.get(s, s), r.specialty_attendance[s], "attendance")
          for s in required_specialties if s in r.specialty_attendance),
        _share("all_required_present", "All required specialties present", r.all_required_present, "attendance"),
        _share("partner_conferences", "Conferences with a partner-hospital attendee", r.partner_conferences,
               "partners"),
        _share("partner_cases", "Cases submitted by a partner hospital", r.partner_cases, "partners"),
    )


def may_read_reports(actor: Actor) -> bool:
    """Staff who administer a program (the CLP, the program administrator) or coordinate a series; an API
    client of a program with series (its Appointment read scope is checked by ``report_series_for``)."""
    if actor.is_system:
        return selectors.report_series_for(actor).exists()
    if actor.kind != "staff":
        return False
    return bool(actor.admin_organization_ids()) or selectors.report_series_for(actor).exists()


def require_report_reader(actor: Actor) -> None:
    if not may_read_reports(actor):
        raise Forbidden("The tumor-board report is for the CLP, the program administrator and the coordinators of "
                        "each conference series.")


def report_years_for(actor: Actor, *, current_year: int) -> list[int]:
    """The years in which the actor's series met or were scheduled to, and the current year; newest first."""
    years = {d.year for d in Meeting.objects.filter(series__in=selectors.report_series_for(actor))
             .dates("starts_at", "year")}
    return sorted(years | {current_year}, reverse=True)


def conference_reports_for(actor: Actor, *, year: int, series_id: int | None = None,
                           action: str = AuditAction.READ, channel: str = "web") -> list[SeriesReport]:
    """The report of each series the actor may read (or of the one asked for: NotFound when it is missing or
    not theirs) for ``year``; one audit row per series shown (``action``: read, print or export)."""
    require_report_reader(actor)
    series = selectors.report_series_for(actor).select_related("organization").order_by("name", "pk")
    if series_id is not None:
        series = series.filter(pk=series_id)
        if not series.exists():
            raise NotFound()
    out = []
    for s in series:
        report = selectors.report_for(s, year)
        out.append(SeriesReport(s, year, report, figures_of(report, list(s.required_specialties))))
        audit.log(actor, action, category=selectors.CATEGORY, resource_type=RESOURCE_TYPE, resource_id=s.pk,
                  detail=f"CoC 2.5 conference report {year}, series {s.pk} (counts only)", channel=channel)
    return out


CSV_HEADER = ["Year", "Series", "Organisation", "Figure", "Count", "Of", "Percent"]


def csv_rows(reports: list[SeriesReport]) -> list[list[str]]:
    """One row per series and figure (counts and percents only)."""
    return [[str(r.year), r.series.name, r.series.organization.name, f.label, str(f.count),
             "" if f.of is None else str(f.of), "" if f.percent is None else f"{f.percent:.1f}"]
            for r in reports for f in r.figures]
