"""The portal's symptom report page (through monitoring.services.report_submit) and the symptom charts."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.test import Client
from django.urls import reverse

from oncoliaison.core.testing import Cast
from oncoliaison.patients.models import Consent, ProxyScope

pytestmark = pytest.mark.skipif(not apps.is_installed("oncoliaison.monitoring"), reason="monitoring not installed")


def _client(user) -> Client:  # type: ignore[no-untyped-def]
    c = Client()
    c.force_login(user)
    return c


def _reports():  # type: ignore[no-untyped-def]
    from oncoliaison.monitoring.models import SymptomReport

    return SymptomReport.objects.all()


def test_patient_reports_and_sees_the_chart(cast: Cast) -> None:
    c = _client(cast.patient_user)
    page = c.get(reverse("portal:report"))
    assert page.status_code == 200 and "Pain" in page.content.decode()
    r = c.post(reverse("portal:report"), {"instrument": "esas-r", "esas-1": "8", "esas-2": "3"})
    assert r.status_code == 200, r.content.decode()[:2000]
    assert "your report was sent" in r.content.decode()
    report = _reports().get()
    assert report.patient == cast.pat and report.reporter_kind == "patient" and report.source == "portal"
    home = c.get(reverse("portal:home")).content.decode()
    assert '<svg class="chart"' in home and "Pain" in home


def test_report_scope_proxy_reports_on_behalf(cast: Cast) -> None:
    Consent.objects.filter(grantee_user=cast.caregiver).update(proxy_scope=ProxyScope.REPORT)
    r = _client(cast.caregiver).post(reverse("portal:report_for", args=[cast.pat.pk]),
                                     {"instrument": "esas-r", "esas-1": "2"})
    assert r.status_code == 200
    assert _reports().get().reporter_kind == "proxy"


def test_view_only_proxy_cannot_report(cast: Cast) -> None:
    r = _client(cast.caregiver).post(reverse("portal:report_for", args=[cast.pat.pk]),
                                     {"instrument": "esas-r", "esas-1": "2"})
    assert r.status_code == 403
    assert not _reports().exists()


@pytest.mark.parametrize("data", [{"esas-1": "99"}, {}, {"esas-1": "x"}])
def test_bad_report_is_a_clear_error_and_no_change(cast: Cast, data: dict[str, str]) -> None:
    r = _client(cast.patient_user).post(reverse("portal:report"), {"instrument": "esas-r", **data})
    assert r.status_code == 400 and "There is a problem" in r.content.decode()
    assert not _reports().exists()


def test_staff_and_researchers_do_not_use_the_portal_report(cast: Cast) -> None:
    for who in (cast.navigator, cast.researcher):
        assert _client(who).get(reverse("portal:report")).status_code == 403
