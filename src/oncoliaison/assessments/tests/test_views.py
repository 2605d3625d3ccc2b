"""Assessment pages: login and role, hiding other organisations (same 404 as missing), clear errors, htmx."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from oncoliaison.assessments import services
from oncoliaison.assessments.models import Assessment, SuggestionStatus
from oncoliaison.core.models import AuditEvent
from oncoliaison.instruments.models import Instrument, InstrumentPermission, PermissionKind
from oncoliaison.instruments.selectors import instrument_enabled_for
from oncoliaison.testing import Cast


def _client(user) -> Client:  # type: ignore[no-untyped-def]
    c = Client()
    c.force_login(user)
    return c


def _body(response) -> str:  # type: ignore[no-untyped-def]
    """The page without per-request tokens, to compare two responses."""
    text = response.content.decode()
    text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", text)
    return re.sub(r'"X-CSRFToken": "[^"]+"', "", text)


def _assessment(cast: Cast, versions) -> Assessment:  # type: ignore[no-untyped-def]
    return services.assessment_submit(
        actor=cast.actor(cast.navigator), patient=cast.pat, version=versions["nccn-dt"],
        answers={"distress": ["7"], "problems-emotional": ["fear"], "problems-spiritual": ["meaning"]},
    )


def test_requires_login(cast: Cast, versions) -> None:
    response = Client().get(f"/assessments/patient/{cast.pat.pk}/")
    assert response.status_code == 302
    assert "/accounts/login" in response["Location"]


def test_requires_a_care_role(cast: Cast, versions) -> None:
    assert _client(cast.researcher).get(f"/assessments/patient/{cast.pat.pk}/").status_code == 403
    assert _client(cast.patient_user).get(f"/assessments/patient/{cast.pat.pk}/").status_code == 403


def test_hides_other_organisations_same_404_as_missing(cast: Cast, versions) -> None:
    a = _assessment(cast, versions)
    outsider = _client(cast.outsider)
    not_yours = outsider.get(f"/assessments/{a.pk}/")
    missing = outsider.get(f"/assessments/{a.pk + 999}/")
    assert not_yours.status_code == missing.status_code == 404
    assert _body(not_yours) == _body(missing)
    page_not_yours = outsider.get(f"/assessments/patient/{cast.pat.pk}/")
    page_missing = outsider.get("/assessments/patient/987654/")
    assert page_not_yours.status_code == page_missing.status_code == 404
    assert _body(page_not_yours) == _body(page_missing)
    suggestion = a.suggestions.first()
    assert outsider.post(f"/assessments/suggestions/{suggestion.pk}/decide/", {"decision": "accept"}).status_code == 404
    suggestion.refresh_from_db()
    assert suggestion.status == SuggestionStatus.PROPOSED


def test_patient_page_lists_enabled_instruments_and_history(cast: Cast, versions, django_assert_max_num_queries) -> None:
    _assessment(cast, versions)
    _assessment(cast, versions)
    client = _client(cast.navigator)
    with django_assert_max_num_queries(30):
        response = client.get(f"/assessments/patient/{cast.pat.pk}/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "NCCN Distress Thermometer" in body
    assert "Health-related social needs" in body
    assert "distress 7/10" in body
    assert "no-store" in response["Cache-Control"]


def test_fill_on_behalf_then_see_result(cast: Cast, versions) -> None:
    client = _client(cast.navigator)
    form = client.get(f"/assessments/patient/{cast.pat.pk}/new/nccn-dt/")
    assert form.status_code == 200
    assert 'name="distress"' in form.content.decode()
    response = client.post(f"/assessments/patient/{cast.pat.pk}/new/nccn-dt/", {
        "distress": "4", "problems-practical": ["finances", "insurance"],
    })
    a = Assessment.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/assessments/{a.pk}/"
    detail = client.get(response["Location"]).content.decode()
    assert "Positive distress screen (4/10)" in detail
    assert "Financial counselling" in detail
    assert "Practical: Finances" in detail


def test_out_of_range_shows_a_clear_error(cast: Cast, versions) -> None:
    response = _client(cast.navigator).post(f"/assessments/patient/{cast.pat.pk}/new/nccn-dt/", {"distress": "15"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "15 is out of range: give a whole number from 0 to 10." in body
    assert 'href="#q-distress"' in body
    assert not Assessment.objects.exists()


def test_disabled_instrument_redirects_with_the_reason(cast: Cast, versions) -> None:
    InstrumentPermission.objects.create(instrument=Instrument.objects.get(code="nccn-dt"), organization=cast.lead,
                                        kind=PermissionKind.SWITCH_OFF)
    response = _client(cast.navigator).get(f"/assessments/patient/{cast.pat.pk}/new/nccn-dt/", follow=True)
    assert "is not available: Needs the owner&#x27;s permission" in response.content.decode()


def test_unknown_instrument_is_404(cast: Cast, versions) -> None:
    assert _client(cast.navigator).get(f"/assessments/patient/{cast.pat.pk}/new/nope/").status_code == 404


def test_decide_suggestion_with_htmx_returns_the_row(cast: Cast, versions) -> None:
    a = _assessment(cast, versions)
    s = a.suggestions.get(service="chaplaincy")
    client = _client(cast.navigator)
    response = client.post(f"/assessments/suggestions/{s.pk}/decide/", {"decision": "reject"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "A reason is required to reject a suggestion." in response.content.decode()
    response = client.post(f"/assessments/suggestions/{s.pk}/decide/", {"decision": "accept"},
                           HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert body.strip().startswith('<li class="card suggestion"')
    assert "Accepted by Grace Navigator" in body
    s.refresh_from_db()
    assert s.status == SuggestionStatus.ACCEPTED


def test_decide_without_javascript_redirects(cast: Cast, versions) -> None:
    a = _assessment(cast, versions)
    s = a.suggestions.get(service="psychology")
    response = _client(cast.navigator).post(f"/assessments/suggestions/{s.pk}/decide/",
                                            {"decision": "reject", "note": "Declined by patient"})
    assert response.status_code == 302
    s.refresh_from_db()
    assert s.status == SuggestionStatus.REJECTED and s.decision_note == "Declined by patient"


def test_withdraw(cast: Cast, versions) -> None:
    a = _assessment(cast, versions)
    _client(cast.navigator).post(f"/assessments/{a.pk}/withdraw/", {"reason": "Duplicate"})
    a.refresh_from_db()
    assert a.status == "entered-in-error"


@pytest.mark.parametrize("who", ["navigator", "admin"])
def test_instrument_page_shows_licence_and_status(cast: Cast, versions, who: str) -> None:
    response = _client(getattr(cast, who)).get("/assessments/instruments/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "may not be used for any commercial purpose" in body
    assert ("permission_reference" in body) is (who == "admin")


def test_admin_switches_an_instrument_and_it_is_audited(cast: Cast, versions) -> None:
    client = _client(cast.admin)
    response = client.post("/assessments/instruments/nccn-dt/permission/", {"note": "paused"}, follow=True)
    assert "is now off" in response.content.decode()
    nccn_dt = Instrument.objects.get(code="nccn-dt")
    assert not instrument_enabled_for(nccn_dt, cast.lead.pk)[0]
    # Switching off is a new entry: the permission recorded before is still on record, unchanged.
    history = list(InstrumentPermission.objects.filter(instrument=nccn_dt).values_list("kind", "reference"))
    assert history == [("grant", "NCCN-PERM-TEST-1"), ("switch-off", "")]
    response = client.post("/assessments/instruments/nccn-dt/permission/", {"enabled": "on"}, follow=True)
    assert "Record the owner&#x27;s permission or licence reference." in response.content.decode()
    assert AuditEvent.objects.filter(category="instrument", detail__startswith="disabled nccn-dt").exists()


def test_navigator_cannot_switch_instruments(cast: Cast, versions) -> None:
    assert _client(cast.navigator).post("/assessments/instruments/nccn-dt/permission/", {}).status_code == 403
