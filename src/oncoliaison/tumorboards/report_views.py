"""The CoC standard 2.5 conference report pages: the report (year and series chosen by a GET form), its
printable version and its CSV export.  Counts only — no patient data in the page, the URL or the file.

The charts are the program dashboard's (``dashboard.charts.bar_chart``: inline SVG, no JavaScript, each with
a title and description for screen readers) and every chart has the same numbers in a table beside it.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.safestring import SafeString
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from oncoliaison.core import clock
from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import NotFound
from oncoliaison.core.models import AuditAction
from oncoliaison.core.views import actor_of, csv_download, maps_domain_errors
from oncoliaison.dashboard import charts

from . import report, selectors


class ReportForm(forms.Form):
    year = forms.TypedChoiceField(label="Year", coerce=int)
    series = forms.TypedChoiceField(label="Conference series", required=False, coerce=int, empty_value=None)

    def __init__(self, *args: Any, actor: Actor, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        year_field, series_field = self.fields["year"], self.fields["series"]
        assert isinstance(year_field, forms.TypedChoiceField) and isinstance(series_field, forms.TypedChoiceField)
        year_field.choices = [(y, str(y)) for y in report.report_years_for(actor, current_year=clock.today().year)]
        series_field.choices = [("", "All my series"), *((s.pk, s.name) for s in selectors.report_series_for(actor)
                                                          .order_by("name", "pk"))]


def _reports(request: HttpRequest, action: str) -> tuple[ReportForm, list[report.SeriesReport] | None]:
    actor = actor_of(request)
    report.require_report_reader(actor)  # 403 before anything else for other roles
    current = clock.today().year
    form = ReportForm(request.GET or None, actor=actor, initial={"year": current})
    if not request.GET:
        return form, report.conference_reports_for(actor, year=current, action=action)
    if not form.is_valid():
        if "series" in form.errors:  # a series that is missing or not the actor's: the same not-found
            raise NotFound()
        return form, None
    return form, report.conference_reports_for(actor, year=form.cleaned_data["year"],
                                               series_id=form.cleaned_data["series"], action=action)


# Each chart: (title, description, value axis, category axis); {name}, {year} and the report's counts fill them.
CHART_TEXT: dict[str, tuple[str, str, str, str]] = {
    "conferences": ("Conferences of {name}, {year}",
                    "{scheduled} conferences scheduled, {held} held, {cancelled} cancelled.",
                    "Conferences", "Conferences"),
    "cases": ("Cases presented at {name}, {year}: what was discussed",
              "Percent of the {cases} cases presented that were prospective, had their stage, a national guideline "
              "and clinical trials discussed.", "Percent of cases presented", "Cases"),
    "attendance": ("Attendance of the required specialties at {name}, {year}",
                   "Percent of the {held} conferences held at which each required specialty was present, and at "
                   "which all of them were.", "Percent of conferences held", "Specialty"),
    "partners": ("Partner-hospital participation in {name}, {year}",
                 "Percent of conferences held with an attendee from a partner hospital, and percent of cases "
                 "presented that a partner hospital submitted.", "Percent", "Participation"),
}


# Bars have room for short labels; the table beside each chart gives the full wording.
BAR_LABELS = {"partner_conferences": "With a partner attendee", "partner_cases": "Cases from partners"}


def chart_of(r: report.SeriesReport, group: str) -> SafeString:
    """One of the report's charts: counts of conferences, else percents (a figure without a denominator — no
    case presented, no conference held — has no bar)."""
    title, description, value_label, category_label = CHART_TEXT[group]
    rep = r.report
    fill = {"name": r.series.name, "year": r.year, "scheduled": rep.scheduled, "held": rep.held,
            "cancelled": rep.cancelled, "cases": rep.cases_presented}
    counts = group == "conferences"
    bars = [(BAR_LABELS.get(f.key, f.label), float(f.count) if counts else f.percent) for f in r.group(group)]
    return charts.bar_chart([(label, v) for label, v in bars if v is not None], chart_id=f"chart-{r.series.pk}-{group}",
                            title=title.format(**fill), description=description.format(**fill),
                            value_label=value_label, category_label=category_label,
                            unit="" if counts else "%", counts=counts)


def _page(request: HttpRequest, template: str, action: str) -> HttpResponse:
    form, reports = _reports(request, action)
    sections = [(r, [(name, caption, chart_of(r, name), r.group(name)) for name, caption in report.GROUPS])
                for r in reports or []]
    return render(request, template, {"form": form, "reports": reports, "query": request.GET.urlencode(),
                                      "sections": sections, "year": reports[0].year if reports else None},
                  status=400 if reports is None else 200)


@never_cache
@login_required
@require_GET
@maps_domain_errors
def conference_report(request: HttpRequest) -> HttpResponse:
    return _page(request, "tumorboards/report.html", AuditAction.READ)


@never_cache
@login_required
@require_GET
@maps_domain_errors
def conference_report_print(request: HttpRequest) -> HttpResponse:
    """The printable report (the committee's annual pack); printing is audited as such."""
    return _page(request, "tumorboards/report_print.html", AuditAction.PRINT)


@never_cache
@login_required
@require_GET
@maps_domain_errors
def conference_report_csv(request: HttpRequest) -> HttpResponse:
    """One row per series and figure."""
    _form, reports = _reports(request, AuditAction.EXPORT)
    if reports is None:
        return HttpResponse("The year is not valid.", status=400, content_type="text/plain; charset=utf-8")
    year = reports[0].year if reports else clock.today().year
    return csv_download(report.CSV_HEADER, report.csv_rows(reports), f"coc-2.5-conference-report-{year}.csv")
