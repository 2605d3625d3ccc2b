"""The program dashboard page and its CSV exports (aggregate measures only, no patient data in URLs or files).

The period and organisation come from a GET form: dates and an organisation id are not patient data.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from oncoliaison.core import clock
from oncoliaison.core.actor import Actor
from oncoliaison.core.views import actor_of, csv_download, maps_domain_errors

from . import charts, rules, selectors


class PeriodForm(forms.Form):
    start = forms.DateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    organization = forms.TypedChoiceField(label="Organisation", required=False, coerce=int, empty_value=None)

    def __init__(self, *args: Any, actor: Actor, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        orgs = selectors.dashboard_organizations_for(actor)
        field = self.fields["organization"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [(o.pk, o.name) for o in orgs]
        if len(orgs) < 2:
            field.widget = forms.HiddenInput()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        default = rules.default_period(clock.today())
        first = data.get("start") or default.first
        last = data.get("end") or default.last
        error = rules.period_error(first, last)
        if error:
            self.add_error("end", error)
        data["period"] = rules.Period(first, last)
        return data


def _measures(request: HttpRequest) -> tuple[PeriodForm, selectors.ProgramMeasures | None]:
    actor = actor_of(request)
    selectors.require_dashboard_role(actor)  # 403 before anything else for other roles
    default = rules.default_period(clock.today())
    form = PeriodForm(request.GET or None, actor=actor, initial={"start": default.first, "end": default.last})
    if request.GET and not form.is_valid():
        return form, None
    data = form.cleaned_data if request.GET else {}
    period = data.get("period") or default
    return form, selectors.program_measures_for(actor, period=period, organization_id=data.get("organization"))


def _charts(m: selectors.ProgramMeasures) -> dict[str, Any]:
    r = m.referrals
    span = f"{m.period.first:%d %b %Y} to {m.period.last:%d %b %Y}"
    timeliness = [(label, v) for label, v in (
        ("First contact, median", r.median_days_to_first_contact),
        ("First contact, 90th pct", r.p90_days_to_first_contact),
        ("Appointment, median", r.median_days_to_first_appointment),
        ("Appointment, 90th pct", r.p90_days_to_first_appointment),
    ) if v is not None]
    screening = m.screening
    return {
        "sources": charts.bar_chart(
            [(selectors.source_label(k), v) for k, v in r.by_source.items()],
            title=f"Referrals by source, {span}", chart_id="chart-sources",
            description=f"{r.total} referrals received; bars show how many came from each source.",
            value_label="Referrals", category_label="Source"),
        "months": charts.bar_chart(
            m.by_month, title=f"Referrals by month received, {span}", chart_id="chart-months",
            description="Number of referrals received in each month of the period.",
            value_label="Referrals", category_label="Month"),
        "timeliness": charts.bar_chart(
            timeliness, title=f"Days from referral to first contact and first appointment, {span}",
            chart_id="chart-timeliness", unit=" d", counts=False,
            description="Median and 90th percentile of days from receipt of the referral.",
            value_label="Days from referral", category_label="Interval"),
        "screening": charts.bar_chart(
            [("Screened", screening.screened), ("Not screened", screening.not_screened)],
            title=f"Distress screening of enrolled patients, {span}", chart_id="chart-screening",
            description=f"{screening.screened} of {screening.eligible} enrolled patients screened with the "
                        "NCCN Distress Thermometer.",
            value_label="Patients", category_label="Screening"),
        "barriers": charts.bar_chart(
            [bar for b in m.barriers for bar in ((f"{b.label} opened", b.opened), (f"{b.label} resolved", b.resolved))],
            title=f"Barriers to care opened and resolved, {span}", chart_id="chart-barriers",
            description="Barriers identified and barriers resolved in the period, by kind.",
            value_label="Barriers", category_label="Kind"),
        "caseloads": charts.bar_chart(
            [(c.navigator, c.open_episodes) for c in m.caseloads],
            title="Open program episodes per navigator (today)", chart_id="chart-caseloads",
            description="Patients currently enrolled with each nurse navigator.",
            value_label="Open episodes", category_label="Navigator"),
    }


@never_cache
@login_required
@require_GET
@maps_domain_errors
def dashboard(request: HttpRequest) -> HttpResponse:
    form, measures = _measures(request)
    ctx: dict[str, Any] = {"form": form, "m": measures, "definition": rules.SCREENING_DEFINITION}
    if measures is None:
        return render(request, "dashboard/dashboard.html", ctx, status=400)
    ctx["charts"] = _charts(measures)
    ctx["tables"] = {name: selectors.table_rows(measures, name) for name in selectors.TABLES}
    ctx["query"] = request.GET.urlencode()
    return render(request, "dashboard/dashboard.html", ctx)


@never_cache
@login_required
@require_GET
@maps_domain_errors
def export_csv(request: HttpRequest, table: str) -> HttpResponse:
    if table not in selectors.TABLES:
        raise Http404()
    _form, measures = _measures(request)
    if measures is None:
        return HttpResponse("The period is not valid.", status=400, content_type="text/plain; charset=utf-8")
    header, rows = selectors.table_rows(measures, table)
    selectors.measures_exported(actor_of(request), measures, table)
    stamp = f"{measures.period.first:%Y%m%d}-{measures.period.last:%Y%m%d}"
    return csv_download(header, rows, f"{table}-{stamp}.csv")


