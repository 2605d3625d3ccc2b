"""Core pages: health check, the home page per role, the audit report, and the page-side mapping of
typed domain errors (NotFound -> 404 page, Forbidden -> 403 page, field errors -> form fields)."""

from __future__ import annotations

import csv
import datetime as dt
import functools
import json
from collections.abc import Callable, Iterator
from typing import Any, TypeVar, cast

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from oncoliaison.core import audit, checkpoints, clock, selectors
from oncoliaison.core.access import require_admin
from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import DomainError, Forbidden, NotFound
from oncoliaison.core.models import AuditAction, AuditEvent
from oncoliaison.core.prg import renders_on_post
from oncoliaison.core.refusals import audit_refused_request

PAGE_SIZE = 50
F = TypeVar("F", bound=Callable[..., HttpResponseBase])


# --- mapping typed errors on pages --------------------------------------------------------------


def maps_domain_errors(view: F) -> F:
    """NotFound becomes the 404 page and Forbidden the 403 page (with the role message only)."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            return view(request, *args, **kwargs)
        except NotFound:
            raise Http404() from None
        except Forbidden as exc:
            audit_refused_request(request, 403, exc.message, channel="web", actor=getattr(request, "actor", None))
            raise PermissionDenied(exc.message) from None

    return wrapper  # type: ignore[return-value]


def login_required_htmx(view: F) -> F:
    """Like login_required, but an htmx request of an expired session reloads the whole page to sign-in
    (instead of the sign-in form being swapped into a fragment of the page)."""
    from django.contrib.auth.views import redirect_to_login

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.user.is_authenticated:
            return view(request, *args, **kwargs)
        if is_htmx(request):
            response = HttpResponse(status=204)
            response["HX-Redirect"] = redirect_to_login(request.path)["Location"]
            return response
        return redirect_to_login(request.get_full_path())

    return wrapper  # type: ignore[return-value]


def form_error_from(form: forms.BaseForm, exc: DomainError, aliases: dict[str, str] | None = None) -> None:
    """Put a service's field errors on the matching form fields; the rest on the form itself."""
    aliases = aliases or {}
    placed = False
    for name, messages in exc.field_errors.items():
        target = aliases.get(name, name)
        for message in messages:
            if target in form.fields:
                form.add_error(target, message)
            else:
                form.add_error(None, message)
            placed = True
    if not placed:
        form.add_error(None, exc.message)


def actor_of(request: HttpRequest) -> Actor:
    return request.actor  # type: ignore[attr-defined,no-any-return]


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


CHANGED_EVENT = "oncoliaison:changed"


def announce_change(response: HttpResponse, message: str, *, focus: str = "") -> HttpResponse:
    """Tell the page what an htmx action changed: ``message`` is read out by screen readers (the page's live
    region, ``static/js/live.js``) and keyboard focus moves to the element with id ``focus`` — by default the
    content the response swapped in.  Every inline action uses this, so no swap leaves focus on nothing."""
    response["HX-Trigger-After-Settle"] = json.dumps({CHANGED_EVENT: {"announce": message, "focus": focus}})
    return response


# --- health ---------------------------------------------------------------------------------------


@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    try:
        with connection.cursor() as cur:
            cur.execute("SELECT 1")
            cur.fetchone()
    except Exception:
        return JsonResponse({"status": "unavailable", "database": "down"}, status=503)
    return JsonResponse({"status": "ok", "database": "up"})


# --- home -----------------------------------------------------------------------------------------


def _staff_home(actor: Actor) -> dict[str, Any]:
    from django.db.models import Prefetch

    from oncoliaison.organisations.models import Membership, Organization, OrganizationKind
    from oncoliaison.patients.models import ConsentKind, PatientIdentifier
    from oncoliaison.patients.selectors import active_consents, current_participant_q, patient_queryset_for

    orgs = Organization.objects.filter(pk__in=actor.organization_ids).order_by("name")
    ctx: dict[str, Any] = {"organisations": list(orgs), "shown_patient_ids": []}
    clinical = actor.clinical_organization_ids
    ctx["clinical"] = bool(clinical)
    from oncoliaison.organisations.selectors import organizations_missing_contact_points

    # Patients of these are told to call a number nobody configured (they see 911/988 instead).
    ctx["missing_contact_points"] = organizations_missing_contact_points(clinical)
    if clinical:
        from oncoliaison.worklists.selectors import work_counts_for

        ctx["work"] = work_counts_for(actor)
        mrns = Prefetch("identifiers", queryset=PatientIdentifier.objects.filter(type_code="MR"), to_attr="mrns")
        visible = patient_queryset_for(actor).prefetch_related(mrns)
        mine = (
            # Care teams the actor is a member of today (not those they were handed off from).
            visible.filter(current_participant_q(prefix="care_teams__participants__"),
                           care_teams__participants__user_id=actor.user_id or 0, care_teams__status="active")
            .select_related("organization")
            .distinct()
        )
        ctx["my_patient_count"] = mine.count()
        ctx["my_patients"] = list(mine[:PAGE_SIZE])
        ctx["shown_patient_ids"] += [p.pk for p in ctx["my_patients"]]
        partner_orgs = [o.pk for o in orgs if o.pk in clinical and o.kind == OrganizationKind.PARTNER_HOSPITAL]
        if partner_orgs:
            shared_ids = active_consents().filter(
                kind=ConsentKind.DATA_SHARING, grantee_organization_id__in=partner_orgs
            ).values("patient_id")
            shared = visible.filter(pk__in=shared_ids).exclude(organization_id__in=partner_orgs)
            ctx["shared_count"] = shared.count()
            ctx["shared_patients"] = list(shared.select_related("organization")[:PAGE_SIZE])
            ctx["shown_patient_ids"] += [p.pk for p in ctx["shared_patients"]]
    admin_orgs = actor.admin_organization_ids()
    if admin_orgs:
        since = clock.now() - dt.timedelta(days=1)
        ctx["admin_orgs"] = list(
            Organization.objects.filter(pk__in=admin_orgs)
            .annotate(
                member_count=Count("memberships", filter=Q(memberships__active=True), distinct=True),
                patient_count=Count("patients", filter=Q(patients__active=True), distinct=True),
            )
            .order_by("name")
        )
        ctx["audit_today"] = AuditEvent.objects.filter(
            organization_id__in=admin_orgs, recorded_at__gte=since
        ).count()
        ctx["may_create_org"] = Organization.objects.filter(
            pk__in=admin_orgs, kind=OrganizationKind.LEAD_PROGRAM
        ).exists()
    ctx["roles"] = sorted({m.get_role_display() for m in Membership.objects.filter(
        user_id=actor.user_id or 0, active=True, organization__active=True)})
    return ctx


def _patient_home(actor: Actor) -> dict[str, Any]:
    from oncoliaison.patients.models import CareTeamParticipant
    from oncoliaison.patients.selectors import (
        access_patient,
        care_team_queryset_for,
        consent_queryset_for,
        current_participant_q,
    )

    if actor.own_patient_id is None:
        return {"no_record": True}
    patient = access_patient(actor, actor.own_patient_id, category="summary", channel="web")
    teams = care_team_queryset_for(actor).filter(patient=patient).prefetch_related(Prefetch(
        "participants", queryset=CareTeamParticipant.objects.filter(current_participant_q()).select_related("user")))
    consents = (
        consent_queryset_for(actor)
        .filter(patient=patient)
        .select_related("grantee_organization", "grantee_user")
        .order_by("-status", "-created_at")
    )
    from oncoliaison.patients.forms import LANGUAGES

    return {"patient": patient, "care_teams": list(teams), "consents": list(consents),
            "language_name": dict(LANGUAGES).get(patient.preferred_language, patient.preferred_language)}


def _caregiver_home(actor: Actor) -> dict[str, Any]:
    from oncoliaison.patients.models import ConsentKind
    from oncoliaison.patients.selectors import active_consents

    grants = list(
        active_consents()
        .filter(kind=ConsentKind.CAREGIVER_PROXY, grantee_user_id=actor.user_id)
        .select_related("patient")
        .order_by("patient__family_name", "patient__given_name")
    )
    return {"grants": grants, "shown_patient_ids": [g.patient_id for g in grants]}


@login_required
def home(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    if actor.kind == "patient":
        ctx = _patient_home(actor)
        template = "core/home_patient.html"
    elif actor.kind == "caregiver":
        ctx = _caregiver_home(actor)
        template = "core/home_caregiver.html"
    else:
        ctx = _staff_home(actor)
        template = "core/home.html"
    shown = ctx.pop("shown_patient_ids", [])
    if shown:
        audit.log_patients_read(actor, shown, category="patient-list", resource_type="Patient",
                                action=AuditAction.SEARCH, channel="web")
    return render(request, template, ctx)


# --- audit report -------------------------------------------------------------------------------


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
        return render(request, "core/audit.html", ctx, status=400)
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
    return render(request, "core/audit.html", ctx)


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
