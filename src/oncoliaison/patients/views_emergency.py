"""Break-glass pages: ask for emergency access, end it, and the privacy officer's review."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from oncoliaison.core.access import get_visible_or_404
from oncoliaison.core.errors import Forbidden, ValidationFailed
from oncoliaison.core.views import actor_of, form_error_from, maps_domain_errors

from . import selectors, services
from .forms import EmergencyAccessForm, EmergencyReviewForm


@login_required
@require_http_methods(["GET", "POST"])
@maps_domain_errors
def emergency_access(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    if not selectors.may_break_glass(actor):
        raise Forbidden("Your role does not include emergency access to patient records.")
    form = EmergencyAccessForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            access = services.emergency_access_start(actor=actor, data=form.to_data(), channel="web")
        except ValidationFailed as exc:
            form_error_from(form, exc)
        else:
            messages.warning(request, f"Emergency access is open until {access.expires_at:%H:%M} UTC. "
                                      "Everything you open is recorded for the privacy officer.")
            return redirect("patients:detail", pk=access.patient_id)
    status = 400 if form.errors else 200
    return render(request, "patients/emergency_access.html", {"form": form}, status=status)


@login_required
@require_POST
@maps_domain_errors
def emergency_access_end(request: HttpRequest, pk: int) -> HttpResponse:
    services.emergency_access_end(actor=actor_of(request), access_id=pk, channel="web")
    messages.info(request, "Emergency access ended.")
    return redirect("home:home")


@login_required
@require_http_methods(["GET"])
@maps_domain_errors
def emergency_review(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    unreviewed = request.GET.get("show") != "all"
    sessions = selectors.emergency_access_review_list_for(actor, unreviewed_only=unreviewed)
    return render(request, "patients/emergency_review.html",
                  {"sessions": sessions, "unreviewed": unreviewed, "form": EmergencyReviewForm()})


@login_required
@require_POST
@maps_domain_errors
def emergency_review_record(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    access = get_visible_or_404(selectors.emergency_access_queryset_for(actor), pk)
    form = EmergencyReviewForm(request.POST)
    if form.is_valid():
        services.emergency_access_review(actor=actor, access=access, note=form.cleaned_data["note"])
        messages.success(request, "Review recorded.")
    else:
        messages.error(request, "Write what the review found.")
    return redirect("patients:emergency_review")
