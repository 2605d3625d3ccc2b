"""Network directory and membership administration pages."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from oncoliaison.accounts.models import User, UserKind
from oncoliaison.accounts.services import (
    PractitionerData,
    mfa_reset,
    staff_account_create,
    staff_password_issue,
)
from oncoliaison.core import prg
from oncoliaison.core.access import get_visible_or_404, require_admin, require_staff
from oncoliaison.core.errors import DomainError, Forbidden, PreconditionFailed
from oncoliaison.core.views import PAGE_SIZE, actor_of, form_error_from, maps_domain_errors

from . import selectors, services
from .forms import MemberAddForm, MembershipEditForm, OrganizationForm
from .rules import ROUTING_REFUSAL


@login_required
@require_http_methods(["GET"])
@maps_domain_errors
def organization_list(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    require_staff(actor)
    orgs = selectors.organization_list_for(actor).order_by("-active", "name")
    page = Paginator(orgs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "organisations/list.html", {
        "page": page,
        "may_create": services._may_create_organizations(actor),
    })


@login_required
@require_http_methods(["GET"])
@maps_domain_errors
def organization_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    require_staff(actor)
    org = get_visible_or_404(selectors.organization_list_for(actor), pk)
    members = None
    if org.pk in actor.organization_ids:
        members = (
            selectors.membership_list_for(actor)
            .filter(organization=org)
            .order_by("-active", "user__last_name", "user__first_name", "role")
        )
    return render(request, "organisations/detail.html", {
        "org": org,
        "members": members,
        "is_admin": actor.is_admin_of(org.pk),
        "contacts": selectors.contact_points_of(org),
    })


@login_required
@require_http_methods(["GET", "POST"])
@maps_domain_errors
def organization_create(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    require_staff(actor)
    if not services._may_create_organizations(actor):
        raise Forbidden("Only administrators of a lead cancer program can add organisations to the network.")
    form = OrganizationForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            org = services.organization_create(actor=actor, data=form.to_data(), channel="web")
        except Forbidden as exc:
            if exc.message != ROUTING_REFUSAL:
                raise
            form.add_error("kind", exc.message)
        except DomainError as exc:
            form_error_from(form, exc)
        else:
            messages.success(request, f"{org.name} is added to the network directory.")
            return redirect("organisations:detail", pk=org.pk)
    return render(request, "organisations/form.html", {"form": form}, status=400 if form.errors else 200)


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
@maps_domain_errors
def member_add(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    require_staff(actor)
    org = get_visible_or_404(selectors.organization_list_for(actor), pk)
    require_admin(actor, org.pk)
    form = MemberAddForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            if d["mode"] == "existing":
                person = User.objects.filter(username=d["username"].strip(), kind=UserKind.STAFF).first()
                if person is None:
                    form.add_error("username", "No staff account has this user name.")
                else:
                    services.membership_create(
                        actor=actor,
                        data=services.MembershipData(user_id=person.pk, organization_id=org.pk, role=d["role"],
                                                     title=d["title"]),
                        channel="web",
                    )
                    messages.success(request, f"{person.display_name} now has the role in {org.name}.")
                    return redirect("organisations:detail", pk=org.pk)
            else:
                person, password = staff_account_create(
                    actor=actor, organization_id=org.pk, role=d["role"], title=d["title"],
                    data=PractitionerData(given_name=d["given_name"], family_name=d["family_name"],
                                          email=d["email"]),
                    channel="web",
                )
                return _show_password_once(request, org.pk, person, password, reset=False)
        except Forbidden:
            raise
        except DomainError as exc:
            form_error_from(form, exc, {"user": "username"})
    return render(request, "organisations/member_form.html", {"form": form, "org": org},
                  status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
@maps_domain_errors
def member_edit(request: HttpRequest, pk: int, membership_pk: int) -> HttpResponse:
    actor = actor_of(request)
    require_staff(actor)
    membership = get_visible_or_404(
        selectors.membership_list_for(actor).filter(organization_id=pk), membership_pk
    )
    require_admin(actor, membership.organization_id)
    if request.method == "POST":
        form = MembershipEditForm(request.POST)
        if form.is_valid():
            d = form.cleaned_data
            try:
                services.membership_update(
                    actor=actor, membership=membership, expected_version=d["version"], channel="web",
                    data=services.MembershipData(
                        user_id=membership.user_id, organization_id=membership.organization_id, role=d["role"],
                        title=d["title"], specialty_code=membership.specialty_code, active=d["active"],
                    ),
                )
            except PreconditionFailed:
                form.add_error(None, "Someone else changed this role after you opened it. Reload the page and "
                                     "apply your change again.")
            except Forbidden:
                raise
            except DomainError as exc:
                form_error_from(form, exc)
            else:
                messages.success(request, "The role is saved.")
                return redirect("organisations:detail", pk=membership.organization_id)
    else:
        form = MembershipEditForm(initial={"role": membership.role, "title": membership.title,
                                           "active": membership.active, "version": membership.version})
    return render(request, "organisations/member_edit.html", {"form": form, "membership": membership},
                  status=400 if form.errors else 200)


@login_required
@never_cache
@require_http_methods(["POST"])
@maps_domain_errors
def member_credentials(request: HttpRequest, pk: int, membership_pk: int) -> HttpResponse:
    """Issue a new one-time password, or reset the second factor, of a member of the administrator's
    organisation (forgotten password, lost phone)."""
    actor = actor_of(request)
    require_staff(actor)
    membership = get_visible_or_404(
        selectors.membership_list_for(actor).filter(organization_id=pk), membership_pk
    )
    require_admin(actor, membership.organization_id)
    person = membership.user
    if request.POST.get("action") == "password":
        password = staff_password_issue(actor=actor, user=person, channel="web")
        return _show_password_once(request, membership.organization_id, person, password, reset=True)
    if request.POST.get("action") == "mfa":
        mfa_reset(actor=actor, user=person, channel="web")
        messages.success(request, f"{person.display_name} will set up a new authenticator app at next sign-in.")
        return redirect("organisations:member_edit", pk=pk, membership_pk=membership.pk)
    messages.error(request, "Choose what to reset.")
    return redirect("organisations:member_edit", pk=pk, membership_pk=membership.pk)


def _show_password_once(request: HttpRequest, org_pk: int, person: User, password: str, *,
                        reset: bool) -> HttpResponse:
    """Post/redirect/get for a one-time password: it crosses the redirect encrypted in the session and is
    shown once; reloading the page shows that it was shown (and issues nothing)."""
    prg.stash(request, f"password-{org_pk}", {"person": person.display_name, "username": person.username,
                                              "password": password, "reset": reset})
    return redirect("organisations:password_shown", pk=org_pk)


@login_required
@never_cache
@require_http_methods(["GET"])
@maps_domain_errors
def password_shown(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    require_staff(actor)
    org = get_visible_or_404(selectors.organization_list_for(actor), pk)
    require_admin(actor, org.pk)
    shown = prg.take(request, f"password-{org.pk}")
    response = render(request, "organisations/account_created.html", {"org": org, "shown": shown})
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_http_methods(["GET", "POST"])
@maps_domain_errors
def organization_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    require_staff(actor)
    org = get_visible_or_404(selectors.organization_list_for(actor), pk)
    require_admin(actor, org.pk)
    if request.method == "POST":
        form = OrganizationForm(request.POST, editing=True)
        if form.is_valid():
            data = form.to_data()
            data.active, data.country = org.active, org.country
            try:
                services.organization_update(actor=actor, organization=org, data=data,
                                             expected_version=form.cleaned_data["version"], channel="web")
            except PreconditionFailed:
                form.add_error(None, "Someone else changed this organisation after you opened it. Reload the page "
                                     "and apply your change again.")
            except Forbidden:
                raise
            except DomainError as exc:
                form_error_from(form, exc)
            else:
                messages.success(request, "The organisation's details are saved.")
                return redirect("organisations:detail", pk=org.pk)
    else:
        initial = {name: getattr(org, name) for name in OrganizationForm.base_fields if hasattr(org, name)}
        form = OrganizationForm(initial=initial, editing=True)
    return render(request, "organisations/form.html", {"form": form, "org": org},
                  status=400 if form.errors else 200)
