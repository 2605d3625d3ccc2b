"""The audit report page: an organisation's administrators review, filter, verify and export its audit trail."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator
from typing import Any, cast

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from oncoliaison.core import audit, checkpoints, clock
from oncoliaison.core.access import require_admin
from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import Forbidden
from oncoliaison.core.models import AuditAction, AuditEvent
from oncoliaison.core.prg import renders_on_post
from oncoliaison.core.views import PAGE_SIZE, actor_of, maps_domain_errors

from . import selectors


class AuditFilterForm(forms.Form):
    organization = forms.TypedChoiceField(label="Organisation", coerce=int)
    user = forms.TypedChoiceField(label="User", coerce=int, required=False, empty_value=None)
    action = forms.ChoiceField(label="Action", required=False)
    date_from = forms.DateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    patient_search = forms.CharField(
        label="Find a patient", required=False, max_length=100,
        help_text="Name words or an MRN; then choose the patient from the matches.",
    )
    patient = forms.TypedChoiceField(label="Patient", coerce=int, required=False, empty_value=None)
    page = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args: Any, actor: Actor, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from oncoliaison.accounts.models import User
        from oncoliaison.organisations.models import Organization

        orgs = Organization.objects.filter(pk__in=actor.admin_organization_ids()).order_by("name")
        cast(forms.ChoiceField, self.fields["organization"]).choices = [(o.pk, o.name) for o in orgs]
        users = User.objects.filter(memberships__organization_id__in=actor.admin_organization_ids()).distinct()
        cast(forms.ChoiceField, self.fields["user"]).choices = [("", "Anyone")] + [
            (u.pk, f"{u.get_full_name() or u.username} ({u.username})") for u in users.order_by("last_name")
        ]
        cast(forms.ChoiceField, self.fields["action"]).choices = [("", "Any action"), *AuditAction.choices]
        cast(forms.ChoiceField, self.fields["patient"]).choices = [("", "Any patient")]
        if len(orgs) == 1:
            self.fields["organization"].widget = forms.HiddenInput()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", "The end date is before the start date.")
        return data


CHAIN_STATUS_KEY = "audit-chain-verification"
CHAIN_STATUS_MAX_AGE = 600  # seconds


def _chain_status(*, force: bool) -> dict[str, Any]:
    """The last verification of the whole audit chain; re-run when older than ten minutes or on request.

    Walking the chain costs about 0.1 ms per record, so it is not repeated on every page or filter.
    """
    status: dict[str, Any] | None = None if force else cache.get(CHAIN_STATUS_KEY)
    if status is None:
        result = checkpoints.verify_log()
        status = {"count": result.count, "problem": result.problem, "at": clock.now()}
        cache.set(CHAIN_STATUS_KEY, status, CHAIN_STATUS_MAX_AGE if result.intact else 60)
    return status


def _filtered_rows(actor: Actor, organization_id: int, data: dict[str, Any]) -> QuerySet[AuditEvent]:
    """The report's rows: the shared selector (what the organisation may review) with the form's filters;
    dates are whole days in the current time zone."""
    tz = timezone.get_current_timezone()
    since = until = None
    if data.get("date_from"):
        since = dt.datetime.combine(data["date_from"], dt.time.min, tzinfo=tz)
    if data.get("date_to"):
        until = dt.datetime.combine(data["date_to"] + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    return selectors.audit_event_list_for(
        actor, organization_id, user_id=data.get("user"), patient_id=data.get("patient"),  # ints or None (form)
        action=data.get("action") or "", since=since, until=until,
    )


_CSV_FIELDS = ("seq", "recorded_at", "username", "client_id", "role", "organization_id", "patient_id", "action",
               "category", "resource_type", "resource_id", "outcome", "source_address", "channel", "detail")


def _csv_rows(rows: QuerySet[AuditEvent]) -> Iterator[str]:
    class Echo:
        def write(self, value: str) -> str:
            return value

    writer = csv.writer(Echo())
    yield writer.writerow(_CSV_FIELDS)
    for ev in rows.iterator(chunk_size=2000):
        values = []
        for name in _CSV_FIELDS:
            # The patient as this organisation may see it (hidden on others' refused attempts).
            value = getattr(ev, "patient_shown" if name == "patient_id" else name)
            if name == "recorded_at":
                value = value.isoformat()
            text = "" if value is None else str(value)
            if text[:1] in ("=", "+", "-", "@"):  # no formula injection when opened in a spreadsheet
                text = "'" + text
            values.append(text)
        yield writer.writerow(values)


@renders_on_post  # a search of the audit log (POST keeps patient identifiers out of URLs)
@login_required
@require_http_methods(["GET", "POST"])
@maps_domain_errors
def audit_report(request: HttpRequest) -> HttpResponseBase:
    actor = actor_of(request)
    require_admin(actor)
    form = AuditFilterForm(request.POST if request.method == "POST" else None, actor=actor)
    if request.method == "POST":
        # The patient list comes from the search, so rebuild its choices before validating.
        search = request.POST.get("patient_search", "").strip()[:100]
        candidates = _patient_candidates(actor, search, request.POST.get("patient", ""))
        cast(forms.ChoiceField, form.fields["patient"]).choices = [("", "Any patient")] + [
            (p.pk, f"{p.display_name}, born {p.birth_date:%Y-%m-%d} (#{p.pk})") for p in candidates
        ]
    else:
        form = AuditFilterForm(initial={"organization": actor.primary_organization_id}, actor=actor)
    ctx: dict[str, Any] = {"form": form, "chain": _chain_status(force=request.POST.get("verify") == "1")}
    if request.method == "POST" and not form.is_valid():
        return render(request, "auditlog/audit.html", ctx, status=400)
    data = form.cleaned_data if request.method == "POST" else {"organization": actor.primary_organization_id}
    org_id = data.get("organization") or actor.primary_organization_id
    if org_id not in actor.admin_organization_ids():
        org_id = min(actor.admin_organization_ids())
    rows = _filtered_rows(actor, org_id, data)
    if request.method == "POST" and request.POST.get("export") == "csv":
        audit.log(actor, AuditAction.EXPORT, category="audit-log", resource_type="AuditEvent",
                  detail=f"audit report CSV, organisation {org_id}", channel="web")
        response = StreamingHttpResponse(_csv_rows(rows), content_type="text/csv; charset=utf-8")
        stamp = clock.now().strftime("%Y%m%d-%H%M")
        response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
        response["Cache-Control"] = "no-store"
        return response
    page = Paginator(rows, PAGE_SIZE).get_page(data.get("page") or 1)
    page.object_list = list(page.object_list)  # the rows as they were before this report's own audit row
    audit.log(actor, AuditAction.READ, category="audit-log", resource_type="AuditEvent",
              detail=f"audit report page {page.number}, organisation {org_id}", channel="web")
    ctx["page"] = page
    return render(request, "auditlog/audit.html", ctx)


def _patient_candidates(actor: Actor, search: str, chosen: str) -> list[Any]:
    """Patients of the actor's organisations matching the audit page's search box (audited disclosure)."""
    from oncoliaison.patients.selectors import patient_audit_choices_for

    found: list[Any] = []
    try:
        if search:
            words = [w for w in search.split() if not any(ch.isdigit() for ch in w)]
            ids = [w for w in search.split() if any(ch.isdigit() for ch in w)]
            found = list(patient_audit_choices_for(actor, text=" ".join(words), identifier=ids[0] if ids else "")[:20])
        if chosen.isdigit() and all(p.pk != int(chosen) for p in found):
            found += list(patient_audit_choices_for(actor, pk=int(chosen)))
    except Forbidden:
        found = []
    if found:
        audit.log_patients_read(actor, [p.pk for p in found], category="audit-log", resource_type="Patient",
                                action=AuditAction.SEARCH, channel="web")
    return found
