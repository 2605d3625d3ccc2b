"""Pages: worklist, htmx responses, phone entry, history with charts, instrument administration."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from oncoliaison.core.models import AuditEvent
from oncoliaison.instruments.models import Instrument
from oncoliaison.monitoring import services
from oncoliaison.monitoring.models import Alert, SymptomReport

from .conftest import esas_answers

pytestmark = pytest.mark.django_db


def report(cast, values, patient=None, user=None, source="portal"):
    return services.report_submit(actor=cast.actor(user or cast.patient_user), patient=patient or cast.pat,
                                  instrument=Instrument.objects.get(code="esas-r"),
                                  answers=esas_answers(values), source=source)


@pytest.fixture
def alerts(cast, frozen):
    mine = report(cast, [8, 2, 1, 0, 2, 1, 1, 2, 3]).alert
    other = report(cast, [9, 2, 1, 0, 2, 1, 1, 2, 3], patient=cast.other_patient,
                   user=_partner_nurse(cast), source="phone").alert
    return mine, other


def _partner_nurse(cast):
    from oncoliaison.accounts.models import User, UserKind
    from oncoliaison.organisations.models import Membership, Role

    user = User.objects.create_user(username="pn", password="x" * 12, kind=UserKind.STAFF)
    Membership.objects.create(user=user, organization=cast.partner, role=Role.NURSE)
    return user


def test_worklist_requires_login_and_care_role(client, cast):
    url = reverse("monitoring:worklist")
    assert client.get(url).status_code == 302
    client.force_login(cast.researcher)
    assert client.get(url).status_code == 403
    client.force_login(cast.patient_user)
    assert client.get(url).status_code == 403


def test_worklist_shows_own_alerts_and_hides_other_organisations(client, cast, alerts, django_assert_max_num_queries):
    mine, other = alerts
    client.force_login(cast.navigator)
    with django_assert_max_num_queries(25):
        response = client.get(reverse("monitoring:worklist"))
    html = response.content.decode()
    assert response.status_code == 200
    assert f'id="alert-{mine.pk}"' in html and f'id="alert-{other.pk}"' not in html
    assert "Pat Patient" in html and "Otto" not in html
    assert response.headers["Cache-Control"].startswith("max-age=0")
    assert AuditEvent.objects.filter(action="read", resource_type="Flag", patient_id=cast.pat.pk).exists()
    client.force_login(cast.outsider)
    html = client.get(reverse("monitoring:worklist")).content.decode()
    assert f'id="alert-{mine.pk}"' not in html


def test_overdue_alert_is_highlighted(client, cast, alerts, frozen):
    frozen.advance(hours=2)
    client.force_login(cast.navigator)
    html = client.get(reverse("monitoring:worklist")).content.decode()
    assert 'class="overdue"' in html and "Overdue" in html


def test_acknowledge_and_record_action_inline_with_htmx(client, cast, alerts):
    mine, _ = alerts
    client.force_login(cast.navigator)
    hx = {"HTTP_HX_REQUEST": "true"}
    r = client.post(reverse("monitoring:alert_acknowledge", args=[mine.pk]), {"version": mine.version}, **hx)
    assert r.status_code == 200 and r.content.decode().lstrip().startswith(f'<tr id="alert-{mine.pk}"')
    assert "Acknowledged" in r.content.decode()
    r = client.post(reverse("monitoring:alert_action", args=[mine.pk]),
                    {"kind": "called_patient", "note": "Advised to take breakthrough dose"}, **hx)
    assert r.status_code == 200 and "Called the patient" in r.content.decode()
    r = client.post(reverse("monitoring:alert_resolve", args=[mine.pk]), {}, **hx)
    assert r.status_code == 200 and "Resolved" in r.content.decode()
    assert Alert.objects.get(pk=mine.pk).status == "resolved"
    # Without JavaScript the same forms redirect back to the worklist.
    r = client.post(reverse("monitoring:alert_action", args=[mine.pk]), {"kind": "advised"})
    assert r.status_code == 302


def test_stale_version_shows_an_error_in_the_row(client, cast, alerts):
    mine, _ = alerts
    client.force_login(cast.navigator)
    r = client.post(reverse("monitoring:alert_acknowledge", args=[mine.pk]), {"version": mine.version + 5},
                    HTTP_HX_REQUEST="true")
    assert r.status_code == 422 and "Someone else updated" in r.content.decode()


def test_alert_of_other_organisation_is_the_same_404_as_missing(client, cast, alerts):
    mine, _ = alerts
    client.force_login(cast.outsider)
    hidden = client.post(reverse("monitoring:alert_acknowledge", args=[mine.pk]))
    missing = client.post(reverse("monitoring:alert_acknowledge", args=[999999]))
    assert hidden.status_code == missing.status_code == 404
    assert _without_tokens(hidden.content) == _without_tokens(missing.content)


def _without_tokens(html: bytes) -> bytes:
    import re

    for pattern in (rb'"X-CSRFToken": "[^"]*"', rb'nonce="[^"]*"', rb'name="csrfmiddlewaretoken" value="[^"]*"'):
        html = re.sub(pattern, b"", html)
    return html


def test_phone_report_entry_shows_scores_and_guidance(client, cast, frozen):
    client.force_login(cast.navigator)
    url = reverse("monitoring:phone_report", args=[cast.pat.pk, "esas-r"])
    page = client.get(url)
    assert page.status_code == 200 and "Worst possible pain" in page.content.decode()
    data = {f"esas-{i}": "2" for i in range(1, 10)}
    data.update({"esas-1": "9", "anything-else": "chest pain since this morning"})
    r = client.post(url, data, follow=True)
    html = r.content.decode()
    assert r.status_code == 200 and "What to do now" in html and "911" in html
    assert "Severe alert" in html
    rep = SymptomReport.objects.get()
    assert rep.source == "phone" and rep.reporter_kind == "staff"
    saved = reverse("monitoring:report_saved", args=[cast.pat.pk, rep.pk])
    assert r.redirect_chain == [(saved, 302)]
    assert "Severe alert" in client.get(saved).content.decode()  # F5 enters nothing again
    assert SymptomReport.objects.count() == 1 and Alert.objects.count() == 1


def test_phone_report_invalid_value_rerenders(client, cast, frozen):
    client.force_login(cast.navigator)
    r = client.post(reverse("monitoring:phone_report", args=[cast.pat.pk, "esas-r"]), {"esas-1": "12"})
    assert r.status_code == 400 and "There is a problem" in r.content.decode()
    assert SymptomReport.objects.count() == 0


def test_phone_report_hides_other_organisations_and_requires_role(client, cast):
    client.force_login(cast.outsider)
    hidden = client.get(reverse("monitoring:phone_report", args=[cast.pat.pk, "esas-r"]))
    missing = client.get(reverse("monitoring:phone_report", args=[999999, "esas-r"]))
    assert hidden.status_code == missing.status_code == 404
    assert _without_tokens(hidden.content) == _without_tokens(missing.content)
    client.force_login(cast.researcher)
    assert client.get(reverse("monitoring:phone_report", args=[cast.pat.pk, "esas-r"])).status_code == 403


def test_proctcae_phone_entry_needs_permission_then_schedule(client, cast, frozen, proctcae):
    client.force_login(cast.navigator)
    url = reverse("monitoring:phone_report", args=[cast.pat.pk, "pro-ctcae"])
    assert "not enabled" in client.get(url).content.decode()
    services.instrument_permission_record(actor=cast.actor(cast.admin), instrument=proctcae,
                                          organization_id=cast.lead.pk,
                                          data=services.PermissionData("NCI", "Letter 1", dt.date(2026, 1, 1)))
    assert "Add a PRO-CTCAE reporting schedule" in client.get(url).content.decode()
    r = client.post(reverse("monitoring:schedule_create", args=[cast.pat.pk]), {
        "instrument": proctcae.pk, "care_plan_label": "FOLFOX", "frequency_days": 7,
        "starts_on": "2026-11-23", "proctcae_terms": "9 16 48",
    })
    assert r.status_code == 302
    html = client.get(url).content.decode()
    assert "Nausea Frequency" in html and "Diarrhea Frequency" in html and "Dry Mouth" not in html
    assert "In the last 7 days, how OFTEN did you have NAUSEA?" in html  # the question staff read out
    r = client.post(url, {"PROCTCAE_9A_SCL": "3", "PROCTCAE_9B_SCL": "3", "PROCTCAE_48A_SCL": "0"}, follow=True)
    assert r.status_code == 200 and "Severe alert" in r.content.decode()


def test_history_table_and_svg_chart(client, cast, frozen):
    report(cast, [2, 2, 1, 0, 2, 1, 1, 2, 3])
    frozen.advance(days=7)
    report(cast, [5, 2, 1, 0, 2, 1, 1, 2, 3])
    client.force_login(cast.oncologist)
    r = client.get(reverse("monitoring:history", args=[cast.pat.pk]))
    html = r.content.decode()
    assert r.status_code == 200
    assert html.count("<svg") == 2 and 'role="img"' in html and "<script" not in html.split("</head>")[1]
    assert "Total symptom distress score: 17/90" in html
    client.force_login(cast.outsider)
    assert client.get(reverse("monitoring:history", args=[cast.pat.pk])).status_code == 404


def test_instrument_administration_is_for_program_administrators(client, cast, proctcae):
    url = reverse("monitoring:instruments")
    client.force_login(cast.navigator)
    assert client.get(url).status_code == 403
    assert client.post(reverse("monitoring:permission_record", args=["pro-ctcae"]), {}).status_code == 403
    client.force_login(cast.admin)
    html = client.get(url).content.decode()
    assert "Off: permission needed" in html and "not intended for diagnostic" in html
    r = client.post(reverse("monitoring:permission_record", args=["pro-ctcae"]), {"granted_by": ""})
    assert r.status_code == 422
    r = client.post(reverse("monitoring:permission_record", args=["pro-ctcae"]), {
        "granted_by": "National Cancer Institute", "reference": "NCI-2026-14", "granted_on": "2026-01-05"})
    assert r.status_code == 302
    assert services.instrument_on(proctcae, cast.lead.pk)


def test_alert_rules_page_changes_the_programs_rules(client, cast, frozen):
    url = reverse("monitoring:alert_rules")
    client.force_login(cast.navigator)
    assert client.get(url).status_code == 403
    client.force_login(cast.admin)
    html = client.get(url).content.decode()
    assert "Symptom reaches severe" in html and "chest pain" in html
    r = client.post(url, {"rule": "severe", "severe-enabled": "on", "severe-severity": "severe",
                          "severe-esas_at": "9", "severe-grade_at": "3"})
    assert r.status_code == 302
    assert report(cast, [8, 0, 0, 0, 0, 0, 0, 0, 0]).alert is None
    r = client.post(url, {"rule": "red_flag", "red_flag-enabled": "on", "red_flag-severity": "severe",
                          "red_flag-phrases": ""})
    assert r.status_code == 422 and "at least one phrase" in r.content.decode()
    r = client.post(url, {"rule": "policy", "severe_minutes": "30", "moderate_business_days": "1",
                          "mild_business_days": "3", "business_day_end_hour": "17", "holidays": "2026-11-26"})
    assert r.status_code == 302
    assert services.policy_for(cast.lead.pk).severe_minutes == 30
