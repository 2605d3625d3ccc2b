"""Why an alert fired is read in clinical order with the patient's own words (red flags first, never cut),
on every page that shows alerts and behind every notice; and what is recorded on an alert is what was done
(no pre-selected action, a note for every action, escalation to the treating physician who reads it)."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.urls import reverse

from oncoliaison.core.errors import ValidationFailed
from oncoliaison.instruments.models import Instrument
from oncoliaison.monitoring import notify, rules, services
from oncoliaison.monitoring.forms import ActionForm
from oncoliaison.monitoring.models import Alert, AlertAction
from oncoliaison.patients.models import CareTeamParticipant

from .conftest import esas_answers

pytestmark = pytest.mark.django_db

FEVER = "Since yesterday I have a fever of 38.6 and shaking chills after my chemo"


def _fever_after_chemo(cast) -> Alert:  # type: ignore[no-untyped-def]
    """Nine symptoms severe and worse than last week, and a fever after chemotherapy in the free text: the
    fever is the reason that decides the response (febrile neutropenia until proven otherwise)."""
    esas = Instrument.objects.get(code="esas-r")
    actor = cast.actor(cast.patient_user)
    services.report_submit(actor=actor, patient=cast.pat, instrument=esas, answers=esas_answers([1] * 9),
                           source="portal")
    result = services.report_submit(actor=actor, patient=cast.pat, instrument=esas, source="portal",
                                    answers=esas_answers([8] * 9, **{"anything-else": FEVER}))
    assert result.alert is not None
    return result.alert


# --- 1. red flags first, never cut, with the patient's words ---------------------------------------------------


def test_reasons_are_ordered_by_clinical_weight():
    reasons = [
        rules.Reason("new_symptom", "moderate", "esas-nausea", "Nausea", "Nausea: new since the previous report"),
        rules.Reason("worsening", "moderate", "esas-pain", "Pain", "Pain: 2 → 8 (+6)"),
        rules.Reason("severe", "severe", "esas-pain", "Pain", "Pain: score 8 of 10"),
        rules.Reason("red_flag", "severe", "free-text", "Free text", "Red-flag phrase: “fever”"),
    ]
    assert [r.rule for r in rules.order_reasons(reasons)] == ["red_flag", "severe", "worsening", "new_symptom"]
    assert rules.summarise(reasons).startswith("Red-flag phrase: “fever”; Pain: score 8 of 10")


def test_summary_never_cuts_a_red_flag_and_counts_what_it_leaves_out():
    many = [rules.Reason("severe", "severe", f"s{i}", f"Symptom {i}", f"Symptom number {i}: score 8 of 10")
            for i in range(20)]
    flags = [rules.Reason("red_flag", "severe", "free-text", "Free text", f"Red-flag phrase: “{p}”")
             for p in rules.DEFAULT_RED_FLAGS]
    summary = rules.summarise(many + flags)
    for flag in flags:
        assert flag.detail in summary  # whole, even past the limit
    assert re.search(r"\+\d+ more$", summary) and "…" not in summary


def test_fever_after_chemotherapy_is_the_first_reason_of_the_stored_alert(cast, frozen):
    alert = _fever_after_chemo(cast)
    assert alert.reasons[0] == {"rule": "red_flag", "severity": "severe", "symptom": "free-text",
                                "label": "Free text", "detail": "Red-flag phrase: “fever”"}
    assert alert.summary.startswith("Red-flag phrase: “fever”; Red-flag phrase: “shaking chills”")
    assert "Red-flag…" not in alert.summary


def test_alert_pages_show_the_red_flag_first_and_the_patients_words(client, cast, frozen):
    alert = _fever_after_chemo(cast)
    client.force_login(cast.navigator)
    for url in (reverse("monitoring:worklist"), reverse("monitoring:alert_detail", args=[alert.pk]),
                reverse("worklists:worklist")):
        html = client.get(url).content.decode()
        why = html[html.index('aria-label="Why this alert"'):]
        assert why.index("Red-flag phrase: “fever”") < why.index("Pain: score 8 of 10"), url
        assert "In the patient's words" in html and "fever of 38.6 and shaking chills" in html, url


def test_notices_link_to_the_alert_and_carry_no_patient_content(cast, frozen, settings):
    settings.PUBLIC_BASE_URL = "https://oncoliaison.example.org"
    cast.navigator.email = "grace@example.org"
    cast.navigator.save()
    mail.outbox.clear()
    alert = _fever_after_chemo(cast)
    notify.notify_alerts.call([alert.pk])
    assert len(mail.outbox) == 1
    notice = mail.outbox[0]
    text = notice.subject + notice.body
    assert f"https://oncoliaison.example.org/monitoring/alerts/{alert.pk}/" in notice.body
    for phi in ("Pat", "Patient", "fever", "chills", "L-1001", "Pain"):
        assert phi not in text


# --- 5. documentation of the response ---------------------------------------------------------------------


def test_no_action_is_preselected_and_the_default_form_records_nothing(client, cast, frozen):
    alert = _fever_after_chemo(cast)
    assert ActionForm().fields["kind"].choices[0][0] == ""
    assert not ActionForm({"kind": "", "note": ""}).is_valid()
    client.force_login(cast.navigator)
    html = client.get(reverse("monitoring:worklist")).content.decode()
    select = html[html.index(f'id="kind-{alert.pk}"'):]
    select = select[:select.index("</select>")]
    assert "selected" not in select and '<option value="">' in select
    r = client.post(reverse("monitoring:alert_action", args=[alert.pk]), {"kind": "", "note": ""},
                    HTTP_HX_REQUEST="true")
    assert r.status_code == 422 and "Choose" in r.content.decode()
    assert not AlertAction.objects.filter(alert=alert).exists()


@pytest.mark.parametrize("kind", ["called_patient", "advised", "escalated_physician", "sent_emergency", "note"])
def test_every_recorded_action_needs_its_note(cast, frozen, kind):
    alert = _fever_after_chemo(cast)
    with pytest.raises(ValidationFailed) as exc:
        services.alert_record_action(actor=cast.actor(cast.navigator), alert=alert, kind=kind, note="  ")
    assert "note" in exc.value.field_errors
    assert not AlertAction.objects.filter(alert=alert).exists()
    assert Alert.objects.get(pk=alert.pk).status == "open"


def test_escalation_goes_to_the_treating_physician_who_reads_the_note(client, cast, frozen, clp):
    # The CLP is on the care team too: the treating physician still comes first.
    cast.oncologist.email = "sam@example.org"
    cast.oncologist.save()
    alert = _fever_after_chemo(cast)
    mail.outbox.clear()
    note = "Temp 38.6 on day 10 after FOLFOX: please assess for neutropenic fever"
    with django_capture_on_commit():
        alert = services.alert_record_action(actor=cast.actor(cast.navigator), alert=alert,
                                             kind="escalated_physician", note=note)
    assert alert.escalated_to_id == cast.oncologist.pk
    assert [m.to for m in mail.outbox] == [["sam@example.org"]]
    assert f"/monitoring/alerts/{alert.pk}/" in mail.outbox[0].body and "38.6" not in mail.outbox[0].body
    client.force_login(cast.oncologist)
    html = client.get(reverse("worklists:worklist")).content.decode()
    assert "Escalated to you" in html and note in html
    assert note in client.get(reverse("monitoring:alert_detail", args=[alert.pk])).content.decode()


def test_escalation_falls_back_to_the_clp_without_a_physician_on_the_team(cast, frozen, clp):
    CareTeamParticipant.objects.filter(user=cast.oncologist).delete()
    alert = _fever_after_chemo(cast)
    alert = services.alert_record_action(actor=cast.actor(cast.navigator), alert=alert,
                                         kind="escalated_physician", note="Fever after chemotherapy")
    assert alert.escalated_to_id == clp.pk


def django_capture_on_commit():  # type: ignore[no-untyped-def]
    """Run on-commit callbacks at the end of the block (the test's transaction never commits)."""
    from django.test import TestCase

    return TestCase.captureOnCommitCallbacks(execute=True)
