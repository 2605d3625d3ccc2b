"""Sign-in pages: log-in and lock-out (django-axes), log-out, TOTP enrolment and second step, disabling it,
inactivity log-off and the staff MFA requirement; each with its audit rows."""

from __future__ import annotations

import datetime as dt
import re

import pyotp
import pytest
from axes.models import AccessAttempt
from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import timezone

from oncoliaison.accounts.models import MfaDevice
from oncoliaison.accounts.session import MFA_SESSION_KEY
from oncoliaison.core import crypto
from oncoliaison.core.models import AuditAction, AuditEvent
from oncoliaison.testing import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = reverse("accounts:login")
HOME = reverse("home:home")
MFA = reverse("accounts:mfa")
ENROL = reverse("accounts:mfa_enrol")


def _body(response) -> str:  # type: ignore[no-untyped-def]
    text = response.content.decode()
    text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", text)
    text = re.sub(r'"X-CSRFToken": "[^"]+"', "", text)
    return re.sub(r'value="[^"]*" (?=[^>]*name="username")|(?<=name="username") value="[^"]*"', "", text)


def _login(client, username: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    return client.post(LOGIN, {"username": username, "password": password})


def _totp(user) -> pyotp.TOTP:  # type: ignore[no-untyped-def]
    return pyotp.TOTP(crypto.decrypt(MfaDevice.objects.get(user=user).secret_encrypted))


def _code(user, steps_ahead: int = 0) -> str:  # type: ignore[no-untyped-def]
    return _totp(user).at(timezone.now() + dt.timedelta(seconds=30 * steps_ahead))


def _enrol(client, user) -> None:  # type: ignore[no-untyped-def]
    client.force_login(user)
    client.get(ENROL)
    assert client.post(ENROL, {"code": _code(user)}).status_code == 302
    client.logout()


# --- log-in ----------------------------------------------------------------------------------------


def test_login_page_renders(client, cast):
    response = client.get(LOGIN)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'autocomplete="username"' in html and 'autocomplete="current-password"' in html
    assert '<label for="id_username">' in html


def test_login_success_signs_in_and_audits(client, cast):
    response = _login(client, "grace")
    assert response.status_code == 302 and response["Location"] == HOME
    assert client.get(HOME).status_code == 200
    row = AuditEvent.objects.get(action=AuditAction.LOGIN)
    assert row.user_id == cast.navigator.pk and row.channel == "web" and row.category == "authentication"


def test_login_honours_a_safe_next_only(client, cast):
    response = client.post(LOGIN, {"username": "grace", "password": PASSWORD, "next": "/patients/"})
    assert response["Location"] == "/patients/"
    client.logout()
    response = client.post(LOGIN, {"username": "grace", "password": PASSWORD, "next": "https://evil.example/"})
    assert response["Location"] == HOME


def test_wrong_password_and_unknown_user_look_the_same(client, cast):
    wrong = _login(client, "grace", "not-the-password")
    unknown = _login(client, "nobody-here", "not-the-password")
    assert wrong.status_code == unknown.status_code == 400
    assert "The user name or password is not right" in wrong.content.decode()
    assert _body(wrong) == _body(unknown)
    rows = list(AuditEvent.objects.filter(action=AuditAction.LOGIN_FAILED).order_by("seq"))
    assert [r.user_id for r in rows] == [cast.navigator.pk, None]
    assert all(r.outcome == "denied" for r in rows)
    assert "nobody-here" not in " ".join(r.username + r.detail for r in rows)


def test_login_is_post_for_credentials_and_csrf_protected(cast):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post(LOGIN, {"username": "grace", "password": PASSWORD})
    assert response.status_code == 403


def test_sixth_attempt_is_locked_out_for_15_minutes(client, cast):
    # LOGIN_FAILURE_LIMIT=5: the first four failures say "not right"; the fifth failure reaches the limit and
    # the page says so; from the sixth attempt on, the user name is locked, whatever the password.
    statuses = [_login(client, "grace", "wrong-password").status_code for _ in range(5)]
    assert statuses == [400, 400, 400, 400, 429]
    assert _login(client, "grace", "wrong-password").status_code == 429
    sixth = _login(client, "grace", PASSWORD)  # even the right password is refused now
    html = sixth.content.decode()
    assert sixth.status_code == 429
    assert "Sign-in is paused" in html and "15 minutes" in html
    assert "grace" not in html
    assert client.get(HOME).status_code == 302  # not signed in
    assert AuditEvent.objects.filter(action=AuditAction.LOGIN_FAILED, detail="locked out").exists()
    # Fifteen minutes later the user name may sign in again.
    AccessAttempt.objects.update(attempt_time=timezone.now() - dt.timedelta(minutes=16))
    assert _login(client, "grace", PASSWORD).status_code == 302


def test_lockout_does_not_reveal_whether_the_user_exists(client, cast):
    for _ in range(5):
        _login(client, "grace", "wrong-password")
        _login(client, "ghost", "wrong-password")
    real = _login(client, "grace", "wrong-password")
    ghost = _login(client, "ghost", "wrong-password")
    assert real.status_code == ghost.status_code == 429
    assert _body(real) == _body(ghost)


def test_lockout_is_per_user_name(client, cast):
    for _ in range(6):
        _login(client, "grace", "wrong-password")
    assert _login(client, "sam", PASSWORD).status_code == 302


# --- log-out ---------------------------------------------------------------------------------------


def test_logout_is_post_only_and_audited(client, cast):
    client.force_login(cast.navigator)
    assert client.get(reverse("accounts:logout")).status_code == 405
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302 and response["Location"] == LOGIN
    assert client.get(HOME).status_code == 302
    assert AuditEvent.objects.filter(action=AuditAction.LOGOUT, user_id=cast.navigator.pk).exists()


# --- inactivity log-off ----------------------------------------------------------------------------


def test_idle_session_is_logged_off(client, cast, settings):
    _login(client, "grace")
    assert client.get(HOME).status_code == 200
    session = Session.objects.get()
    idle = session.expire_date - timezone.now()
    assert dt.timedelta(minutes=settings.STAFF_IDLE_TIMEOUT_MINUTES - 1) < idle <= dt.timedelta(
        minutes=settings.STAFF_IDLE_TIMEOUT_MINUTES)
    # Idle for longer than the timeout: the session is gone and the pages ask to sign in again.
    Session.objects.update(expire_date=timezone.now() - dt.timedelta(seconds=1))
    response = client.get(HOME)
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)


def test_activity_slides_the_idle_timeout(client, cast):
    _login(client, "grace")
    Session.objects.update(expire_date=timezone.now() + dt.timedelta(minutes=2))
    assert client.get(HOME).status_code == 200
    assert Session.objects.get().expire_date > timezone.now() + dt.timedelta(minutes=10)


# --- TOTP ------------------------------------------------------------------------------------------


def test_enrolment_shows_inline_svg_qr_and_secret(client, cast):
    client.force_login(cast.navigator)
    response = client.get(ENROL)
    html = response.content.decode()
    assert response.status_code == 200
    assert '<svg class="qr" role="img"' in html and "<img" not in html
    secret = crypto.decrypt(MfaDevice.objects.get(user=cast.navigator).secret_encrypted)
    assert secret[:4] in html
    assert "style=" not in html.split('<svg class="qr"')[1].split("</svg>")[0]  # the CSP forbids inline styles


def test_enrolment_wrong_code_keeps_the_same_secret(client, cast):
    client.force_login(cast.navigator)
    client.get(ENROL)
    seed = MfaDevice.objects.get(user=cast.navigator).secret_encrypted
    response = client.post(ENROL, {"code": "000000" if _code(cast.navigator) != "000000" else "111111"})
    assert response.status_code == 400 and "That code is not right" in response.content.decode()
    device = MfaDevice.objects.get(user=cast.navigator)
    assert device.secret_encrypted == seed and not device.confirmed
    assert client.post(ENROL, {"code": "12"}).status_code == 400


def test_enrolment_confirms_with_a_code(client, cast):
    client.force_login(cast.navigator)
    client.get(ENROL)
    response = client.post(ENROL, {"code": _code(cast.navigator)})
    assert response.status_code == 302
    assert MfaDevice.objects.get(user=cast.navigator).confirmed
    assert client.session[MFA_SESSION_KEY] is True
    # Once on, the page does not start a new enrolment (that would replace the device).
    seed = MfaDevice.objects.get(user=cast.navigator).secret_encrypted
    assert "Turn off" in client.get(ENROL).content.decode()
    assert MfaDevice.objects.get(user=cast.navigator).secret_encrypted == seed


def test_login_with_mfa_needs_the_code_as_second_step(client, cast):
    _enrol(client, cast.navigator)
    response = _login(client, "grace")
    assert response.status_code == 302 and response["Location"] == MFA
    assert client.get(HOME).status_code == 302  # not signed in yet
    assert not AuditEvent.objects.filter(action=AuditAction.LOGIN).exists()
    wrong = client.post(MFA, {"code": "999999" if _code(cast.navigator, 1) != "999999" else "888888"})
    assert wrong.status_code == 400 and "not right" in wrong.content.decode()
    ok = client.post(MFA, {"code": _code(cast.navigator, 1)})
    assert ok.status_code == 302 and ok["Location"] == HOME
    assert client.get(HOME).status_code == 200
    assert client.session[MFA_SESSION_KEY] is True
    assert AuditEvent.objects.filter(action=AuditAction.LOGIN, user_id=cast.navigator.pk,
                                     detail="password and code").exists()
    assert AuditEvent.objects.filter(action=AuditAction.LOGIN_FAILED, detail="wrong second-factor code").exists()


def test_mfa_code_cannot_be_replayed(client, cast):
    _enrol(client, cast.navigator)
    _login(client, "grace")
    code = _code(cast.navigator, 1)
    assert client.post(MFA, {"code": code}).status_code == 302
    client.post(reverse("accounts:logout"))
    _login(client, "grace")
    assert client.post(MFA, {"code": code}).status_code == 400


def test_too_many_wrong_codes_end_the_attempt(client, cast):
    _enrol(client, cast.navigator)
    _login(client, "grace")
    statuses = [client.post(MFA, {"code": "000001"}).status_code for _ in range(5)]
    assert statuses == [400, 400, 400, 400, 429]  # the fifth wrong code reaches the lock-out limit
    # The half-finished sign-in is discarded: even the right code no longer signs in.
    assert client.post(MFA, {"code": _code(cast.navigator, 1)})["Location"] == LOGIN
    assert client.get(HOME).status_code == 302


def test_too_many_wrong_codes_end_the_attempt_without_lockout(client, cast, settings):
    settings.AXES_ENABLED = False
    _enrol(client, cast.navigator)
    _login(client, "grace")
    for _ in range(5):
        response = client.post(MFA, {"code": "000001"})
    assert response.status_code == 302 and response["Location"] == LOGIN
    assert client.post(MFA, {"code": _code(cast.navigator, 1)})["Location"] == LOGIN
    assert client.get(HOME).status_code == 302


def test_mfa_page_without_a_pending_login_goes_back_to_login(client, cast):
    response = client.get(MFA)
    assert response.status_code == 302 and response["Location"] == LOGIN


def test_disable_mfa_needs_the_password(client, cast):
    _enrol(client, cast.navigator)
    client.force_login(cast.navigator)
    url = reverse("accounts:mfa_disable")
    bad = client.post(url, {"password": "wrong"})
    assert bad.status_code == 400 and "That password is not right" in bad.content.decode()
    assert MfaDevice.objects.filter(user=cast.navigator).exists()
    assert client.post(url, {"password": PASSWORD}).status_code == 302
    assert not MfaDevice.objects.filter(user=cast.navigator).exists()
    assert AuditEvent.objects.filter(detail="second factor turned off", user_id=cast.navigator.pk).exists()


def test_mfa_pages_require_login(client, cast):
    assert client.get(ENROL)["Location"].startswith(LOGIN)
    assert client.post(reverse("accounts:mfa_disable"), {"password": PASSWORD})["Location"].startswith(LOGIN)


def test_staff_must_enrol_when_mfa_is_required(client, cast, settings):
    settings.MFA_REQUIRED_FOR_STAFF = True
    _login(client, "grace")
    response = client.get(HOME)
    assert response.status_code == 302 and response["Location"] == MFA
    assert client.get(MFA)["Location"] == ENROL
    client.get(ENROL)
    assert client.post(ENROL, {"code": _code(cast.navigator)}).status_code == 302
    assert client.get(HOME).status_code == 200


def test_patients_are_not_forced_to_enrol(client, cast, settings):
    settings.MFA_REQUIRED_FOR_STAFF = True
    _login(client, "pat")
    assert client.get(HOME).status_code == 200


# --- password change -------------------------------------------------------------------------------


def test_password_change(client, cast):
    url = reverse("accounts:password_change")
    assert client.get(url)["Location"].startswith(LOGIN)
    client.force_login(cast.navigator)
    assert client.get(url).status_code == 200
    bad = client.post(url, {"old_password": "wrong", "new_password1": "Fresh-pass-2026!", "new_password2": "Fresh-pass-2026!"})
    assert bad.status_code == 400 and 'href="#id_old_password"' in bad.content.decode()
    weak = client.post(url, {"old_password": PASSWORD, "new_password1": "123", "new_password2": "123"})
    assert weak.status_code == 400
    cast.navigator.refresh_from_db()
    assert cast.navigator.check_password(PASSWORD)
    ok = client.post(url, {"old_password": PASSWORD, "new_password1": "Fresh-pass-2026!",
                           "new_password2": "Fresh-pass-2026!"})
    assert ok.status_code == 302
    assert client.get(HOME).status_code == 200  # still signed in
    cast.navigator.refresh_from_db()
    assert cast.navigator.check_password("Fresh-pass-2026!")
    assert AuditEvent.objects.filter(detail="password changed", user_id=cast.navigator.pk).exists()


def test_wrong_codes_count_towards_the_lock_out(client, cast):
    """Restarting the sign-in does not give unlimited guesses at the code."""
    _enrol(client, cast.navigator)
    for _ in range(2):
        _login(client, "grace")
        client.post(MFA, {"code": "000001"})
        client.post(MFA, {"code": "000002"})
    _login(client, "grace")
    locked = client.post(MFA, {"code": "000003"})
    assert locked.status_code == 429 and "Sign-in is paused" in locked.content.decode()
    assert _login(client, "grace").status_code == 429
    assert client.get(HOME).status_code == 302
