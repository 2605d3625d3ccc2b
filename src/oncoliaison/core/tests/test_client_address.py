"""The client address behind reverse proxies: only what our own proxies wrote is believed."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from oncoliaison.accounts.models import User
from oncoliaison.core.middleware import client_address
from oncoliaison.core.models import AuditEvent


def _request(forwarded: str | None, remote: str = "10.0.0.5"):  # type: ignore[no-untyped-def]
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


def test_without_trusted_proxies_the_connection_address_is_used(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_address(_request("203.0.113.9")) == "10.0.0.5"


def test_one_proxy_takes_the_address_it_saw_not_the_client_written_first_entry(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    # The client wrote "1.2.3.4" itself; our proxy appended the address it really saw.
    assert client_address(_request("1.2.3.4, 198.51.100.7")) == "198.51.100.7"
    assert client_address(_request("198.51.100.7")) == "198.51.100.7"
    assert client_address(_request(None)) == "10.0.0.5"


def test_two_proxies_take_the_address_the_outer_one_saw(settings):
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_address(_request("1.2.3.4, 198.51.100.7, 10.0.0.2")) == "198.51.100.7"
    # Fewer entries than proxies: all were written by ours; the leftmost is the client.
    assert client_address(_request("198.51.100.7")) == "198.51.100.7"


def test_behind_proxy_defaults_to_one_trusted_proxy(monkeypatch):
    import importlib

    import oncoliaison.settings as project_settings

    monkeypatch.setenv("BEHIND_PROXY", "1")
    monkeypatch.delenv("TRUSTED_PROXY_COUNT", raising=False)
    try:
        assert importlib.reload(project_settings).TRUSTED_PROXY_COUNT == 1
    finally:
        monkeypatch.delenv("BEHIND_PROXY")
        importlib.reload(project_settings)


@pytest.mark.django_db
def test_audit_and_lock_out_record_the_proxy_seen_address(client, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    User.objects.create_user(username="gina", password="right-password-1")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/accounts/login/", {"username": "gina", "password": "wrong"},
                    HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.7")
    row = AuditEvent.objects.filter(action="login_failed").last()
    assert row is not None and row.source_address == "198.51.100.7"
    from axes.models import AccessAttempt

    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"198.51.100.7"}
