"""Sign-in pages: log-in (with django-axes lock-out), TOTP second factor, enrolment, log-out.

Log-in is two steps when the user has a confirmed authenticator: the password step only remembers who
is signing in (for a few minutes, in the session); the person is signed in once the code is right.
"""

from __future__ import annotations

import re

import pyotp
import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import escape
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from oncoliaison.core import audit, clock, crypto
from oncoliaison.core.actor import Actor
from oncoliaison.core.models import AuditAction, AuditOutcome

from . import lockout
from .forms import LoginForm, MfaCodeForm, MfaDisableForm
from .models import MfaDevice, User
from .services import (
    actor_for_user,
    mfa_begin,
    mfa_check,
    mfa_confirm,
    mfa_disable,
    mfa_enabled,
    password_set,
)
from .session import MFA_SESSION_KEY

PENDING_USER = "login_pending_user"
PENDING_AT = "login_pending_at"
PENDING_BACKEND = "login_pending_backend"
PENDING_NEXT = "login_pending_next"
PENDING_FAILURES = "login_pending_failures"
PENDING_SECONDS = 300
MAX_CODE_FAILURES = 5


def _source(request: HttpRequest) -> str:
    return getattr(request, "source_address", "")


def _safe_next(request: HttpRequest, candidate: str | None) -> str:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse(settings.LOGIN_REDIRECT_URL)


def _audit_failed(request: HttpRequest, username: str, detail: str) -> User | None:
    """A failed log-in.  The row names the account only when it exists (the page never says)."""
    user = User.objects.filter(username=username[:150]).only("pk", "username", "email", "first_name").first() \
        if username else None
    who = Actor(
        kind="anonymous",
        user_id=user.pk if user else None,
        username=user.username if user else "",
        source_address=_source(request),
    )
    audit.log(who, AuditAction.LOGIN_FAILED, category="authentication", outcome=AuditOutcome.DENIED,
              detail=detail if user else f"{detail}; unknown user name", channel="web")
    return user


def _name_locked_response(request: HttpRequest, username: str) -> HttpResponse | None:
    """The lock-out page when the user name reached its ceiling at every address (lockout.py)."""
    until = lockout.name_locked_until(username) if username else None
    if until is None:
        return None
    _audit_failed(request, username, "locked out (user name, every address)")
    return render(request, "accounts/locked_out.html", {"name_locked_until": until}, status=429)


def _complete_login(request: HttpRequest, user: User, *, second_factor: bool) -> None:
    login(request, user, backend=getattr(user, "backend", None))
    for key in (PENDING_USER, PENDING_AT, PENDING_BACKEND, PENDING_NEXT, PENDING_FAILURES):
        request.session.pop(key, None)
    if second_factor:
        request.session[MFA_SESSION_KEY] = True
    audit.log(actor_for_user(user, source_address=_source(request)), AuditAction.LOGIN,
              category="authentication", detail="password and code" if second_factor else "password",
              channel="web")


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if request.user.is_authenticated and request.method == "GET":
        return HttpResponseRedirect(_safe_next(request, next_url))
    form = LoginForm(request, data=request.POST if request.method == "POST" else None)
    if request.method == "POST":
        locked_name = _name_locked_response(request, request.POST.get("username", ""))
        if locked_name is not None:
            return locked_name
        if form.is_valid():
            user = form.get_user()
            if mfa_enabled(user):
                request.session.cycle_key()
                request.session[PENDING_USER] = user.pk
                request.session[PENDING_AT] = int(clock.now().timestamp())
                request.session[PENDING_BACKEND] = getattr(user, "backend", "")
                request.session[PENDING_NEXT] = _safe_next(request, next_url)
                request.session[PENDING_FAILURES] = 0
                return redirect("accounts:mfa")
            _complete_login(request, user, second_factor=False)
            return HttpResponseRedirect(_safe_next(request, next_url))
        locked = bool(getattr(request, "axes_locked_out", False))
        username = request.POST.get("username", "")
        who = _audit_failed(request, username, "locked out" if locked else "wrong password")
        lockout.failure_recorded(username=username, user=who, source_address=_source(request), address_locked=locked)
        return render(request, "accounts/login.html", {"form": form, "next": next_url}, status=400)
    return render(request, "accounts/login.html", {"form": form, "next": next_url})


def _pending_user(request: HttpRequest) -> User | None:
    pk, started = request.session.get(PENDING_USER), request.session.get(PENDING_AT, 0)
    if not pk or int(clock.now().timestamp()) - int(started) > PENDING_SECONDS:
        return None
    user = User.objects.filter(pk=pk, is_active=True).first()
    if user is not None:
        user.backend = request.session.get(PENDING_BACKEND) or settings.AUTHENTICATION_BACKENDS[-1]  # type: ignore[attr-defined]  # what django.contrib.auth.login reads
    return user


@sensitive_post_parameters("code")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def mfa_view(request: HttpRequest) -> HttpResponse:
    """The second step of log-in, or (when MFA is required) the check for a signed-in person."""
    signed_in = request.user.is_authenticated
    user: User | None = request.user if signed_in else _pending_user(request)  # type: ignore[assignment]  # signed in, request.user is our User
    if user is None:
        for key in (PENDING_USER, PENDING_AT, PENDING_BACKEND, PENDING_NEXT, PENDING_FAILURES):
            request.session.pop(key, None)
        messages.info(request, gettext("Your sign-in was not finished in time. Please sign in again."))
        return redirect("accounts:login")
    if signed_in and request.session.get(MFA_SESSION_KEY):
        return redirect("home:home")
    if signed_in and not mfa_enabled(user):
        messages.info(request, gettext("Your organisation requires a second factor. Set up an authenticator app to go on."))
        return redirect("accounts:mfa_enrol")
    form = MfaCodeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        if mfa_check(user, form.cleaned_data["code"]):
            if signed_in:
                request.session[MFA_SESSION_KEY] = True
                request.session.cycle_key()
                return redirect("home:home")
            next_url = request.session.get(PENDING_NEXT) or reverse("home:home")
            _complete_login(request, user, second_factor=True)
            return HttpResponseRedirect(next_url)
        failures = int(request.session.get(PENDING_FAILURES, 0)) + 1
        request.session[PENDING_FAILURES] = failures
        _audit_failed(request, user.username, "wrong second-factor code")
        # A wrong code counts towards the user name's lock-out like a wrong password (django-axes listens),
        # so restarting the sign-in does not give unlimited guesses.
        user_login_failed.send(sender=__name__, credentials={"username": user.username}, request=request)
        lockout.failure_recorded(username=user.username, user=user, source_address=_source(request),
                                 address_locked=bool(getattr(request, "axes_locked_out", False)))
        if getattr(request, "axes_locked_out", False):
            request.session.flush()
            return render(request, "accounts/mfa.html", {"form": form}, status=400)  # axes shows the lock-out
        if failures >= MAX_CODE_FAILURES:
            if signed_in:
                audit.log(actor_for_user(user, source_address=_source(request)), AuditAction.LOGOUT,
                          category="authentication", detail="too many wrong codes", channel="web")
                logout(request)
            else:
                request.session.flush()
            messages.error(request, gettext("Too many wrong codes. Please sign in again."))
            return redirect("accounts:login")
        form.add_error("code", gettext("That code is not right or has already been used. Enter the code shown now."))
    status = 400 if form.errors else 200
    return render(request, "accounts/mfa.html", {"form": form}, status=status)


def _qr_svg(uri: str) -> SafeString:
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    svg = image.to_string(encoding="unicode")
    svg = re.sub(r"^<\?xml[^>]*>\s*", "", svg)
    label = escape(gettext("QR code for your authenticator app"))
    svg = svg.replace("<svg ", f'<svg class="qr" role="img" aria-label="{label}" ', 1)
    return mark_safe(svg)  # noqa: S308 - generated by qrcode from our own URI, no user markup


def _otpauth_uri(user: User) -> tuple[str, str] | None:
    device = MfaDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        return None
    secret = crypto.decrypt(device.secret_encrypted)
    return secret, pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=settings.MFA_ISSUER)


@login_required
@sensitive_post_parameters("code", "password")
@never_cache
@require_http_methods(["GET", "POST"])
def mfa_enrol(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]  # login_required: request.user is our User
    if mfa_enabled(user):
        return render(request, "accounts/mfa_enrol.html", {"enabled": True, "disable_form": MfaDisableForm()})
    form = MfaCodeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if form.is_valid() and mfa_confirm(user, form.cleaned_data["code"]):
            request.session[MFA_SESSION_KEY] = True
            audit.log(actor_for_user(user, source_address=_source(request)), AuditAction.ADMIN,
                      category="authentication", resource_type="User", resource_id=user.pk,
                      detail="second factor turned on", channel="web")
            messages.success(request, gettext("Your authenticator app is set up. You will be asked for a code when you sign in."))
            return redirect("home:home")
        if form.is_valid():
            form.add_error("code", gettext("That code is not right. Check the app shows OncoLiaison and enter the current code."))
        pending = _otpauth_uri(user)
        secret, uri = pending if pending else mfa_begin(user)
    else:
        secret, uri = mfa_begin(user)
    grouped = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
    ctx = {"form": form, "qr": _qr_svg(uri), "secret": escape(grouped), "enabled": False}
    return render(request, "accounts/mfa_enrol.html", ctx, status=400 if form.errors else 200)


@login_required
@sensitive_post_parameters("password")
@never_cache
@require_POST
def mfa_disable_view(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]  # login_required: request.user is our User
    form = MfaDisableForm(request.POST)
    actor = actor_for_user(user, source_address=_source(request))
    if form.is_valid() and mfa_disable(actor=actor, user=user, password=form.cleaned_data["password"]):
        request.session.pop(MFA_SESSION_KEY, None)
        messages.success(request, gettext("The second factor is turned off for your account."))
        return redirect("accounts:mfa_enrol")
    if form.is_valid():
        form.add_error("password", gettext("That password is not right."))
    return render(request, "accounts/mfa_enrol.html", {"enabled": True, "disable_form": form}, status=400)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        audit.log(actor_for_user(request.user, source_address=_source(request)),
                  AuditAction.LOGOUT, category="authentication", channel="web")
    logout(request)
    messages.info(request, gettext("You have signed out."))
    return redirect(settings.LOGOUT_REDIRECT_URL)


@login_required
@sensitive_post_parameters("old_password", "new_password1", "new_password2")
@never_cache
@require_http_methods(["GET", "POST"])
def password_change(request: HttpRequest) -> HttpResponse:
    """Change one's own password (e.g. replace the one-time password an administrator issued)."""
    user: User = request.user  # type: ignore[assignment]  # login_required: request.user is our User
    form = PasswordChangeForm(user, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        password_set(actor=actor_for_user(user, source_address=_source(request)), user=user,
                     new_password=form.cleaned_data["new_password1"])
        update_session_auth_hash(request, user)
        messages.success(request, gettext("Your password is changed."))
        return redirect("home:home")
    return render(request, "accounts/password_change.html", {"form": form}, status=400 if form.errors else 200)
