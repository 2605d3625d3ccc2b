"""Lock-out by user name and address, with a slower ceiling per user name; notice to the account holder;
the administrators' security page with unlock."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from oncoliaison.core.models import AuditEvent
from oncoliaison.testing import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = reverse("accounts:login")


def _login(username: str, password: str, address: str):  # type: ignore[no-untyped-def]
    return Client().post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


def test_someone_elsewhere_cannot_lock_a_colleague_out(cast, django_capture_on_commit_callbacks):
    cast.navigator.email = "grace@example.org"
    cast.navigator.save()
    with django_capture_on_commit_callbacks(execute=True):
        answers = [_login("grace", "guess", "203.0.113.66").status_code for _ in range(7)]
    assert answers[-1] == 429  # that address is paused for this user name
    # Grace, at her own workstation, signs in as usual.
    assert _login("grace", PASSWORD, "10.1.2.3").status_code == 302
    # She was told once, without patient data.
    assert len(mail.outbox) == 1
    notice = mail.outbox[0]
    assert notice.to == ["grace@example.org"] and "203.0.113.66" in notice.body
    assert "no patient information" in notice.body


def test_a_distributed_attack_reaches_the_slower_per_name_ceiling(cast, settings,
                                                                    django_capture_on_commit_callbacks):
    settings.LOGIN_NAME_FAILURE_LIMIT = 8
    cast.navigator.email = "grace@example.org"
    cast.navigator.save()
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(8):
            _login("grace", "guess", f"198.51.100.{n}")
    refused = _login("grace", PASSWORD, "10.1.2.3")  # even the right password, from anywhere
    assert refused.status_code == 429 and "from several places" in refused.content.decode()
    assert any("paused everywhere" in m.body for m in mail.outbox)
    assert AuditEvent.objects.filter(detail__startswith="user name locked at every address").count() == 1


def test_attempts_at_an_already_locked_address_do_not_count_towards_the_ceiling(cast, settings):
    settings.LOGIN_NAME_FAILURE_LIMIT = 8
    for _ in range(30):
        _login("grace", "guess", "203.0.113.66")
    assert _login("grace", PASSWORD, "10.1.2.3").status_code == 302


def test_the_security_page_lists_lockouts_of_ones_staff_and_unlocks(cast, settings):
    settings.LOGIN_NAME_FAILURE_LIMIT = 6
    for n in range(6):
        _login("grace", "guess", f"198.51.100.{n}")
    for _ in range(5):
        _login("olga", "guess", "203.0.113.7")  # the partner's navigator: not the lead admin's to see
    admin = Client()
    admin.force_login(cast.admin)
    page = admin.get(reverse("accounts:security")).content.decode()
    assert "grace" in page and "at every address" in page and "olga" not in page
    assert admin.post(reverse("accounts:security"), {"user_id": cast.outsider.pk}).status_code == 404
    assert admin.post(reverse("accounts:security"), {"user_id": cast.navigator.pk}).status_code == 302
    assert _login("grace", PASSWORD, "10.1.2.3").status_code == 302
    assert "No lock-outs in force" in admin.get(reverse("accounts:security")).content.decode()
    assert AuditEvent.objects.filter(detail__startswith="sign-in lock-out lifted").exists()
    navigator = Client()
    navigator.force_login(cast.navigator)
    assert navigator.get(reverse("accounts:security")).status_code == 403
