"""The portal home tells the patient (and a caregiver with proxy access) how the care team responded to a
symptom alert: the patient-facing actions with their date, never the staff's notes."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.test import Client
from django.urls import reverse

from oncoliaison.core.errors import NotFound
from oncoliaison.core.models import AuditEvent
from oncoliaison.testing import Cast

pytestmark = pytest.mark.skipif(not apps.is_installed("oncoliaison.monitoring"), reason="monitoring not installed")


def _client(user) -> Client:  # type: ignore[no-untyped-def]
    c = Client()
    c.force_login(user)
    return c


def _severe_alert(cast: Cast):  # type: ignore[no-untyped-def]
    from oncoliaison.monitoring.models import Alert

    r = _client(cast.patient_user).post(reverse("portal:report"), {"instrument": "esas-r", "esas-1": "9"})
    assert r.status_code == 302
    return Alert.objects.get(patient=cast.pat)


def test_patient_is_told_the_team_was_alerted_then_that_it_called(cast: Cast) -> None:
    from oncoliaison.monitoring import services

    alert = _severe_alert(cast)
    home = _client(cast.patient_user).get(reverse("portal:home")).content.decode()
    assert "Your care team has been told and will contact you by" in home

    nurse = cast.actor(cast.navigator)
    services.alert_record_action(actor=nurse, alert=alert, kind="note", note="Internal: left voicemail")
    alert.refresh_from_db()
    services.alert_record_action(actor=nurse, alert=alert, kind="called_patient", note="Go to the infusion unit")
    home = _client(cast.patient_user).get(reverse("portal:home")).content.decode()
    assert "Your care team responded on" in home and ": called you" in home
    assert "will contact you by" not in home
    section = home.split('aria-labelledby="responses"')[1].split("</section>")[0]
    assert "voicemail" not in section and "infusion unit" not in section and "Grace" not in section
    assert AuditEvent.objects.filter(resource_type="Flag", action="read", patient_id=cast.pat.pk,
                                     user_id=cast.patient_user.pk).exists()


def test_view_only_caregiver_sees_the_response(cast: Cast) -> None:
    from oncoliaison.monitoring import services

    alert = _severe_alert(cast)
    services.alert_record_action(actor=cast.actor(cast.navigator), alert=alert, kind="sent_emergency",
                                 note="Sent to the emergency department for fever after chemotherapy")
    page = _client(cast.caregiver).get(reverse("portal:for_patient", args=[cast.pat.pk])).content.decode()
    assert "The care team responded on" in page and "advised going to the emergency department" in page


def test_hides_other_organisations(cast: Cast) -> None:
    from oncoliaison.monitoring.selectors import alert_responses_for_patient

    _severe_alert(cast)
    with pytest.raises(NotFound):
        alert_responses_for_patient(cast.actor(cast.outsider), cast.pat)
    with pytest.raises(NotFound):  # the lead program's navigator and the partner's patient
        alert_responses_for_patient(cast.actor(cast.navigator), cast.other_patient)


def test_requires_the_right_role(cast: Cast) -> None:
    from oncoliaison.monitoring.selectors import alert_responses_for_patient

    _severe_alert(cast)
    with pytest.raises(NotFound):
        alert_responses_for_patient(cast.actor(cast.researcher), cast.pat)
    # staff use the worklist, not the portal
    assert _client(cast.navigator).get(reverse("portal:home")).status_code == 302
