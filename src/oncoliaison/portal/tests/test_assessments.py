"""The portal's needs-assessment pages: the patient, or a caregiver allowed to report, fills the NCCN Distress
Thermometer and Problem List or the HRSN screen through assessments.services.assessment_submit."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from oncoliaison.accounts.models import User, UserKind
from oncoliaison.assessments.models import Assessment, ReferralSuggestion
from oncoliaison.assessments.testing import load_instruments
from oncoliaison.core.models import AuditAction, AuditEvent
from oncoliaison.instruments.models import InstrumentPermission
from oncoliaison.patients.models import Consent, ConsentKind, ProxyScope
from oncoliaison.testing import PASSWORD, Cast


def _client(user: User) -> Client:
    c = Client()
    c.force_login(user)
    return c




def test_patient_sees_the_enabled_screens_and_a_link_from_home(cast: Cast) -> None:
    load_instruments(cast)
    c = _client(cast.patient_user)
    assert reverse("portal:screens") in c.get(reverse("portal:home")).content.decode()
    page = c.get(reverse("portal:screens")).content.decode()
    assert "Distress Thermometer" in page
    assert reverse("portal:screen_fill", args=["nccn-dt"]) in page
    assert reverse("portal:screen_fill", args=["ahc-hrsn-core"]) in page


def test_patient_fills_the_distress_thermometer(cast: Cast) -> None:
    load_instruments(cast)
    c = _client(cast.patient_user)
    form = c.get(reverse("portal:screen_fill", args=["nccn-dt"]))
    html = form.content.decode()
    assert form.status_code == 200 and 'name="distress"' in html and 'type="checkbox"' in html
    assert "<legend>" in html and 'class="scale-option"' in html
    options = _options(html)
    answers = {"distress": "7", "problems-practical": options["problems-practical"][:2]}
    r = c.post(reverse("portal:screen_fill", args=["nccn-dt"]), answers)
    assert r.status_code == 302, r.content.decode()[:2000]
    assessment = Assessment.objects.get()
    assert assessment.patient == cast.pat and assessment.filled_by == "patient" and assessment.positive
    assert assessment.organization == cast.lead and assessment.author == cast.patient_user
    assert ReferralSuggestion.objects.filter(assessment=assessment).exists()
    done = c.get(r["Location"])
    assert done.status_code == 200 and "care team will review" in done.content.decode()
    assert "Last sent on" in c.get(reverse("portal:screens")).content.decode()
    assert AuditEvent.objects.filter(action=AuditAction.CREATE, resource_type="QuestionnaireResponse",
                                     patient_id=cast.pat.pk).exists()


def _options(html: str) -> dict[str, list[str]]:
    import re

    out: dict[str, list[str]] = {}
    for name, value in re.findall(r'type="checkbox" id="[^"]+" name="([^"]+)" value="([^"]+)"', html):
        out.setdefault(name, []).append(value)
    return out


def test_an_out_of_range_answer_is_shown_on_the_form(cast: Cast) -> None:
    load_instruments(cast)
    r = _client(cast.patient_user).post(reverse("portal:screen_fill", args=["nccn-dt"]), {"distress": "11"})
    assert r.status_code == 400 and "There is a problem" in r.content.decode()
    assert not Assessment.objects.exists()


def test_an_empty_form_is_refused(cast: Cast) -> None:
    load_instruments(cast)
    r = _client(cast.patient_user).post(reverse("portal:screen_fill", args=["nccn-dt"]), {})
    assert r.status_code == 400 and not Assessment.objects.exists()


def test_the_distress_thermometer_is_not_offered_without_the_recorded_permission(cast: Cast) -> None:
    load_instruments(cast, enable_dt=False)
    c = _client(cast.patient_user)
    page = c.get(reverse("portal:screens")).content.decode()
    assert reverse("portal:screen_fill", args=["nccn-dt"]) not in page
    assert reverse("portal:screen_fill", args=["ahc-hrsn-core"]) in page
    assert c.get(reverse("portal:screen_fill", args=["nccn-dt"])).status_code == 404
    assert c.post(reverse("portal:screen_fill", args=["nccn-dt"]), {"distress": "5"}).status_code == 404
    assert not InstrumentPermission.objects.filter(kind="grant").exists()


def test_caregiver_with_report_scope_answers_for_the_patient(cast: Cast) -> None:
    load_instruments(cast)
    Consent.objects.filter(grantee_user=cast.caregiver).update(proxy_scope=ProxyScope.REPORT)
    c = _client(cast.caregiver)
    page = c.get(reverse("portal:screens_for", args=[cast.pat.pk])).content.decode()
    assert "You are answering for" in page
    r = c.post(reverse("portal:screen_fill_for", args=[cast.pat.pk, "nccn-dt"]), {"distress": "3"})
    assert r.status_code == 302
    assert r["Location"].startswith(reverse("portal:screens_for", args=[cast.pat.pk]))
    assessment = Assessment.objects.get()
    assert assessment.filled_by == "proxy" and assessment.author == cast.caregiver and not assessment.positive
    assert c.get(r["Location"]).status_code == 200


def test_view_only_caregiver_is_refused(cast: Cast) -> None:
    load_instruments(cast)
    c = _client(cast.caregiver)  # the cast's caregiver holds a view-only proxy consent
    assert c.get(reverse("portal:screens_for", args=[cast.pat.pk])).status_code == 403
    assert c.get(reverse("portal:screen_fill_for", args=[cast.pat.pk, "nccn-dt"])).status_code == 403
    assert c.post(reverse("portal:screen_fill_for", args=[cast.pat.pk, "nccn-dt"]),
                  {"distress": "8"}).status_code == 403
    assert not Assessment.objects.exists()
    assert reverse("portal:screens_for", args=[cast.pat.pk]) not in c.get(
        reverse("portal:for_patient", args=[cast.pat.pk])).content.decode()


def test_hides_other_patients(cast: Cast) -> None:
    """A caregiver without consent for a patient, or a patient asking for another, gets the same 404."""
    load_instruments(cast)
    Consent.objects.filter(grantee_user=cast.caregiver).update(proxy_scope=ProxyScope.REPORT)
    c = _client(cast.caregiver)
    assert c.get(reverse("portal:screens_for", args=[cast.other_patient.pk])).status_code == 404
    assert c.get(reverse("portal:screens_for", args=[999999])).status_code == 404
    p = _client(cast.patient_user)
    assert p.get(reverse("portal:screens_for", args=[cast.other_patient.pk])).status_code == 404
    # a confirmation page of someone else's assessment is not found either
    stranger = User.objects.create_user(username="sue", password=PASSWORD, kind=UserKind.CAREGIVER)
    Consent.objects.create(patient=cast.other_patient, kind=ConsentKind.CAREGIVER_PROXY, grantee_user=stranger,
                           proxy_scope=ProxyScope.REPORT, organization=cast.partner)
    r = c.post(reverse("portal:screen_fill_for", args=[cast.pat.pk, "ahc-hrsn-core"]),
               {"living-situation": _first_choice(c, cast.pat.pk)})
    assert r.status_code == 302
    pk = Assessment.objects.get().pk
    s = _client(stranger)
    assert s.get(reverse("portal:screen_done_for", args=[cast.other_patient.pk, pk])).status_code == 404
    assert s.get(reverse("portal:screen_done_for", args=[cast.pat.pk, pk])).status_code == 404


def _first_choice(c: Client, patient_id: int) -> str:
    import re

    html = c.get(reverse("portal:screen_fill_for", args=[patient_id, "ahc-hrsn-core"])).content.decode()
    match = re.search(r'type="radio" id="[^"]+" name="living-situation" value="([^"]+)"', html)
    assert match
    return match.group(1)


def test_requires_the_right_role(cast: Cast) -> None:
    """The portal pages are for patients and caregivers: staff are refused."""
    load_instruments(cast)
    for user in (cast.navigator, cast.admin, cast.researcher):
        c = _client(user)
        assert c.get(reverse("portal:screens")).status_code == 403
        assert c.post(reverse("portal:screen_fill", args=["nccn-dt"]), {"distress": "5"}).status_code == 403
    anonymous = Client().get(reverse("portal:screens"))
    assert anonymous.status_code == 302
    assert not Assessment.objects.exists()
