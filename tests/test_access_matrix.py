"""The cross-organisation access matrix.

Every page, JSON API route and FHIR resource that takes an id is tried by people of *other*
organisations (every role), by a patient and by a caregiver, with the id of a record they may not see and
with an id that does not exist.  Both must give the same answer — same status, same body — so nothing
leaks whether a record exists.  A guard test fails when a new route with an id is not in the table below.

Data: the synthetic demo program (``oncoliaison seed-demo``), which populates every domain.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import deque
from dataclasses import dataclass

import pytest
from django.apps import apps
from django.db.models import ForeignKey, Model, OneToOneField, Q
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from oncoliaison.accounts.models import User, UserKind
from oncoliaison.accounts.services import actor_for_user, api_client_create, token_issue
from oncoliaison.core.actor import Actor
from oncoliaison.demo.seed import seed_demo
from oncoliaison.organisations.models import Membership, Organization, Role
from oncoliaison.patients.models import Patient
from oncoliaison.patients.selectors import patient_queryset_for

MISSING = 987654321

# route name -> {url kwarg: model label}.  Every route whose URL carries an id of patient data is here.
ROUTES: dict[str, dict[str, str]] = {
    "patients:detail": {"pk": "patients.Patient"},
    "patients:edit": {"pk": "patients.Patient"},
    "patients:print": {"pk": "patients.Patient"},
    "patients:consent_add": {"pk": "patients.Patient"},
    "patients:consent_revoke": {"pk": "patients.Patient", "consent_pk": "patients.Consent"},
    "patients:emergency_access_end": {"pk": "patients.EmergencyAccess"},
    "patients:emergency_review_record": {"pk": "patients.EmergencyAccess"},
    "oncology:summary": {"pk": "patients.Patient"},
    "oncology:print": {"pk": "patients.Patient"},
    "oncology:review": {"pk": "oncology.ImportReview"},
    "oncology:record_new": {"pk": "patients.Patient"},
    "oncology:record_correct": {"pk": "oncology.CancerCondition"},
    "assessments:patient": {"patient_id": "patients.Patient"},
    "assessments:new": {"patient_id": "patients.Patient"},
    "assessments:detail": {"pk": "assessments.Assessment"},
    "assessments:withdraw": {"pk": "assessments.Assessment"},
    "assessments:suggestion_decide": {"pk": "assessments.ReferralSuggestion"},
    "careplans:patient": {"patient_id": "patients.Patient"},
    "careplans:generate": {"patient_id": "patients.Patient"},
    "careplans:detail": {"pk": "careplans.CarePlan"},
    "careplans:status": {"pk": "careplans.CarePlan"},
    "careplans:goal_add": {"pk": "careplans.CarePlan"},
    "careplans:intervention_add": {"pk": "careplans.CarePlan"},
    "careplans:task_add": {"pk": "careplans.CarePlan"},
    "careplans:barrier_add": {"pk": "careplans.CarePlan"},
    "careplans:goal_status": {"pk": "careplans.Goal"},
    "careplans:task_complete": {"pk": "careplans.Task"},
    "careplans:task_reassign": {"pk": "careplans.Task"},
    "careplans:task_status": {"pk": "careplans.Task"},
    "careplans:barrier_resolve": {"pk": "careplans.Barrier"},
    "careplans:barrier_update": {"pk": "careplans.Barrier"},
    "referrals:new_for_patient": {"patient_pk": "patients.Patient"},
    "referrals:detail": {"pk": "referrals.Referral"},
    "referrals:accept": {"pk": "referrals.Referral"},
    "referrals:request_info": {"pk": "referrals.Referral"},
    "referrals:info_received": {"pk": "referrals.Referral"},
    "referrals:decline": {"pk": "referrals.Referral"},
    "referrals:withdraw": {"pk": "referrals.Referral"},
    "referrals:reply": {"pk": "referrals.Referral"},
    "referrals:attachment": {"pk": "referrals.Referral", "attachment_pk": "referrals.ReferralAttachment"},
    "referrals:contact": {"pk": "referrals.Referral"},
    "referrals:first_appointment": {"pk": "referrals.Referral"},
    "programs:enroll_referral": {"referral_pk": "referrals.Referral"},
    "programs:enroll_patient": {"patient_pk": "patients.Patient"},
    "programs:detail": {"pk": "programs.ProgramEpisode"},
    "programs:status": {"pk": "programs.ProgramEpisode"},
    "monitoring:alert_detail": {"alert_id": "monitoring.Alert"},
    "monitoring:alert_acknowledge": {"alert_id": "monitoring.Alert"},
    "monitoring:alert_action": {"alert_id": "monitoring.Alert"},
    "monitoring:alert_resolve": {"alert_id": "monitoring.Alert"},
    "monitoring:history": {"patient_id": "patients.Patient"},
    "monitoring:schedule_create": {"patient_id": "patients.Patient"},
    "monitoring:phone_report": {"patient_id": "patients.Patient"},
    "monitoring:report_saved": {"patient_id": "patients.Patient", "report_id": "monitoring.SymptomReport"},
    "portal:for_patient": {"patient_id": "patients.Patient"},
    "portal:report_for": {"patient_id": "patients.Patient"},
    "portal:report_sent": {"report_id": "monitoring.SymptomReport"},
    "portal:report_sent_for": {"patient_id": "patients.Patient", "report_id": "monitoring.SymptomReport"},
    "portal:support_revoke": {"consent_id": "patients.Consent"},
    "portal:support_resend": {"consent_id": "patients.Consent"},
    "portal:staff_invite": {"patient_id": "patients.Patient"},
    "portal:screens_for": {"patient_id": "patients.Patient"},
    "portal:screen_fill_for": {"patient_id": "patients.Patient"},
    "portal:screen_done": {"pk": "assessments.Assessment"},
    "portal:screen_done_for": {"patient_id": "patients.Patient", "pk": "assessments.Assessment"},
    "messaging:new_for": {"patient_id": "patients.Patient"},
    "messaging:thread": {"thread_id": "messaging.Thread"},
    "messaging:reply": {"thread_id": "messaging.Thread"},
    "api:patient_get": {"patient_id": "patients.Patient"},
    "api:patient_update": {"patient_id": "patients.Patient"},
    "api:care_team_list": {"patient_id": "patients.Patient"},
    "api:care_team_create": {"patient_id": "patients.Patient"},
    "api:care_team_update": {"patient_id": "patients.Patient", "team_id": "patients.CareTeam"},
    "api:consent_list": {"patient_id": "patients.Patient"},
    "api:consent_create": {"patient_id": "patients.Patient"},
    "api:consent_update": {"patient_id": "patients.Patient", "consent_id": "patients.Consent"},
    "api:consent_revoke": {"patient_id": "patients.Patient", "consent_id": "patients.Consent"},
    "api:referral_get": {"referral_id": "referrals.Referral"},
    "api:referral_request_info": {"referral_id": "referrals.Referral"},
    "api:referral_info_received": {"referral_id": "referrals.Referral"},
    "api:referral_decline": {"referral_id": "referrals.Referral"},
    "api:referral_withdraw": {"referral_id": "referrals.Referral"},
    "api:referral_accept": {"referral_id": "referrals.Referral"},
    "api:referral_record_contact": {"referral_id": "referrals.Referral"},
    "api:referral_set_first_appointment": {"referral_id": "referrals.Referral"},
    "api:assessment_get": {"assessment_id": "assessments.Assessment"},
    "api:assessment_instrument_list": {"patient_id": "patients.Patient"},
    "api:assessment_list": {"patient_id": "patients.Patient"},
    "api:assessment_mark_in_error": {"assessment_id": "assessments.Assessment"},
    "api:assessment_submit": {"patient_id": "patients.Patient"},
    "api:assessment_suggestion_decide": {"suggestion_id": "assessments.ReferralSuggestion"},
    "api:message_post": {"thread_id": "messaging.Thread"},
    "api:message_thread_get": {"thread_id": "messaging.Thread"},
    "api:message_thread_mark_read": {"thread_id": "messaging.Thread"},
    "careplans:resources_refresh": {"pk": "careplans.CarePlan"},
    "careplans:task_reschedule": {"pk": "careplans.Task"},
    "api:symptom_instrument_list": {"patient_id": "patients.Patient"},
    "api:symptom_schedule_list": {"patient_id": "patients.Patient"},
    "api:symptom_report_submit": {"patient_id": "patients.Patient"},
    "api:symptom_report_list": {"patient_id": "patients.Patient"},
    "api:symptom_alert_get": {"alert_id": "monitoring.Alert"},
    "api:symptom_alert_acknowledge": {"alert_id": "monitoring.Alert"},
    "api:symptom_alert_record_action": {"alert_id": "monitoring.Alert"},
    "api:symptom_alert_resolve": {"alert_id": "monitoring.Alert"},
    "tumorboards:case": {"pk": "tumorboards.BoardCase"},
    "tumorboards:case_print": {"pk": "tumorboards.BoardCase"},
    "tumorboards:case_decide": {"pk": "tumorboards.BoardCase"},
    "tumorboards:case_refresh": {"pk": "tumorboards.BoardCase"},
    "tumorboards:case_discussion": {"pk": "tumorboards.BoardCase"},
    "tumorboards:case_recommendation": {"pk": "tumorboards.BoardCase"},
    "tumorboards:case_summary": {"pk": "tumorboards.BoardCase"},
    "tumorboards:case_addendum": {"pk": "tumorboards.BoardCase"},
    "tumorboards:case_concordance": {"pk": "tumorboards.BoardCase"},
    "tumorboards:submit": {"patient_id": "patients.Patient"},
    "api:tumor_board_case_get": {"case_id": "tumorboards.BoardCase"},
    "api:tumor_board_case_decide": {"case_id": "tumorboards.BoardCase"},
    "api:tumor_board_case_discussion": {"case_id": "tumorboards.BoardCase"},
    "api:tumor_board_recommendation_create": {"case_id": "tumorboards.BoardCase"},
    "api:tumor_board_summary_save": {"case_id": "tumorboards.BoardCase"},
    "api:tumor_board_summary_release": {"case_id": "tumorboards.BoardCase"},
    "api:tumor_board_addendum_create": {"case_id": "tumorboards.BoardCase"},
    "adherence:patient": {"patient_id": "patients.Patient"},
    "adherence:dispense_add": {"patient_id": "patients.Patient"},
    "adherence:regimen_set": {"patient_id": "patients.Patient"},
    "adherence:dispense_error": {"pk": "adherence.Dispense"},
    "api:adherence_dispense_list": {"patient_id": "patients.Patient"},
    "api:adherence_dispense_create": {"patient_id": "patients.Patient"},
    "api:adherence_dispense_get": {"dispense_id": "adherence.Dispense"},
    "api:adherence_pdc_list": {"patient_id": "patients.Patient"},
}

# Routes that also take a non-id argument: a real value for it.
EXTRA_KWARGS = {
    "assessments:new": lambda: {"code": apps.get_model("instruments.Instrument").objects.filter(
        purpose="needs-assessment").values_list("code", flat=True).first()},
    "portal:screen_fill_for": lambda: {"code": "nccn-dt"},
    "oncology:record_new": lambda: {"record_type": "performance"},
    "oncology:record_correct": lambda: {"record_type": "condition"},
    "monitoring:phone_report": lambda: {
        "code": apps.get_model("instruments.Instrument").objects.filter(purpose="symptom-monitoring")
        .order_by("code").values_list("code", flat=True).first()
    },
}

TUMOR_BOARD_SCHEDULE = ("a board's schedule, not patient data: 404 for organisations not taking part "
                        "(tumorboards/tests/test_views.py); its agenda lists only the cases of patients the caller "
                        "may see")

# Routes with ids that are not patient data, and why they are outside the matrix.
NOT_PATIENT_DATA = {
    "organisations:detail": "network directory: every member organisation is listed to all staff",
    "organisations:member_add": "administration of one's own organisation (403 for others)",
    "organisations:password_shown": "administration of one's own organisation (403 for others)",
    "organisations:edit": "administration of one's own organisation (403 for others)",
    "organisations:member_credentials": "administration of one's own organisation (403 for others)",
    "organisations:member_edit": "administration of one's own organisation (403 for others)",
    "assessments:instrument_permission": "instrument licence administration",
    "careplans:resource_edit": "shared resource directory",
    "monitoring:permission_record": "instrument licence administration",
    "monitoring:permission_disable": "instrument licence administration",
    "portal:invite_accept": "one-time invitation token (random, hashed)",
    "portal:screen_fill": "instrument code; the patient is the signed-in patient themself",
    "dashboard:export": "aggregate measures of one's own organisation (403 for others); the slug names a table",
    "api:organization_get": "network directory",
    "api:organization_update": "administration of one's own organisation",
    "api:membership_list": "administration of one's own organisation",
    "api:membership_create": "administration of one's own organisation",
    "api:membership_update": "administration of one's own organisation",
    "api:unknown_path": "catch-all 404",
    "accounts:api_client_revoke": "administration of one's own organisation's API clients (404 for others)",
    "fhir:instance": "covered by test_fhir_read_and_search_hide_other_organisations",
    "fhir:search": "covered by test_fhir_read_and_search_hide_other_organisations",
    "fhir:type": "covered by test_fhir_read_and_search_hide_other_organisations",
    "fhir:patient-everything": "covered by test_fhir_read_and_search_hide_other_organisations",
    "fhir:group-export": "a Group is an organisation's patient list; exports are scoped to the caller's visible patients",
    "fhir:export-status": "export jobs (random ids) answer only the client that started them",
    "fhir:export-file": "export files (random ids) answer only the client that started them",
    "tumorboards:series": TUMOR_BOARD_SCHEDULE,
    "tumorboards:series_edit": TUMOR_BOARD_SCHEDULE,
    "tumorboards:meeting_new": TUMOR_BOARD_SCHEDULE,
    "tumorboards:meeting": TUMOR_BOARD_SCHEDULE,
    "tumorboards:meeting_state": TUMOR_BOARD_SCHEDULE,
    "tumorboards:meeting_attendance": TUMOR_BOARD_SCHEDULE,
    "tumorboards:meeting_join": TUMOR_BOARD_SCHEDULE,
    "tumorboards:meeting_invite": TUMOR_BOARD_SCHEDULE,
    "tumorboards:meeting_agenda": TUMOR_BOARD_SCHEDULE,
    "tumorboards:present": TUMOR_BOARD_SCHEDULE,
    "tumorboards:present_current": TUMOR_BOARD_SCHEDULE,
    "tumorboards:present_goto": TUMOR_BOARD_SCHEDULE,
    "tumorboards:minutes": TUMOR_BOARD_SCHEDULE,
    "api:tumor_board_get": TUMOR_BOARD_SCHEDULE,
    "api:tumor_board_meeting_list": TUMOR_BOARD_SCHEDULE,
    "api:tumor_board_meeting_create": TUMOR_BOARD_SCHEDULE,
    "api:tumor_board_meeting_get": TUMOR_BOARD_SCHEDULE,
    "api:tumor_board_case_create": TUMOR_BOARD_SCHEDULE,
    "api:tumor_board_attendance_create": TUMOR_BOARD_SCHEDULE,
    "api:tumor_board_attendance_list": TUMOR_BOARD_SCHEDULE,
    "api:tumor_board_agenda_order": TUMOR_BOARD_SCHEDULE,
    "api:tumor_board_meeting_start": TUMOR_BOARD_SCHEDULE,
    "api:tumor_board_meeting_present": TUMOR_BOARD_SCHEDULE,
    "api:tumor_board_meeting_close": TUMOR_BOARD_SCHEDULE,
}

# Records visible through their organisation rather than through a patient.
ORG_SCOPED = {
    "oncology.ImportReview": "organization_id",
    "referrals.Referral": "receiving_organization_id",
    "referrals.ReferralAttachment": "referral__receiving_organization_id",
    "core.AuditEvent": "organization_id",
}


def _walk(resolver: URLResolver, ns: str = ""):  # type: ignore[no-untyped-def]
    for p in resolver.url_patterns:
        if isinstance(p, URLResolver):
            yield from _walk(p, f"{ns}{p.namespace}:" if p.namespace else ns)
        elif isinstance(p, URLPattern):
            yield f"{ns}{p.name}", p


def _routes_with_ids() -> dict[str, URLPattern]:
    out = {}
    for name, pattern in _walk(get_resolver()):
        regex = pattern.pattern.regex.pattern
        if "(?P<" in regex:
            out[name] = pattern
    return out


def _patient_path(model: type[Model]) -> str | None:
    """The ORM path from ``model`` to Patient through forward foreign keys (breadth first, depth 3)."""
    if model is Patient:
        return "pk"
    queue: deque[tuple[type[Model], str, int]] = deque([(model, "", 0)])
    while queue:
        current, prefix, depth = queue.popleft()
        for field in current._meta.get_fields():
            if isinstance(field, ForeignKey | OneToOneField) and field.concrete:
                target = field.related_model
                path = f"{prefix}{field.name}"
                if target is Patient:
                    return path
                if depth < 2 and isinstance(target, type):
                    queue.append((target, path + "__", depth + 1))
    return None


@dataclass
class World:
    outsiders: dict[str, User]
    lead: Organization


@pytest.fixture
def world(db) -> World:  # type: ignore[no-untyped-def]
    seed_demo(patients=24)
    partner = Organization.objects.get(slug="st-brendan-regional")
    lakeshore = Organization.objects.get(slug="lakeshore-community")
    people = {
        "partner physician": User.objects.get(username="partnerdoc"),
        "researcher": User.objects.get(username="researcher"),
        "advocacy liaison": User.objects.get(username="advocate"),
        "patient": User.objects.get(username="patient"),
        "caregiver": User.objects.get(username="caregiver"),
    }
    for role in (Role.NAVIGATOR, Role.CLP, Role.PROGRAM_ADMIN, Role.NURSE, Role.SOCIAL_WORKER, Role.PARTNER_STAFF):
        org = partner if role != Role.NURSE else lakeshore
        user = User.objects.create_user(username=f"other-{role}", password="x", kind=UserKind.STAFF)
        Membership.objects.create(user=user, organization=org, role=role)
        people[f"{role} at {org.slug}"] = user
    lead = Organization.objects.get(slug="riverside-cancer-institute")
    _records_the_seed_lacks(lead)
    return World(people, lead)


def _records_the_seed_lacks(lead: Organization) -> None:
    """An import review and a thread about a second patient, so every route has a hidden record."""
    from oncoliaison.messaging.services import thread_start
    from oncoliaison.oncology.models import ImportReview

    ImportReview.objects.create(organization=lead, reason="Same name and birth date as a known patient",
                                source_system="urn:example:partner-ehr", source_id="Patient/123",
                                content_hash="0" * 64, given_name="Test", family_name="Person",
                                bundle={"resourceType": "Bundle", "type": "collection", "entry": []})
    from oncoliaison.core import clock
    from oncoliaison.patients.models import EmergencyAccess

    earlier = clock.now() - dt.timedelta(hours=3)  # an ended session: a record to hide, no access in force
    EmergencyAccess.objects.create(user=User.objects.get(username="admin"), patient=Patient.objects.filter(
        organization=lead).first(), organization=lead, role="program_admin", reason="HOPERAT",
        justification="Correction of the address requested by the patient", started_at=earlier,
        expires_at=earlier + dt.timedelta(minutes=60))
    navigator = User.objects.get(username="navigator")
    second = Patient.objects.filter(organization=lead, user__isnull=True).order_by("-pk").first()
    thread_start(actor=actor_for_user(navigator), kind="staff", subject="Transport for next cycle",
                 body="Can social work arrange transport?", patient=second,
                 participant_ids=[User.objects.get(username="socialworker").pk])


def _hidden_object(actor: Actor, label: str) -> Model | None:
    model = apps.get_model(label)
    if label in ORG_SCOPED:
        return model.objects.exclude(**{f"{ORG_SCOPED[label]}__in": actor.clinical_organization_ids}).first()
    path = _patient_path(model)
    assert path, f"{label}: no path to Patient — add it to ORG_SCOPED or NOT_PATIENT_DATA"
    visible = patient_queryset_for(actor).values("pk")
    return model.objects.exclude(**{f"{path}__in": visible}).filter(~Q(**{f"{path}__isnull": True})).first()


_VOLATILE = re.compile(
    r'(csrfmiddlewaretoken" value="|X-CSRFToken": "|nonce="|csrf_token": ")[^"]*"'
)


def _norm(body: bytes) -> str:
    return _VOLATILE.sub(r"\1…", body.decode(errors="replace"))


def _url(pattern: URLPattern, prefix: str, kwargs: dict[str, object]) -> str:
    from django.urls import reverse

    return reverse(prefix, kwargs=kwargs)


def test_every_route_with_an_id_is_in_the_matrix_or_explained():
    missing = sorted(set(_routes_with_ids()) - set(ROUTES) - set(NOT_PATIENT_DATA))
    assert not missing, f"Add these routes to ROUTES (patient data) or NOT_PATIENT_DATA (why not): {missing}"
    stale = sorted(set(ROUTES) - set(_routes_with_ids()))
    assert not stale, f"Routes no longer exist: {stale}"


def test_pages_and_json_api_hide_other_organisations_records(world):
    failures = []
    for who, user in world.outsiders.items():
        actor = actor_for_user(user)
        client = Client()
        client.force_login(user)
        for name, kwarg_models in ROUTES.items():
            hidden_kwargs: dict[str, object] = {}
            for kwarg, label in kwarg_models.items():
                obj = _hidden_object(actor, label)
                if obj is None:
                    failures.append(f"demo data has no {label} hidden from {who}; extend the seed")
                    break
                hidden_kwargs[kwarg] = obj.pk
            if len(hidden_kwargs) != len(kwarg_models):
                continue
            missing_kwargs: dict[str, object] = dict.fromkeys(kwarg_models, MISSING)
            if name in EXTRA_KWARGS:
                extra_kwargs = EXTRA_KWARGS[name]()
                hidden_kwargs |= extra_kwargs
                missing_kwargs |= extra_kwargs
            from django.urls import reverse

            hidden_url, missing_url = reverse(name, kwargs=hidden_kwargs), reverse(name, kwargs=missing_kwargs)
            methods = ("get", "post") if not name.startswith("api:") else ("get", "post", "put", "patch", "delete")
            for method in methods:
                call = getattr(client, method)
                extra = {"content_type": "application/json", "data": "{}"} if name.startswith("api:") and method != "get" else {}
                a, b = call(hidden_url, **extra), call(missing_url, **extra)
                if a.status_code != b.status_code or _norm(a.content) != _norm(b.content):
                    failures.append(f"{who}: {method.upper()} {name} hidden={a.status_code} missing={b.status_code}")
                elif a.status_code < 400:
                    failures.append(f"{who}: {method.upper()} {name} answered {a.status_code} for a hidden record")
    assert not failures, "\n".join(failures)


def test_fhir_read_and_search_hide_other_organisations(world):
    from oncoliaison.fhir import registry

    partner = Organization.objects.get(slug="st-brendan-regional")
    issued = api_client_create(organization=partner, scopes="system/*.cruds")
    token = token_issue(client_id=issued.client_id, client_secret=issued.client_secret).access_token
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    client = Client()
    system_actor = Actor(kind="system", client_id=issued.client_id, client_organization_id=partner.pk,
                         memberships=((partner.pk, "system", partner.kind),))
    checked = 0
    failures = []
    # Every part of a type several domains serve (ServiceRequest: referrals and board recommendations), by the
    # part's own ids.
    for part in (p for mapper in registry.mappers() for p in mapper.parts()):
        if not part.patient_linked:
            continue
        obj = _hidden_object(system_actor, part.model._meta.label)
        if obj is None:
            continue
        checked += 1
        rtype, hidden_id = part.resource_type, part.fhir_id(obj)
        missing_id = f"{part.id_prefix}-{MISSING}" if part.id_prefix else str(MISSING)
        a = client.get(f"/fhir/{rtype}/{hidden_id}", **auth)
        b = client.get(f"/fhir/{rtype}/{missing_id}", **auth)
        if (a.status_code, a.content) != (b.status_code, b.content) or a.status_code != 404:
            failures.append(f"read {rtype}/{hidden_id}: hidden={a.status_code} missing={b.status_code}")
        s = client.get(f"/fhir/{rtype}?_id={hidden_id}", **auth)
        if s.status_code != 200 or s.json().get("total") != 0 or s.json().get("entry"):
            failures.append(f"search {rtype}?_id=hidden: {s.status_code} total={s.json().get('total')}")
        u = client.put(f"/fhir/{rtype}/{hidden_id}", data=a.content, content_type="application/fhir+json", **auth)
        v = client.put(f"/fhir/{rtype}/{missing_id}", data=a.content, content_type="application/fhir+json", **auth)
        if u.status_code != v.status_code or u.content != v.content:
            failures.append(f"update {rtype}: hidden={u.status_code} missing={v.status_code}")
    assert checked >= 3, "the matrix must exercise the patient-linked FHIR resources"
    hidden_patient = _hidden_object(system_actor, "patients.Patient")
    assert hidden_patient is not None
    a = client.get(f"/fhir/Patient/{hidden_patient.pk}/$everything", **auth)
    b = client.get(f"/fhir/Patient/{MISSING}/$everything", **auth)
    if (a.status_code, a.content) != (b.status_code, b.content) or a.status_code != 404:
        failures.append(f"$everything: hidden={a.status_code} missing={b.status_code}")
    assert not failures, "\n".join(failures)
    # Search totals never count what the client may not see.
    lead_patient = Patient.objects.filter(organization__slug="riverside-cancer-institute").first()
    assert lead_patient is not None
    r = client.get(f"/fhir/Patient?family={lead_patient.family_name}", **auth)
    visible_same_name = patient_queryset_for(system_actor).filter(family_name=lead_patient.family_name).count()
    assert r.json()["total"] == visible_same_name


# --- research and advocacy organisations: no identified data through consent ---------------------------

# Every state a patient's consent naming the organisation can be in (status, period and kind), and none.
def _consent_states() -> list[tuple[str, dict[str, object] | None]]:
    from oncoliaison.core import clock
    from oncoliaison.patients.models import ConsentKind, ConsentStatus

    today = clock.today()
    states: list[tuple[str, dict[str, object] | None]] = [("no consent", None)]
    for kind in (ConsentKind.DATA_SHARING, ConsentKind.RESEARCH, ConsentKind.TREATMENT):
        for status in ConsentStatus.values:
            states.append((f"{kind} {status}", {"kind": kind, "status": status}))
        states.append((f"{kind} active, ended yesterday", {"kind": kind, "status": ConsentStatus.ACTIVE,
                                                            "period_end": today - dt.timedelta(days=1)}))
        states.append((f"{kind} active, starts tomorrow", {"kind": kind, "status": ConsentStatus.ACTIVE,
                                                            "period_start": today + dt.timedelta(days=1)}))
        states.append((f"{kind} active, open period", {"kind": kind, "status": ConsentStatus.ACTIVE,
                                                        "period_start": today - dt.timedelta(days=30)}))
    return states


@pytest.mark.parametrize("slug", ["northfield-research", "hope-together"])
def test_research_and_advocacy_organisations_get_no_identified_patient_data_under_any_consent(world, slug):
    """A consent may name any organisation; only organisations that treat the patient get identified data
    from it.  Research and advocacy organisations' systems and people see the same as for a patient who
    does not exist, whatever the consent's state."""
    from oncoliaison.patients.models import Consent

    org = Organization.objects.get(slug=slug)
    person = User.objects.get(username="researcher" if org.kind == "research" else "advocate")
    issued = api_client_create(organization=org, scopes="system/*.cruds")
    token = token_issue(client_id=issued.client_id, client_secret=issued.client_secret).access_token
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    system = Client()
    browser = Client()
    browser.force_login(person)
    patient = Patient.objects.filter(organization=world.lead).order_by("pk").first()
    assert patient is not None
    failures = []
    for label, values in _consent_states():
        Consent.objects.filter(patient=patient, grantee_organization=org).delete()
        if values is not None:
            Consent.objects.create(patient=patient, grantee_organization=org, organization=world.lead, **values)
        pairs = {
            "FHIR read": (f"/fhir/Patient/{patient.pk}", f"/fhir/Patient/{MISSING}", system, auth),
            "FHIR $everything": (f"/fhir/Patient/{patient.pk}/$everything", f"/fhir/Patient/{MISSING}/$everything",
                                 system, auth),
            "JSON API read": (f"/api/patients/{patient.pk}", f"/api/patients/{MISSING}", system, auth),
            "page": (f"/patients/{patient.pk}/", f"/patients/{MISSING}/", browser, {}),
        }
        for door, (hidden_url, missing_url, client, extra) in pairs.items():
            a, b = client.get(hidden_url, **extra), client.get(missing_url, **extra)
            if a.status_code < 400 or (a.status_code, _norm(a.content)) != (b.status_code, _norm(b.content)):
                failures.append(f"{slug} {label}: {door} answered {a.status_code} (missing: {b.status_code})")
        for search in (f"/fhir/Patient?_id={patient.pk}", f"/fhir/Observation?patient={patient.pk}",
                       f"/fhir/Consent?patient={patient.pk}"):
            r = system.get(search, **auth)
            if r.status_code == 200 and (r.json().get("total") or r.json().get("entry")):
                failures.append(f"{slug} {label}: {search} found {r.json().get('total')}")
    assert not failures, "\n".join(failures)


# --- minimum necessary: the program administrator manages the program, not patients ------------------------


def test_program_administrator_sees_no_clinical_content_of_their_own_program(world):
    """Patients, alerts and secure messages of the administrator's own organisation answer like missing
    records; the administrator cannot resolve an alert or leave a read receipt."""
    from oncoliaison.messaging.models import Thread
    from oncoliaison.monitoring.models import Alert

    admin = User.objects.get(username="admin")
    client = Client()
    client.force_login(admin)
    patient = Patient.objects.filter(organization=world.lead).first()
    alert = Alert.objects.filter(patient__organization=world.lead).first()
    thread = Thread.objects.filter(patient__organization=world.lead, kind="patient").first()
    assert patient and alert and thread, "the demo seeds a patient, an alert and a patient thread"
    pairs = [
        (f"/patients/{patient.pk}/", f"/patients/{MISSING}/", "get"),
        (f"/api/patients/{patient.pk}", f"/api/patients/{MISSING}", "get"),
        (f"/api/symptom-alerts/{alert.pk}", f"/api/symptom-alerts/{MISSING}", "get"),
        (f"/messages/{thread.pk}/", f"/messages/{MISSING}/", "get"),
        (f"/api/messages/threads/{thread.pk}", f"/api/messages/threads/{MISSING}", "get"),
    ]
    failures = []
    for hidden, missing, method in pairs:
        a, b = getattr(client, method)(hidden), getattr(client, method)(missing)
        if a.status_code < 400 or a.status_code != b.status_code:
            failures.append(f"{hidden}: {a.status_code} (missing: {b.status_code})")
    from django.urls import reverse

    resolve = client.post(reverse("monitoring:alert_resolve", kwargs={"alert_id": alert.pk}),
                          {"resolution": "Called the patient", "version": alert.version})
    if resolve.status_code < 400:
        failures.append(f"resolve alert answered {resolve.status_code}")
    assert not failures, "\n".join(failures)
    assert not patient_queryset_for(actor_for_user(admin)).exists()
    from oncoliaison.messaging.models import ThreadParticipant

    assert not ThreadParticipant.objects.filter(user=admin, last_read_message__isnull=False).exists()
