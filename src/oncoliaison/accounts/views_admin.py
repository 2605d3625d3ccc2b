"""Administrators' account-security pages: API clients (list with last use, revoke) and sign-in lock-outs."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from oncoliaison.core.views import actor_of, maps_domain_errors

from . import lockout, selectors, services


@login_required
@require_GET
@maps_domain_errors
def api_clients(request: HttpRequest) -> HttpResponse:
    clients = list(selectors.api_client_list_for(actor_of(request)))
    return render(request, "accounts/api_clients.html", {"clients": clients})


@login_required
@require_POST
@maps_domain_errors
def api_client_revoke(request: HttpRequest, client_id: str) -> HttpResponse:
    client = services.api_client_revoke(actor=actor_of(request), client_id=client_id, channel="web")
    messages.success(request, f"{client.name} is revoked: its tokens no longer work and it cannot get new ones.")
    return redirect("accounts:api_clients")


@login_required
@require_http_methods(["GET", "POST"])
@maps_domain_errors
def security(request: HttpRequest) -> HttpResponse:
    """Sign-in lock-outs in force on the administrator's staff, each with an unlock button (POST user id)."""
    actor = actor_of(request)
    if request.method == "POST":
        try:
            user_id = int(request.POST.get("user_id", ""))
        except ValueError:
            user_id = 0
        user = lockout.lockout_lift(actor=actor, user_id=user_id, channel="web")
        messages.success(request, f"Sign-in is open again for {user.get_full_name() or user.username}.")
        return redirect("accounts:security")
    return render(request, "accounts/security.html", {"lockouts": lockout.lockouts_for(actor)})
