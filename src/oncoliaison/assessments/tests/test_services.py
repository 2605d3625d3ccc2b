"""Assessment services: who may fill what, licensing gate, stored answers/scores/suggestions, audit rows."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from oncoliaison.assessments import selectors, services
from oncoliaison.assessments.models import (
    Assessment,
    AssessmentAnswer,
    AssessmentScore,
    AssessmentStatus,
    FilledBy,
    ReferralSuggestion,
    SuggestionStatus,
)
from oncoliaison.assessments.testing import load_instruments
from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from oncoliaison.core.models import AuditEvent
from oncoliaison.core.scopes import ScopeSet
from oncoliaison.instruments.models import Instrument, InstrumentVersion
from oncoliaison.instruments.selectors import instrument_enabled_for
from oncoliaison.patients.models import Consent, ConsentKind, ProxyScope
from oncoliaison.testing import Cast

POSITIVE_DT = {"distress": ["6"], "problems-emotional": ["worry"], "problems-practical": ["finances", "transportation"]}


def _submit(cast: Cast, versions: dict, user=None, answers=None, code="nccn-dt") -> Assessment:
    return services.assessment_submit(actor=cast.actor(user or cast.navigator), patient=cast.pat,
                                      version=versions[code], answers=answers or POSITIVE_DT)


def test_navigator_records_an_assessment_with_answers_scores_suggestions_and_audit(cast: Cast, versions) -> None:
    before = AuditEvent.objects.count()
    a = _submit(cast, versions)
    assert a.status == AssessmentStatus.COMPLETED
    assert a.filled_by == FilledBy.STAFF
    assert a.author_id == cast.navigator.pk
    assert a.organization_id == cast.lead.pk
    assert a.positive
    assert list(AssessmentAnswer.objects.filter(assessment=a).values_list("link_id", "value_code", "value_integer")) == [
        ("distress", "", 6), ("problems-emotional", "worry", None), ("problems-practical", "finances", None),
        ("problems-practical", "transportation", None),
    ]
    dt_score = AssessmentScore.objects.get(assessment=a, code="distress-thermometer")
    assert (dt_score.value_integer, dt_score.interpretation) == (6, "POS")
    assert "cut-off of 4" in dt_score.reasons[0]
    services_proposed = set(ReferralSuggestion.objects.filter(assessment=a).values_list("service", flat=True))
    assert services_proposed == {"psychology", "financial_counselling", "social_work"}
    event = AuditEvent.objects.order_by("-seq").first()
    assert AuditEvent.objects.count() == before + 1
    assert (event.action, event.resource_type, event.patient_id) == ("create", "QuestionnaireResponse", cast.pat.pk)
    assert "Pat" not in event.detail  # no names in the audit detail


def test_negative_dt_stores_the_score_and_proposes_nothing(cast: Cast, versions) -> None:
    a = _submit(cast, versions, answers={"distress": ["3"]})
    assert not a.positive
    assert not a.suggestions.exists()
    assert a.scores.get(code="distress-thermometer").interpretation == "NEG"


def test_out_of_range_rating_is_refused_with_a_field_error(cast: Cast, versions) -> None:
    with pytest.raises(ValidationFailed) as exc:
        _submit(cast, versions, answers={"distress": ["12"]})
    assert "out of range" in exc.value.field_errors["distress"][0]
    assert not Assessment.objects.exists()


def test_empty_submission_is_refused(cast: Cast, versions) -> None:
    with pytest.raises(ValidationFailed, match="at least one"):
        _submit(cast, versions, answers={"distress": [""]})


def test_licensed_instrument_is_off_until_permission_is_recorded(cast: Cast) -> None:
    versions = load_instruments(cast, enable_dt=False)
    with pytest.raises(Forbidden, match="permission"):
        _submit(cast, versions)
    # The free HRSN screen needs no permission.
    _submit(cast, versions, code="ahc-hrsn-core", answers={"transportation": ["yes"]})
    dt_instrument = Instrument.objects.get(code="nccn-dt")
    with pytest.raises(ValidationFailed) as exc:
        services.instrument_permission_set(actor=cast.actor(cast.admin), instrument=dt_instrument,
                                           organization_id=cast.lead.pk, data=services.PermissionData(enabled=True))
    assert set(exc.value.field_errors) == {"permission_reference", "permission_holder", "granted_on"}
    services.instrument_permission_set(
        actor=cast.actor(cast.admin), instrument=dt_instrument, organization_id=cast.lead.pk,
        data=services.PermissionData(enabled=True, permission_reference="REF-1", permission_holder="Lead",
                                     granted_on=dt.date(2026, 1, 1)))
    assert _submit(cast, versions).pk
    event = AuditEvent.objects.filter(action="admin", category="instrument").order_by("-seq").first()
    assert "enabled nccn-dt" in event.detail


def test_expired_permission_switches_the_instrument_off(cast: Cast, versions) -> None:
    from oncoliaison.instruments.models import InstrumentPermission

    InstrumentPermission.objects.filter(instrument__code="nccn-dt").update(expires_on=dt.date(2026, 2, 1))
    enabled, why = instrument_enabled_for(Instrument.objects.get(code="nccn-dt"), cast.lead.pk)
    assert not enabled and "expired" in why


def test_only_program_administrators_record_permissions(cast: Cast, versions) -> None:
    with pytest.raises(Forbidden):
        services.instrument_permission_set(
            actor=cast.actor(cast.navigator), instrument=Instrument.objects.get(code="nccn-dt"),
            organization_id=cast.lead.pk, data=services.PermissionData(enabled=False))
    with pytest.raises(Forbidden):  # an administrator of another organisation
        services.instrument_permission_set(
            actor=cast.actor(cast.admin), instrument=Instrument.objects.get(code="nccn-dt"),
            organization_id=cast.partner.pk, data=services.PermissionData(enabled=False))


def test_outsider_cannot_see_the_assessment_same_as_missing(cast: Cast, versions) -> None:
    a = _submit(cast, versions)
    with pytest.raises(NotFound):
        selectors.assessment_get_for(cast.actor(cast.outsider), a.pk)
    with pytest.raises(NotFound):
        selectors.assessment_get_for(cast.actor(cast.navigator), a.pk + 1000)
    with pytest.raises(NotFound):
        selectors.suggestion_get_for(cast.actor(cast.outsider), a.suggestions.first().pk)


def test_researcher_cannot_fill_an_assessment(cast: Cast, versions) -> None:
    with pytest.raises(Forbidden):
        _submit(cast, versions, user=cast.researcher)


def test_patient_fills_their_own(cast: Cast, versions) -> None:
    a = _submit(cast, versions, user=cast.patient_user)
    assert a.filled_by == FilledBy.PATIENT
    with pytest.raises(Forbidden):
        services.assessment_submit(actor=cast.actor(cast.patient_user), patient=cast.other_patient,
                                   version=versions["nccn-dt"], answers=POSITIVE_DT)


def test_view_only_caregiver_cannot_answer_but_a_reporting_proxy_can(cast: Cast, versions) -> None:
    with pytest.raises(Forbidden, match="view-only"):
        _submit(cast, versions, user=cast.caregiver)
    Consent.objects.filter(kind=ConsentKind.CAREGIVER_PROXY).update(proxy_scope=ProxyScope.REPORT)
    assert _submit(cast, versions, user=cast.caregiver).filled_by == FilledBy.PROXY


def test_system_client_needs_the_create_scope(cast: Cast, versions) -> None:
    reader = Actor(kind="system", client_id="c1", client_organization_id=cast.lead.pk,
                   memberships=((cast.lead.pk, "system", cast.lead.kind),),
                   scopes=ScopeSet.parse("system/QuestionnaireResponse.rs"))
    with pytest.raises(Forbidden, match="scope"):
        services.assessment_submit(actor=reader, patient=cast.pat, version=versions["nccn-dt"], answers=POSITIVE_DT)
    writer = Actor(kind="system", client_id="c1", client_organization_id=cast.lead.pk,
                   memberships=((cast.lead.pk, "system", cast.lead.kind),),
                   scopes=ScopeSet.parse("system/QuestionnaireResponse.cr"))
    a = services.assessment_submit(actor=writer, patient=cast.pat, version=versions["nccn-dt"], answers=POSITIVE_DT)
    assert selectors.assessment_get_for(writer, a.pk).pk == a.pk


def test_navigator_accepts_and_rejects_suggestions_once_with_audit(cast: Cast, versions) -> None:
    a = _submit(cast, versions)
    psych = a.suggestions.get(service="psychology")
    money = a.suggestions.get(service="financial_counselling")
    nav = cast.actor(cast.navigator)
    accepted = services.suggestion_decide(actor=nav, suggestion=psych, accept=True)
    assert accepted.status == SuggestionStatus.ACCEPTED
    assert accepted.decided_by_id == cast.navigator.pk
    event = AuditEvent.objects.order_by("-seq").first()
    assert (event.resource_type, event.patient_id, event.detail) == ("ReferralSuggestion", cast.pat.pk,
                                                                     "psychology accepted")
    with pytest.raises(ValidationFailed, match="why"):
        services.suggestion_decide(actor=nav, suggestion=money, accept=False)
    services.suggestion_decide(actor=nav, suggestion=money, accept=False, note="Already sees a counsellor")
    with pytest.raises(Conflict, match="already accepted"):
        services.suggestion_decide(actor=nav, suggestion=psych, accept=False, note="changed mind")


def test_patients_cannot_decide_suggestions(cast: Cast, versions) -> None:
    a = _submit(cast, versions)
    with pytest.raises(Forbidden):
        services.suggestion_decide(actor=cast.actor(cast.patient_user), suggestion=a.suggestions.first(), accept=True)


def test_entered_in_error_closes_open_suggestions_and_hides_from_the_patient(cast: Cast, versions) -> None:
    a = _submit(cast, versions)
    services.assessment_mark_in_error(actor=cast.actor(cast.navigator), assessment=a, reason="Wrong patient")
    a.refresh_from_db()
    assert a.status == AssessmentStatus.ENTERED_IN_ERROR
    assert set(a.suggestions.values_list("status", flat=True)) == {SuggestionStatus.REJECTED}
    with pytest.raises(NotFound):
        selectors.assessment_get_for(cast.actor(cast.patient_user), a.pk)
    with pytest.raises(Conflict):
        services.assessment_mark_in_error(actor=cast.actor(cast.navigator), assessment=a, reason="again")


def test_loading_is_idempotent_and_protects_versions_in_use(cast: Cast, versions) -> None:
    results = services.instruments_load_bundled(actor=Actor(kind="system", username="cli:test"))
    assert {(r.code, r.created) for r in results} == {("nccn-dt", False), ("ahc-hrsn-core", False)}
    assert InstrumentVersion.objects.filter(instrument__purpose="needs-assessment").count() == 2
    _submit(cast, versions)
    changed = json.loads((services.DATA_DIR / "nccn-dt-2022.json").read_text())
    changed["items"][0]["text"] = "Changed wording"
    with pytest.raises(Conflict, match="new version number"):
        services.instrument_load(changed, actor=Actor(kind="system", username="cli:test"), source="x.json")
    changed["version"] = "2023"
    assert services.instrument_load(changed, actor=Actor(kind="system", username="cli:test")).created


def test_a_broken_definition_file_is_refused(cast: Cast) -> None:
    with pytest.raises(ValidationFailed, match="missing 'items'"):
        services.instrument_load({"code": "x", "version": "1", "title": "X", "scoring": "nccn-dt"},
                                 actor=Actor(kind="system", username="cli:test"))


def test_load_instruments_command(cast: Cast) -> None:
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("load_instruments", stdout=out)
    assert "nccn-dt 2022: loaded" in out.getvalue()
    out = StringIO()
    call_command("load_instruments", stdout=out)
    assert "up to date" in out.getvalue()
