"""Pages of symptom monitoring: the navigator's alert worklist, phone entry of a report, a patient's
symptom history with charts, and instrument administration.  Adapters only: they build the actor, check the
input's shape, and call the selectors and services."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from oncoliaison.core import audit, clock
from oncoliaison.core.access import require_admin
from oncoliaison.core.errors import DomainError, NotFound
from oncoliaison.core.views import actor_of, announce_change, form_error_from, is_htmx, maps_domain_errors
from oncoliaison.instruments.models import InstrumentPermission, PermissionKind
from oncoliaison.patients.forms import LANGUAGES
from oncoliaison.patients.selectors import access_patient, contact_points_for

from . import selectors, services
from .charts import Series, line_chart
from .forms import (
    ActionForm,
    PermissionForm,
    PolicyForm,
    ReportForm,
    ResolveForm,
    RuleForm,
    ScheduleForm,
    SwitchOffForm,
)
from .models import ScoringMethod, SymptomReport

# --- the worklist --------------------------------------------------------------------------------------------


@never_cache
@login_required
@require_GET
@maps_domain_errors
def worklist(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    mine = request.GET.get("mine") == "1"
    alerts = selectors.alert_worklist_for(actor, mine_only=mine)
    overdue = selectors.overdue_schedules_for(actor)
    waiting = [a for a in alerts if not a.acknowledged_at and a.status != "resolved"]
    return render(request, "monitoring/worklist.html", {
        "alerts": alerts, "overdue": overdue, "mine": mine, "now": clock.now(), "waiting": waiting,
        "action_form": ActionForm(), "resolve_form": ResolveForm(),
    })


@never_cache
@login_required
@require_GET
@maps_domain_errors
def alert_detail(request: HttpRequest, alert_id: int) -> HttpResponse:
    """One alert: why it fired (by clinical weight, with the patient's words), what was done and the notes —
    the page the e-mail notices link to, and where a physician reads the note of an alert escalated to them."""
    actor = actor_of(request)
    selectors.require_care_role(actor)
    alert = selectors.alert_detail_for(actor, alert_id)
    return render(request, "monitoring/alert.html", {
        "a": alert, "now": clock.now(), "action_form": ActionForm(), "resolve_form": ResolveForm(),
    })


def _row(request: HttpRequest, alert_id: int, *, error: str = "", done: str = "", form: Any = None) -> HttpResponse:
    """The alert's worklist row after an action: ``done`` says what happened (announced, focus on the row)."""
    actor = actor_of(request)
    alert = selectors.alert_get_for(actor, alert_id)
    if not is_htmx(request):
        if error:
            messages.error(request, error)
        elif done:
            messages.success(request, done)
        return redirect("monitoring:worklist")
    audit.log_patients_read(actor, [alert.patient_id], category="symptoms", resource_type="Flag", channel="web")
    response = render(request, "monitoring/worklist.html#alert-row", {
        "a": alert, "now": clock.now(), "row_error": error,
        "action_form": form or ActionForm(), "resolve_form": ResolveForm(),
    }, status=422 if error else 200)
    return announce_change(response, error or done, focus=f"alert-{alert.pk}")


def _version(request: HttpRequest) -> int | None:
    raw = request.POST.get("version", "")
    return int(raw) if raw.isdigit() else None


@never_cache
@login_required
@require_POST
@maps_domain_errors
def alert_acknowledge(request: HttpRequest, alert_id: int) -> HttpResponse:
    actor = actor_of(request)
    alert = selectors.alert_get_for(actor, alert_id)
    try:
        services.alert_acknowledge(actor=actor, alert=alert, expected_version=_version(request))
    except NotFound:
        raise
    except DomainError as exc:
        return _row(request, alert_id, error=exc.message)
    return _row(request, alert_id, done="Alert acknowledged.")


@never_cache
@login_required
@require_POST
@maps_domain_errors
def alert_action(request: HttpRequest, alert_id: int) -> HttpResponse:
    actor = actor_of(request)
    alert = selectors.alert_get_for(actor, alert_id)
    form = ActionForm(request.POST)
    if not form.is_valid():
        return _row(request, alert_id, error="Choose the action taken.", form=form)
    try:
        services.alert_record_action(actor=actor, alert=alert, kind=form.cleaned_data["kind"],
                                     note=form.cleaned_data["note"], expected_version=form.cleaned_data["version"])
    except NotFound:
        raise
    except DomainError as exc:
        return _row(request, alert_id, error=exc.message, form=form)
    return _row(request, alert_id, done="Action recorded on the alert.")


@never_cache
@login_required
@require_POST
@maps_domain_errors
def alert_resolve(request: HttpRequest, alert_id: int) -> HttpResponse:
    actor = actor_of(request)
    alert = selectors.alert_get_for(actor, alert_id)
    form = ResolveForm(request.POST)
    form.is_valid()
    try:
        services.alert_resolve(actor=actor, alert=alert, note=form.cleaned_data.get("note", ""),
                               expected_version=form.cleaned_data.get("version"))
    except NotFound:
        raise
    except DomainError as exc:
        return _row(request, alert_id, error=exc.message)
    return _row(request, alert_id, done="Alert resolved.")


# --- phone entry ---------------------------------------------------------------------------------------------


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
@maps_domain_errors
def phone_report(request: HttpRequest, patient_id: int, code: str) -> HttpResponse:
    actor = actor_of(request)
    selectors.require_care_role(actor)
    patient = access_patient(actor, patient_id, category="symptoms", channel="web")
    instrument = get_object_or_404(selectors.symptom_instruments(), code=code)
    terms: list[int] = []
    if services.scoring_of(instrument) == ScoringMethod.PROCTCAE:
        schedule = next((s for s in selectors.schedules_for_patient(actor, patient)
                         if s.active and s.instrument_id == instrument.pk), None)
        terms = list(schedule.proctcae_terms) if schedule else []
    items = selectors.form_items(instrument, terms)
    enabled = services.instrument_on(instrument, patient.organization_id)
    form = ReportForm(request.POST or None, items=items)
    if request.method == "POST" and enabled and form.is_valid():
        try:
            result = services.report_submit(actor=actor, patient=patient, instrument=instrument,
                                            answers=form.answers(), source="phone", channel="web")
        except DomainError as exc:
            if isinstance(exc, NotFound):
                raise
            form_error_from(form, exc)
        else:
            # Post/redirect/get: reloading the saved report enters nothing again.
            return redirect("monitoring:report_saved", patient_id=patient.pk, report_id=result.report.pk)
    return render(request, "monitoring/phone_report.html", {
        "patient": patient, "instrument": instrument, "form": form, "enabled": enabled,
        "language_missing": bool(selectors.language_versions_missing(patient, [instrument])),
        "language_name": dict(LANGUAGES).get(patient.preferred_language, patient.preferred_language),
        "needs_terms": services.scoring_of(instrument) == ScoringMethod.PROCTCAE and not terms,
    }, status=400 if form.errors else 200)


@never_cache
@login_required
@require_GET
@maps_domain_errors
def report_saved(request: HttpRequest, patient_id: int, report_id: int) -> HttpResponse:
    """A report entered by staff, as saved: its scores, alert and what the patient was to be told."""
    actor = actor_of(request)
    selectors.require_care_role(actor)
    patient = access_patient(actor, patient_id, category="symptoms", channel="web")
    outcome = selectors.report_outcome_for(actor, patient, report_id)
    return render(request, "monitoring/report_result.html", {
        "patient": patient, "instrument": outcome.report.version.instrument, "result": outcome,
        "scores": list(outcome.report.scores.all()), "contacts": contact_points_for(patient),
    })


# --- history ------------------------------------------------------------------------------------------------


def _charts(reports: list[SymptomReport]) -> list[Any]:
    esas = [r for r in reversed(reports) if r.version.scoring == ScoringMethod.ESAS_R]
    charts = []
    if esas:
        def series(code: str, label: str) -> Series:
            return Series(label, [(r.authored_at, next((s.value for s in r.scores.all() if s.code == code), None))
                                  for r in esas])

        charts.append(line_chart([series("esas-tsds", "Total (0-90)"), series("esas-physical", "Physical (0-60)"),
                                  series("esas-emotional", "Emotional (0-20)")],
                                 y_max=90, title="ESAS-r total and subscores"))
        symptoms = [("esas-pain", "Pain"), ("esas-tiredness", "Tiredness"), ("esas-nausea", "Nausea"),
                    ("esas-breath", "Breath"), ("esas-depression", "Depression"), ("esas-anxiety", "Anxiety")]
        charts.append(line_chart([series(c, lbl) for c, lbl in symptoms], y_max=10, threshold=7,
                                 threshold_label="severe (7)", title="ESAS-r symptoms"))
    pro = [r for r in reversed(reports) if r.version.scoring == ScoringMethod.PROCTCAE]
    if pro:
        codes: dict[str, str] = {}
        for r in pro:
            for s in r.scores.all():
                if s.kind == "composite":
                    codes.setdefault(s.code, s.label)
        charts.append(line_chart(
            [Series(label, [(r.authored_at, next((s.value for s in r.scores.all() if s.code == code), None))
                            for r in pro]) for code, label in list(codes.items())[:8]],
            y_max=3, threshold=3, threshold_label="grade 3", title="PRO-CTCAE composite grades"))
    return charts


@never_cache
@login_required
@require_GET
@maps_domain_errors
def history(request: HttpRequest, patient_id: int) -> HttpResponse:
    actor = actor_of(request)
    selectors.require_care_role(actor)
    patient = access_patient(actor, patient_id, category="symptoms", channel="web")
    reports = selectors.symptom_history_for(actor, patient)
    for r in reports:
        r.score_list = [s for s in r.scores.all() if s.value is not None or s.kind == "scale"]  # type: ignore[attr-defined]  # shown by the template
    instruments = selectors.instruments_enabled_for_patient(patient)
    return render(request, "monitoring/history.html", {
        "patient": patient, "reports": reports, "charts": _charts(reports),
        "schedules": selectors.schedules_for_patient(actor, patient),
        "instruments": instruments,
        "language_missing": selectors.language_versions_missing(patient, instruments),
        "language_name": dict(LANGUAGES).get(patient.preferred_language, patient.preferred_language),
        "schedule_form": ScheduleForm(initial={"starts_on": clock.today(), "frequency_days": 7}),
    })


@never_cache
@login_required
@require_POST
@maps_domain_errors
def schedule_create(request: HttpRequest, patient_id: int) -> HttpResponse:
    actor = actor_of(request)
    selectors.require_care_role(actor)
    patient = access_patient(actor, patient_id, category="symptoms", channel="web")
    form = ScheduleForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        try:
            services.schedule_create(actor=actor, patient=patient, data=services.ScheduleData(
                d["instrument"].pk, d["care_plan_label"], d["frequency_days"], d["starts_on"], d["ends_on"],
                d["proctcae_terms"]))
        except NotFound:
            raise
        except DomainError as exc:
            form_error_from(form, exc, aliases={"instrument": "instrument"})
        else:
            messages.success(request, "The reporting schedule was added.")
            return redirect("monitoring:history", patient_id=patient.pk)
    reports = selectors.symptom_history_for(actor, patient)
    return render(request, "monitoring/history.html", {
        "patient": patient, "reports": reports, "charts": _charts(reports),
        "schedules": selectors.schedules_for_patient(actor, patient),
        "instruments": selectors.instruments_enabled_for_patient(patient), "schedule_form": form,
    }, status=422)


# --- instrument administration -------------------------------------------------------------------------------


def _admin_org(request: HttpRequest) -> int:
    actor = actor_of(request)
    orgs = sorted(actor.admin_organization_ids())
    require_admin(actor)
    return orgs[0]


@never_cache
@login_required
@require_GET
@maps_domain_errors
def instruments(request: HttpRequest) -> HttpResponse:
    org_id = _admin_org(request)
    return render(request, "monitoring/instruments.html", {
        "rows": selectors.instruments_for(actor_of(request), org_id), "form": PermissionForm(),
    })


@never_cache
@login_required
@require_POST
@maps_domain_errors
def permission_record(request: HttpRequest, code: str) -> HttpResponse:
    org_id = _admin_org(request)
    instrument = get_object_or_404(selectors.symptom_instruments(), code=code)
    form = PermissionForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        try:
            services.instrument_permission_record(
                actor=actor_of(request), instrument=instrument, organization_id=org_id,
                data=services.PermissionData(d["granted_by"], d["reference"], d["granted_on"], d["expires_on"],
                                             d["scope_note"]))
        except DomainError as exc:
            form_error_from(form, exc)
        else:
            messages.success(request, f"Permission recorded: {instrument.title} is enabled for your program.")
            return redirect("monitoring:instruments")
    return render(request, "monitoring/instruments.html", {
        "rows": selectors.instruments_for(actor_of(request), org_id), "form": form, "failed_code": code,
    }, status=422)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
@maps_domain_errors
def permission_disable(request: HttpRequest, permission_id: int) -> HttpResponse:
    """Disabling a licence permission: a page that lists the patients whose schedules it stops, a reason and
    a confirmation — never one click."""
    org_id = _admin_org(request)
    actor = actor_of(request)
    permission = (InstrumentPermission.objects.select_related("instrument")
                  .filter(pk=permission_id, organization_id=org_id, kind=PermissionKind.GRANT,
                          instrument__purpose=services.PURPOSE).first())
    if permission is None:
        raise NotFound()
    form = SwitchOffForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.instrument_permission_disable(actor=actor, permission=permission,
                                                   reason=form.cleaned_data["reason"],
                                                   confirmed=form.cleaned_data["confirm"])
        except DomainError as exc:
            form_error_from(form, exc)
        else:
            messages.success(request, "The permission was disabled. Affected schedules are listed on the CLP's "
                                      "worklist.")
            return redirect("monitoring:instruments")
    affected = selectors.schedules_affected_by_disabling(actor, permission)
    # The count is the program's (what the confirmation is about); the names only of patients the person may
    # see — a program administrator sees none (minimum necessary), the CLP's worklist lists them.
    affected_count = selectors.schedules_affected_count(permission)
    return render(request, "monitoring/permission_disable.html", {
        "permission": permission, "form": form, "affected": affected, "affected_count": affected_count,
    }, status=422 if request.method == "POST" else 200)


# --- alert rules and response deadlines of the program ---------------------------------------------------------


def _rules_context(org_id: int, forms_by_kind: dict[str, Any] | None = None,
                   policy_form: PolicyForm | None = None) -> dict[str, Any]:
    from .models import RuleKind

    effective = {r.kind: r for r in services.rules_for(org_id)}
    rows = []
    for kind in RuleKind:
        rule = effective[kind.value]
        initial = {"enabled": rule.enabled, "severity": rule.severity, **rule.params}
        if "phrases" in initial:
            initial["phrases"] = "\n".join(initial["phrases"])
        form = (forms_by_kind or {}).get(kind.value) or RuleForm(initial=initial, prefix=kind.value)
        rows.append({"kind": kind.value, "label": kind.label, "form": form,
                     "fields": [form[name] for name in RuleForm.PARAMS[kind.value]],
                     "protected": services.PROTECTED_RULES.get(kind)})
    policy = services.policy_for(org_id)
    policy_form = policy_form or PolicyForm(initial={
        "severe_minutes": policy.severe_minutes, "moderate_business_days": policy.moderate_business_days,
        "mild_business_days": policy.mild_business_days, "business_day_end_hour": policy.business_day_end_hour,
        "holidays": "\n".join(sorted(d.isoformat() for d in policy.holidays)),
    })
    affected = services.schedules_monitored_by(org_id).values("patient_id").distinct().count()
    return {"rows": rows, "policy_form": policy_form, "affected": affected}


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
@maps_domain_errors
def alert_rules(request: HttpRequest) -> HttpResponse:
    org_id = _admin_org(request)
    actor = actor_of(request)
    if request.method == "POST":
        kind = request.POST.get("rule", "")
        if kind == "policy":
            pform = PolicyForm(request.POST)
            if pform.is_valid():
                d = pform.cleaned_data
                try:
                    services.alert_policy_update(actor=actor, organization_id=org_id, **d)
                except DomainError as exc:
                    form_error_from(pform, exc)
                else:
                    messages.success(request, "Response deadlines saved.")
                    return redirect("monitoring:alert_rules")
            return render(request, "monitoring/rules.html", _rules_context(org_id, policy_form=pform), status=422)
        form = RuleForm(request.POST, prefix=kind)
        if form.is_valid():
            try:
                services.alert_rule_update(actor=actor, organization_id=org_id, kind=kind,
                                           enabled=form.cleaned_data["enabled"],
                                           severity=form.cleaned_data["severity"], params=form.params_for(kind),
                                           reason=form.cleaned_data["reason"], confirmed=form.cleaned_data["confirm"])
            except DomainError as exc:
                form_error_from(form, exc)
            else:
                messages.success(request, "Alert rule saved.")
                return redirect("monitoring:alert_rules")
        return render(request, "monitoring/rules.html", _rules_context(org_id, {kind: form}), status=422)
    return render(request, "monitoring/rules.html", _rules_context(org_id))
