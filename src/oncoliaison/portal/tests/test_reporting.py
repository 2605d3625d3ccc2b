"""The portal's symptom report page (through monitoring.services.report_submit) and the symptom charts."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.test import Client
from django.urls import reverse

from oncoliaison.patients.models import Consent, ProxyScope
from oncoliaison.testing import Cast

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
    r = c.post(reverse("portal:report"), {"instrument": "esas-r", "esas-1": "8", "esas-2": "3"}, follow=True)
    assert r.status_code == 200, r.content.decode()[:2000]
    assert "your report was sent" in r.content.decode()
    report = _reports().get()
    assert report.patient == cast.pat and report.reporter_kind == "patient" and report.source == "portal"
    home = c.get(reverse("portal:home")).content.decode()
    assert '<svg class="chart"' in home and "Pain" in home


def test_report_scope_proxy_reports_on_behalf(cast: Cast) -> None:
    Consent.objects.filter(grantee_user=cast.caregiver).update(proxy_scope=ProxyScope.REPORT)
    r = _client(cast.caregiver).post(reverse("portal:report_for", args=[cast.pat.pk]),
                                     {"instrument": "esas-r", "esas-1": "2"}, follow=True)
    report = _reports().get()
    assert r.redirect_chain == [(reverse("portal:report_sent_for", args=[cast.pat.pk, report.pk]), 302)]
    assert r.status_code == 200 and report.reporter_kind == "proxy"


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


def test_proctcae_asks_only_about_the_chosen_symptoms(cast: Cast) -> None:
    import datetime as dt

    from oncoliaison.instruments.models import Instrument
    from oncoliaison.monitoring import selectors as monitoring
    from oncoliaison.monitoring.services import PermissionData, instrument_permission_record
    from oncoliaison.portal.reporting import term_choices

    proctcae = Instrument.objects.get(code="pro-ctcae")
    c = _client(cast.patient_user)
    # Not offered until the program records the licence holder's permission.
    assert "pro-ctcae" not in c.get(reverse("portal:report")).content.decode()
    instrument_permission_record(
        actor=cast.actor(cast.admin), instrument=proctcae, organization_id=cast.lead.pk,
        data=PermissionData(granted_by="National Cancer Institute", reference="Letter 2026-01",
                            granted_on=dt.date(2026, 1, 2)),
    )
    chooser = c.get(reverse("portal:report"), {"instrument": "pro-ctcae"})
    assert chooser.status_code == 200 and "Which symptoms" in chooser.content.decode()
    term, _label = term_choices(proctcae)[0]
    questions = c.get(reverse("portal:report"), {"instrument": "pro-ctcae", "term": [str(term)]})
    items = [i for i in monitoring.form_items(proctcae, [term]) if i.kind not in ("text", "free_text")]
    html = questions.content.decode()
    assert questions.status_code == 200 and all(f'name="{i.link_id}"' in html for i in items)
    other = [i for i in monitoring.form_items(proctcae, [term_choices(proctcae)[1][0]]) if i.term]
    assert f'name="{other[0].link_id}"' not in html
    answers = {i.link_id: "1" for i in items}
    r = c.post(reverse("portal:report"), {"instrument": "pro-ctcae", "term": [str(term)], **answers}, follow=True)
    assert r.status_code == 200, r.content.decode()[:3000]
    assert _reports().get().version.instrument == proctcae


def test_view_only_caregiver_sees_the_symptom_history(cast: Cast) -> None:
    _client(cast.patient_user).post(reverse("portal:report"), {"instrument": "esas-r", "esas-1": "5"})
    html = _client(cast.caregiver).get(reverse("portal:for_patient", args=[cast.pat.pk])).content.decode()
    assert '<svg class="chart"' in html and "Report symptoms" not in html


def test_severe_report_tells_the_person_to_call_now(cast: Cast) -> None:
    r = _client(cast.patient_user).post(reverse("portal:report"), {"instrument": "esas-r", "esas-1": "10"},
                                        follow=True)
    html = r.content.decode()
    assert r.status_code == 200 and 'role="alert"' in html
    from oncoliaison.monitoring.models import Alert

    assert Alert.objects.filter(patient=cast.pat).exists()


def _form_key(html: str) -> str:
    import re

    match = re.search(r'name="idempotency_key" value="([^"]+)"', html)
    assert match, "the report form carries a one-time key"
    return match.group(1)


def test_resending_the_same_report_form_changes_nothing(cast: Cast) -> None:
    """F5 on "Report sent" after a POST, Back-and-send-again, or a double click: one report, one alert."""
    from oncoliaison.monitoring.models import Alert

    c = _client(cast.patient_user)
    key = _form_key(c.get(reverse("portal:report")).content.decode())
    form = {"instrument": "esas-r", "esas-1": "10", "idempotency_key": key}
    first = c.post(reverse("portal:report"), form)
    report = _reports().get()
    sent = reverse("portal:report_sent", args=[report.pk])
    assert first.status_code == 302 and first["Location"] == sent
    again = c.post(reverse("portal:report"), form)
    assert again.status_code == 303 and again["Location"] == sent
    assert _reports().count() == 1 and Alert.objects.filter(patient=cast.pat).count() == 1
    reload = c.get(sent)  # F5 on the confirmation itself
    assert reload.status_code == 200 and 'role="alert"' in reload.content.decode()
    assert _reports().count() == 1 and Alert.objects.filter(patient=cast.pat).count() == 1


def test_a_changed_resend_with_the_same_key_is_refused_and_changes_nothing(cast: Cast) -> None:
    c = _client(cast.patient_user)
    key = _form_key(c.get(reverse("portal:report")).content.decode())
    c.post(reverse("portal:report"), {"instrument": "esas-r", "esas-1": "4", "idempotency_key": key})
    r = c.post(reverse("portal:report"), {"instrument": "esas-r", "esas-1": "9", "idempotency_key": key})
    assert r.status_code == 409 and "already sent" in r.content.decode()
    assert [s.value for s in _reports().get().scores.filter(code="esas-pain")] == [4]


def test_a_refused_report_keeps_no_key_so_the_corrected_form_goes_through(cast: Cast) -> None:
    c = _client(cast.patient_user)
    key = _form_key(c.get(reverse("portal:report")).content.decode())
    bad = c.post(reverse("portal:report"), {"instrument": "esas-r", "idempotency_key": key})
    assert bad.status_code == 400 and not _reports().exists()
    good = c.post(reverse("portal:report"), {"instrument": "esas-r", "esas-1": "3", "idempotency_key": key})
    assert good.status_code == 302 and _reports().count() == 1


def test_the_confirmation_of_someone_elses_report_is_not_found(cast: Cast) -> None:
    _client(cast.patient_user).post(reverse("portal:report"), {"instrument": "esas-r", "esas-1": "3"})
    report = _reports().get()
    assert _client(cast.caregiver).get(reverse("portal:report_sent", args=[report.pk])).status_code == 404
    other = _client(cast.patient_user).get(reverse("portal:report_sent", args=[report.pk + 999]))
    assert other.status_code == 404
