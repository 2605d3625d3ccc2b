"""The navigator's worklist (filters and sorting by htmx without page reloads) and bulk reassignment."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from oncoliaison.core.errors import DomainError, Forbidden
from oncoliaison.core.views import actor_of, form_error_from, is_htmx, maps_domain_errors

from . import selectors, services
from .forms import HandoffForm, ReassignForm, WorklistFilterForm


def _render(request: HttpRequest, navigator_id: int | None, filters: dict[str, Any], handoff: HandoffForm | None = None,
            status: int = 200) -> HttpResponse:
    actor = actor_of(request)
    navigators = selectors.navigators_for(actor)
    form = WorklistFilterForm(request.GET or None, navigators=navigators)
    if form.is_valid():
        filters = {**form.cleaned_data, **filters}
    wl = selectors.worklist_for(actor, navigator_id=navigator_id if navigator_id is not None else filters.get("navigator"),
                                priority=filters.get("priority") or "", sort=filters.get("sort") or "urgency")
    peers = [n for n in navigators if n.pk != wl.navigator.pk]
    may_hand_off = bool(wl.patients) and bool(peers) and (
        wl.navigator.pk == actor.user_id or bool(actor.admin_organization_ids()))
    if handoff is None:
        handoff = HandoffForm(navigators=peers,
                              patients=[r.patient for r in wl.patients])
    template = "worklists/worklist.html#lists" if is_htmx(request) else "worklists/worklist.html"
    return render(request, template, {
        "form": form, "wl": wl, "is_admin": bool(actor.admin_organization_ids()), "handoff_form": handoff,
        "may_hand_off": may_hand_off,
    }, status=status)


@login_required
@never_cache
@require_GET
@maps_domain_errors
def worklist(request: HttpRequest) -> HttpResponse:
    selectors.require_worklist_role(actor_of(request))
    return _render(request, None, {})


@login_required
@never_cache
@require_POST
@maps_domain_errors
def handoff(request: HttpRequest) -> HttpResponse:
    """Hand the patients ticked on a worklist (one's own, or any navigator's for the CLP) to a peer."""
    actor = actor_of(request)
    selectors.require_worklist_role(actor)
    navigators = selectors.navigators_for(actor)
    raw = request.POST.get("navigator", "")
    wl = selectors.worklist_for(actor, navigator_id=int(raw) if raw.isdigit() else None)
    form = HandoffForm(request.POST, navigators=[n for n in navigators if n.pk != wl.navigator.pk],
                       patients=[r.patient for r in wl.patients])
    if form.is_valid():
        d = form.cleaned_data
        try:
            result = services.patients_hand_off(
                actor=actor, to_user_id=d["to_user"], note=d["note"],
                episode_ids=selectors.handoff_episode_ids(actor, wl.navigator.pk, d["patients"]),
            )
        except Forbidden:
            raise
        except DomainError as exc:
            form_error_from(form, exc, aliases={"episodes": "patients"})
        else:
            messages.success(request, f"Handed off {result.episodes} patient(s) with {result.tasks} open task(s), "
                                      f"{result.alerts} open alert(s) and {result.threads} message thread(s).")
            query = f"?navigator={wl.navigator.pk}" if wl.navigator.pk != actor.user_id else ""
            return redirect(reverse("worklists:worklist") + query)
    return _render(request, wl.navigator.pk, {}, handoff=form, status=422)


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
@maps_domain_errors
def reassign(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    orgs = sorted(actor.admin_organization_ids() & actor.clinical_organization_ids)
    if not orgs:
        raise Forbidden("Bulk reassignment is done by the CLP or a program administrator.")
    organization_id = orgs[0]
    navigators = selectors.reassignable_navigators(actor, organization_id)
    form = ReassignForm(request.POST or None, navigators=navigators)
    if request.method == "POST" and form.is_valid():
        try:
            result = services.caseload_reassign(
                actor=actor, organization_id=organization_id, from_user_id=form.cleaned_data["from_user"],
                to_user_id=form.cleaned_data["to_user"], include_episodes=form.cleaned_data["include_episodes"],
                include_tasks=form.cleaned_data["include_tasks"], note=form.cleaned_data["note"],
            )
        except Forbidden:
            raise
        except DomainError as exc:
            form_error_from(form, exc)
        else:
            messages.success(request, f"Reassigned {result.episodes} program episode(s) and {result.tasks} open task(s).")
            return redirect("worklists:reassign")
    return render(request, "worklists/reassign.html", {
        "form": form, "caseloads": selectors.caseload_summary(actor, organization_id),
    }, status=400 if form.errors else 200)
