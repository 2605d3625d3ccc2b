"""The navigator's worklist (filters and sorting by htmx without page reloads) and bulk reassignment."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from oncoliaison.core.errors import DomainError, Forbidden
from oncoliaison.core.views import actor_of, form_error_from, is_htmx, maps_domain_errors

from . import selectors, services
from .forms import ReassignForm, WorklistFilterForm


@login_required
@never_cache
@require_GET
@maps_domain_errors
def worklist(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    selectors.require_worklist_role(actor)
    navigators = selectors.navigators_for(actor)
    form = WorklistFilterForm(request.GET or None, navigators=navigators)
    filters = form.cleaned_data if form.is_valid() else {}
    wl = selectors.worklist_for(actor, navigator_id=filters.get("navigator"), priority=filters.get("priority") or "",
                                sort=filters.get("sort") or "urgency")
    template = "worklists/worklist.html#lists" if is_htmx(request) else "worklists/worklist.html"
    return render(request, template, {"form": form, "wl": wl, "is_admin": bool(actor.admin_organization_ids())})


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
                include_tasks=form.cleaned_data["include_tasks"],
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
    })
