"""Referral services: creation, every triage transition, refusals without change, duplicates, audit."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from oncoliaison.core import clock
from oncoliaison.core.errors import Conflict, Forbidden, NotFound, PreconditionFailed, ValidationFailed
from oncoliaison.core.models import AuditEvent
from oncoliaison.patients.models import Consent, ConsentKind, Patient, PatientIdentifier
from oncoliaison.referrals import services
from oncoliaison.referrals.models import (
    Referral,
    ReferralAttachment,
    ReferralKind,
    ReferralStatus,
    ReferralStatusChange,
)
from oncoliaison.referrals.selectors import duplicate_candidates, referral_get_for, triage_queue_for
from oncoliaison.referrals.services import AttachmentData, ReferralData

from .factories import provider_referral

pytestmark = pytest.mark.django_db


def _snapshot(referral: Referral) -> tuple:
    r = Referral.objects.get(pk=referral.pk)
    return (r.status, r.version, r.patient_id, r.accepted_at, r.declined_at, r.first_contact_at,
            r.history.count())


# --- creation ---------------------------------------------------------------------------------------


def test_partner_clinician_refers_a_new_person_to_the_lead_program(cast):
    before = AuditEvent.objects.count()
    data = ReferralData(
        reason="Suspicious lung mass", urgency="emergent", given_name="Ivan", family_name="Petrov",
        birth_date=dt.date(1950, 1, 1), requested_services=["navigation", "tumor_board"],
        cancer_type_text="Lung cancer", cancer_type_system="http://snomed.info/sct", cancer_type_code="254637007",
        stage_text="unknown",
        attachments=[AttachmentData("CT report", "application/pdf", 120_000, dt.date(2026, 1, 2), "Chest CT")],
    )
    r = services.referral_create(actor=cast.actor(cast.outsider), data=data)
    assert r.kind == ReferralKind.PROVIDER and r.status == ReferralStatus.RECEIVED
    assert r.receiving_organization == cast.lead and r.referring_organization == cast.partner
    assert r.referring_clinician == cast.outsider and r.patient is None
    assert r.received_at is not None and r.requested_services == ["navigation", "tumor_board"]
    assert ReferralAttachment.objects.get(referral=r).size_bytes == 120_000
    h = r.history.get()
    assert (h.from_status, h.to_status, h.by_user) == ("", "received", cast.outsider)
    ev = AuditEvent.objects.order_by("seq").last()
    assert AuditEvent.objects.count() == before + 1
    assert (ev.action, ev.resource_type, ev.resource_id, ev.user_id) == ("create", "ServiceRequest", str(r.pk),
                                                                        cast.outsider.pk)


def test_referring_own_visible_patient_links_it_and_copies_the_details(cast):
    r = services.referral_create(actor=cast.actor(cast.oncologist),
                                 data=ReferralData(reason="CLP review", patient_id=cast.pat.pk))
    assert r.patient == cast.pat
    assert (r.family_name, r.birth_date, r.identifier_value) == ("Patient", cast.pat.birth_date, "L-1001")
    assert AuditEvent.objects.filter(action="create", patient_id=cast.pat.pk, resource_type="ServiceRequest").exists()


def test_partner_patient_not_shared_with_the_lead_is_referred_by_details_only(cast):
    r = services.referral_create(actor=cast.actor(cast.outsider),
                                 data=ReferralData(reason="Second opinion", patient_id=cast.other_patient.pk))
    assert r.patient is None
    assert (r.given_name, r.family_name, r.identifier_value) == ("Otto", "Other", "P-2001")


def test_partner_patient_shared_by_consent_is_linked(cast):
    Consent.objects.create(patient=cast.other_patient, kind=ConsentKind.DATA_SHARING,
                           grantee_organization=cast.lead, organization=cast.partner)
    r = services.referral_create(actor=cast.actor(cast.outsider),
                                 data=ReferralData(reason="Second opinion", patient_id=cast.other_patient.pk))
    assert r.patient == cast.other_patient


def test_cannot_refer_a_patient_one_cannot_see(cast):
    with pytest.raises(NotFound):
        services.referral_create(actor=cast.actor(cast.outsider),
                                 data=ReferralData(reason="x", patient_id=cast.pat.pk))
    assert not Referral.objects.exists()


@pytest.mark.parametrize("who", ["researcher", "patient_user", "caregiver"])
def test_referring_needs_a_clinical_role(cast, who):
    with pytest.raises(Forbidden):
        provider_referral(cast, by=getattr(cast, who))
    assert not Referral.objects.exists()


def test_invalid_referral_lists_every_problem_and_writes_nothing(cast):
    before = AuditEvent.objects.count()
    bad = ReferralData(reason=" ", urgency="whenever", given_name="", family_name="",
                       birth_date=clock.today() + dt.timedelta(days=1), requested_services=["massage"],
                       email="not-an-email", identifier_system="urn:x",
                       attachments=[AttachmentData(name="", size_bytes=-1)])
    with pytest.raises(ValidationFailed) as exc:
        services.referral_create(actor=cast.actor(cast.outsider), data=bad)
    assert {"reason", "urgency", "given_name", "family_name", "birth_date", "requested_services", "email",
            "identifier", "attachments"} <= set(exc.value.field_errors)
    assert not Referral.objects.exists() and AuditEvent.objects.count() == before


def test_referral_must_go_to_a_lead_program(cast):
    with pytest.raises(ValidationFailed) as exc:
        provider_referral(cast, receiving_organization_id=cast.partner.pk)
    assert "receiving_organization" in exc.value.field_errors


def test_external_identifier_is_received_once(cast):
    provider_referral(cast, external_identifier_system="urn:ehr", external_identifier_value="SR-1")
    with pytest.raises(Conflict):
        provider_referral(cast, external_identifier_system="urn:ehr", external_identifier_value="SR-1")
    assert Referral.objects.count() == 1


# --- triage transitions --------------------------------------------------------------------------------


def test_request_info_then_info_received(cast):
    r = provider_referral(cast)
    nav = cast.actor(cast.navigator)
    r = services.referral_request_info(actor=nav, referral=r, message="Please send the pathology report.")
    assert r.status == ReferralStatus.INFO_REQUESTED and r.info_request_message.startswith("Please send")
    r = services.referral_info_received(actor=nav, referral=r, note="Pathology received by fax")
    assert r.status == ReferralStatus.RECEIVED
    events = list(r.history.values_list("from_status", "to_status", "event"))
    assert events[1:] == [("received", "info_requested", "info_requested"),
                          ("info_requested", "received", "info_received")]
    assert AuditEvent.objects.filter(resource_type="ServiceRequest", action="update").count() == 2


def test_request_info_needs_a_message(cast):
    r = provider_referral(cast)
    snap = _snapshot(r)
    with pytest.raises(ValidationFailed):
        services.referral_request_info(actor=cast.actor(cast.navigator), referral=r, message="  ")
    assert _snapshot(r) == snap


def test_decline_writes_the_letter_to_the_referrer(cast):
    r = provider_referral(cast)
    r = services.referral_decline(actor=cast.actor(cast.navigator), referral=r, reason="out_of_scope",
                                  message="Please refer to the sarcoma centre.")
    assert r.status == ReferralStatus.DECLINED and r.declined_at and r.closed_at
    assert r.decline_message.startswith("Dear Olga Outsider,")
    assert "Nora Quinn" in r.decline_message and "sarcoma centre" in r.decline_message
    assert r.history.last().to_status == "declined"


def test_decline_needs_a_reason_and_explains_other(cast):
    r = provider_referral(cast)
    snap = _snapshot(r)
    nav = cast.actor(cast.navigator)
    with pytest.raises(ValidationFailed):
        services.referral_decline(actor=nav, referral=r, reason="")
    with pytest.raises(ValidationFailed):
        services.referral_decline(actor=nav, referral=r, reason="other", message="")
    assert _snapshot(r) == snap


def test_withdraw_by_the_referring_clinician(cast):
    r = provider_referral(cast)
    r = services.referral_withdraw(actor=cast.actor(cast.outsider), referral=r, note="Patient moved away")
    assert r.status == ReferralStatus.WITHDRAWN and r.closed_at


def test_triage_is_refused_to_the_referrer_and_to_other_roles(cast):
    r = provider_referral(cast)
    snap = _snapshot(r)
    for user in (cast.outsider, cast.researcher):
        with pytest.raises(Forbidden):
            services.referral_request_info(actor=cast.actor(user), referral=r, message="x")
        with pytest.raises(Forbidden):
            services.referral_accept(actor=cast.actor(user), referral=r, register_new=True)
    with pytest.raises(Forbidden):
        services.referral_withdraw(actor=cast.actor(cast.researcher), referral=r)
    assert _snapshot(r) == snap


@pytest.mark.parametrize("closing", ["decline", "withdraw"])
def test_closed_referrals_refuse_every_transition_without_change(cast, closing):
    r = provider_referral(cast)
    nav = cast.actor(cast.navigator)
    if closing == "decline":
        r = services.referral_decline(actor=nav, referral=r, reason="not_eligible")
    else:
        r = services.referral_withdraw(actor=nav, referral=r)
    snap = _snapshot(r)
    attempts = [
        lambda: services.referral_request_info(actor=nav, referral=r, message="x"),
        lambda: services.referral_info_received(actor=nav, referral=r),
        lambda: services.referral_decline(actor=nav, referral=r, reason="not_eligible"),
        lambda: services.referral_withdraw(actor=nav, referral=r),
        lambda: services.referral_accept(actor=nav, referral=r, register_new=True),
        lambda: services.referral_record_contact(actor=nav, referral=r),
        lambda: services.referral_set_first_appointment(actor=nav, referral=r, at=clock.now()),
    ]
    for attempt in attempts:
        with pytest.raises(Conflict) as exc:
            attempt()
        assert exc.value.message
    assert _snapshot(r) == snap


def test_info_received_only_after_a_request(cast):
    r = provider_referral(cast)
    snap = _snapshot(r)
    with pytest.raises(Conflict) as exc:
        services.referral_info_received(actor=cast.actor(cast.navigator), referral=r)
    assert "cannot become received" in exc.value.message
    assert _snapshot(r) == snap


def test_stale_version_is_refused(cast):
    r = provider_referral(cast)
    with pytest.raises(PreconditionFailed):
        services.referral_request_info(actor=cast.actor(cast.navigator), referral=r, message="x",
                                       expected_version=r.version + 1)
    assert Referral.objects.get(pk=r.pk).status == ReferralStatus.RECEIVED


# --- acceptance and duplicates ---------------------------------------------------------------------------


def test_accept_registers_a_new_patient_from_the_referral(cast):
    r = provider_referral(cast, identifier_system="urn:oid:partner-ehr", identifier_value="Z-9")
    r = services.referral_accept(actor=cast.actor(cast.navigator), referral=r, register_new=True)
    assert r.status == ReferralStatus.ACCEPTED and r.accepted_at and r.patient is not None
    p = r.patient
    assert (p.given_name, p.family_name, p.birth_date, p.organization) == ("Nora", "Quinn", dt.date(1970, 2, 3),
                                                                          cast.lead)
    assert p.identifiers.get().value == "Z-9"
    assert AuditEvent.objects.filter(action="create", resource_type="Patient", patient_id=p.pk).exists()
    assert AuditEvent.objects.filter(action="update", resource_type="ServiceRequest", patient_id=p.pk).exists()


def test_accept_does_not_copy_an_identifier_held_by_another_record(cast):
    r = services.referral_create(actor=cast.actor(cast.outsider),
                                 data=ReferralData(reason="Second opinion", patient_id=cast.other_patient.pk))
    r = services.referral_accept(actor=cast.actor(cast.navigator), referral=r, register_new=True)
    assert r.patient != cast.other_patient and not r.patient.identifiers.exists()
    assert PatientIdentifier.objects.filter(value="P-2001").count() == 1


def test_duplicates_are_found_on_name_birth_date_and_identifier(cast):
    r = provider_referral(cast, given_name="PAT", family_name="patient", birth_date=cast.pat.birth_date)
    found = duplicate_candidates(cast.actor(cast.navigator), r)
    assert [c.patient for c in found] == [cast.pat] and found[0].reasons == ["Same name and date of birth"]
    r2 = provider_referral(cast, given_name="Someone", family_name="Else", birth_date=dt.date(1999, 9, 9),
                           identifier_system=cast.lead.mrn_system, identifier_value="L-1001")
    assert duplicate_candidates(cast.actor(cast.navigator), r2)[0].reasons == ["Same identifier"]
    assert AuditEvent.objects.filter(action="search", patient_id=cast.pat.pk).count() == 2


def test_duplicates_are_only_searched_among_patients_the_navigator_may_see(cast):
    other = cast.other_patient
    r = provider_referral(cast, given_name=other.given_name, family_name=other.family_name,
                          birth_date=other.birth_date)
    assert duplicate_candidates(cast.actor(cast.navigator), r) == []


def test_register_new_is_refused_while_duplicates_are_unreviewed(cast):
    r = provider_referral(cast, given_name="Pat", family_name="Patient", birth_date=cast.pat.birth_date)
    snap, patients = _snapshot(r), Patient.objects.count()
    with pytest.raises(services.DuplicatesFound) as exc:
        services.referral_accept(actor=cast.actor(cast.navigator), referral=r, register_new=True)
    assert exc.value.candidate_ids == [cast.pat.pk]
    assert _snapshot(r) == snap and Patient.objects.count() == patients
    r = services.referral_accept(actor=cast.actor(cast.navigator), referral=r, register_new=True,
                                 duplicates_reviewed=True)
    assert r.patient != cast.pat and Patient.objects.count() == patients + 1


def test_accept_links_to_an_existing_patient(cast):
    r = provider_referral(cast, given_name="Pat", family_name="Patient", birth_date=cast.pat.birth_date)
    r = services.referral_accept(actor=cast.actor(cast.navigator), referral=r, link_patient_id=cast.pat.pk)
    assert r.patient == cast.pat and r.history.last().note == "Linked to existing patient"


def test_accept_cannot_link_a_patient_the_navigator_cannot_see(cast):
    r = provider_referral(cast)
    snap = _snapshot(r)
    with pytest.raises(NotFound):
        services.referral_accept(actor=cast.actor(cast.navigator), referral=r,
                                 link_patient_id=cast.other_patient.pk)
    assert _snapshot(r) == snap


def test_accept_needs_exactly_one_choice(cast):
    r = provider_referral(cast)
    snap = _snapshot(r)
    nav = cast.actor(cast.navigator)
    with pytest.raises(ValidationFailed):
        services.referral_accept(actor=nav, referral=r)
    with pytest.raises(ValidationFailed):
        services.referral_accept(actor=nav, referral=r, link_patient_id=cast.pat.pk, register_new=True)
    assert _snapshot(r) == snap


def test_accept_keeps_an_already_linked_patient(cast):
    r = services.referral_create(actor=cast.actor(cast.oncologist),
                                 data=ReferralData(reason="CLP review", patient_id=cast.pat.pk))
    r = services.referral_accept(actor=cast.actor(cast.navigator), referral=r)
    assert r.patient == cast.pat and r.status == ReferralStatus.ACCEPTED


# --- milestones ----------------------------------------------------------------------------------------------


def test_first_contact_and_first_appointment(cast):
    r = provider_referral(cast)
    nav = cast.actor(cast.navigator)
    contact = clock.now()
    r = services.referral_record_contact(actor=nav, referral=r, at=contact, note="Phoned; booked intake")
    assert r.first_contact_at == contact
    later = contact + dt.timedelta(minutes=1)
    with pytest.raises(Conflict):
        services.referral_set_first_appointment(actor=nav, referral=r, at=later)
    r = services.referral_record_contact(actor=nav, referral=r)  # a second contact keeps the first time
    assert Referral.objects.get(pk=r.pk).first_contact_at == contact
    r = services.referral_accept(actor=nav, referral=r, register_new=True)
    appt = timezone.now() + dt.timedelta(days=7)
    r = services.referral_set_first_appointment(actor=nav, referral=r, at=appt)
    assert r.first_appointment_at == appt
    assert [h.event for h in r.history.all()] == ["received", "first_contact", "contact", "accepted",
                                                  "first_appointment"]


def test_contact_cannot_precede_the_referral_or_be_in_the_future(cast):
    r = provider_referral(cast)
    nav = cast.actor(cast.navigator)
    snap = _snapshot(r)
    with pytest.raises(ValidationFailed):
        services.referral_record_contact(actor=nav, referral=r, at=r.received_at - dt.timedelta(days=1))
    with pytest.raises(ValidationFailed):
        services.referral_record_contact(actor=nav, referral=r, at=clock.now() + dt.timedelta(days=1))
    assert _snapshot(r) == snap


# --- selectors ----------------------------------------------------------------------------------------------


def test_visibility_receiving_staff_and_referrer_only(cast):
    r = provider_referral(cast)
    assert referral_get_for(cast.actor(cast.navigator), r.pk) == r
    assert referral_get_for(cast.actor(cast.outsider), r.pk) == r  # the referrer
    for user in (cast.researcher, cast.patient_user, cast.caregiver):
        with pytest.raises(NotFound):
            referral_get_for(cast.actor(user), r.pk)
    lead_own = services.referral_create(actor=cast.actor(cast.oncologist),
                                        data=ReferralData(reason="x", patient_id=cast.pat.pk))
    with pytest.raises(NotFound):
        referral_get_for(cast.actor(cast.outsider), lead_own.pk)
    with pytest.raises(NotFound):
        referral_get_for(cast.actor(cast.navigator), 999999)
    assert AuditEvent.objects.filter(action="access_denied", resource_type="ServiceRequest").count() == 5


def test_queue_is_sorted_by_urgency_then_age_and_excludes_closed(cast, monkeypatch):
    base = timezone.now() - dt.timedelta(days=5)
    made = {}
    for i, (name, urgency) in enumerate([("routine-old", "routine"), ("urgent-new", "urgent"),
                                         ("emergent", "emergent"), ("closed", "emergent")]):
        monkeypatch.setattr(clock, "now", lambda i=i: base + dt.timedelta(hours=i))
        made[name] = provider_referral(cast, urgency=urgency, family_name=f"Q{i}")
    monkeypatch.undo()
    services.referral_withdraw(actor=cast.actor(cast.outsider), referral=made["closed"])
    queue = triage_queue_for(cast.actor(cast.navigator))
    assert [r.pk for r in queue] == [made["emergent"].pk, made["urgent-new"].pk, made["routine-old"].pk]
    assert triage_queue_for(cast.actor(cast.outsider)) == []  # hides other organisations
    with pytest.raises(Forbidden):
        triage_queue_for(cast.actor(cast.researcher))


def test_history_rows_name_who_and_when(cast):
    r = provider_referral(cast)
    services.referral_request_info(actor=cast.actor(cast.navigator), referral=r, message="Need imaging")
    rows = list(ReferralStatusChange.objects.filter(referral=r))
    assert [(h.by_user_id, h.from_status, h.to_status) for h in rows] == [
        (cast.outsider.pk, "", "received"), (cast.navigator.pk, "received", "info_requested")]
    assert all(h.at for h in rows)


# --- audit --------------------------------------------------------------------------------------------------


def test_every_write_is_audited_once_with_its_detail(cast):
    nav = cast.actor(cast.navigator)
    r = provider_referral(cast)

    def last_detail() -> str:
        ev = AuditEvent.objects.filter(resource_type="ServiceRequest", resource_id=str(r.pk)).order_by("seq").last()
        assert ev.user_id == cast.navigator.pk and ev.action == "update"
        return ev.detail

    steps = [
        (lambda: services.referral_request_info(actor=nav, referral=r, message="x"), "more information requested"),
        (lambda: services.referral_info_received(actor=nav, referral=r), "requested information received"),
        (lambda: services.referral_record_contact(actor=nav, referral=r), "first contact recorded"),
        (lambda: services.referral_accept(actor=nav, referral=r, register_new=True),
         "accepted: new patient registered"),
        (lambda: services.referral_set_first_appointment(actor=nav, referral=r,
                                                         at=timezone.now() + dt.timedelta(days=3)),
         "first appointment recorded"),
    ]
    for run, detail in steps:
        before = AuditEvent.objects.filter(resource_type="ServiceRequest").count()
        run()
        assert AuditEvent.objects.filter(resource_type="ServiceRequest").count() == before + 1
        assert last_detail() == detail


def test_a_failing_audit_rolls_the_change_back(cast, monkeypatch):
    from oncoliaison.core import audit

    r = provider_referral(cast)
    snap = _snapshot(r)

    def broken(*args, **kwargs):
        raise RuntimeError("audit store unavailable")

    monkeypatch.setattr(audit, "log", broken)
    with pytest.raises(RuntimeError):
        services.referral_decline(actor=cast.actor(cast.navigator), referral=r, reason="not_eligible")
    assert _snapshot(r) == snap


def test_self_referral_decline_letter_is_addressed_to_the_person(cast):
    from oncoliaison.referrals.selfreferral import SelfReferralData, self_referral_submit

    self_referral_submit(data=SelfReferralData(
        given_name="Lena", family_name="Marsh", birth_date=dt.date(1972, 3, 9), concern="Please help me with this.",
        referral_source="web_search", phone="555-0188", consent_to_contact=True), source_address="192.0.2.9")
    r = Referral.objects.get(kind=ReferralKind.SELF)
    r = services.referral_decline(actor=cast.actor(cast.navigator), referral=r, reason="unable_to_contact")
    assert r.decline_message.startswith("Dear Lena Marsh,") and "your request of" in r.decline_message


def test_urgent_referrals_notify_the_programs_navigators_without_patient_details(cast, mailoutbox,
                                                                                  django_capture_on_commit_callbacks):
    cast.navigator.email = "grace@lead.example.org"
    cast.navigator.save()
    cast.outsider.email = "olga@partner.example.org"
    cast.outsider.save()
    with django_capture_on_commit_callbacks(execute=True):
        provider_referral(cast, urgency="routine")
    assert mailoutbox == []
    with django_capture_on_commit_callbacks(execute=True):
        provider_referral(cast, urgency="emergent")
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["grace@lead.example.org"] and "emergent" in mail.subject
    assert "Quinn" not in mail.body and "Nora" not in mail.body and "/referrals/" in mail.body


def test_notification_task_skips_closed_referrals(cast, mailoutbox):
    from oncoliaison.referrals.tasks import notify_navigators_of_referral

    cast.navigator.email = "grace@lead.example.org"
    cast.navigator.save()
    r = provider_referral(cast, urgency="urgent")
    assert notify_navigators_of_referral.call(r.pk) == 1
    services.referral_withdraw(actor=cast.actor(cast.outsider), referral=r)
    assert notify_navigators_of_referral.call(r.pk) == 0
    assert notify_navigators_of_referral.call(999999) == 0


# --- what the referral said reaches the patient's record ----------------------------------------------------


def test_accepting_carries_the_cancer_type_stage_and_gender_to_the_new_patient(cast):
    from oncoliaison.oncology.models import CancerCondition
    from oncoliaison.oncology.selectors import cancer_record_for

    r = provider_referral(cast, gender="female", cancer_type_text="Lung cancer", cancer_type_code="254637007",
                          cancer_type_system="http://snomed.info/sct", stage_text="IIIA")
    r = services.referral_accept(actor=cast.actor(cast.navigator), referral=r, register_new=True)
    assert r.patient.gender == "female"
    condition = CancerCondition.objects.get(patient=r.patient)
    assert (condition.code, condition.display, condition.stage_group) == (
        "254637007", "Non-small cell lung cancer", "IIIA")
    assert condition.verification_status == "unconfirmed"  # the referrer's word until the program confirms it
    assert (condition.source_system, condition.source_id) == ("urn:oncoliaison:referral", f"ServiceRequest/{r.pk}")
    record = cancer_record_for(cast.actor(cast.navigator), r.patient.pk)
    assert [c.pk for c in record.cancers] == [condition.pk]
    assert not any("No stage" in issue for issue in record.open_issues)
    assert AuditEvent.objects.filter(action="create", resource_type="Condition", patient_id=r.patient.pk).exists()


def test_an_uncoded_cancer_type_stays_text_and_an_unknown_stage_is_not_invented(cast):
    from oncoliaison.oncology.models import CancerCondition

    r = services.referral_create(actor=cast.actor(cast.outsider), data=ReferralData(
        reason="Work-up", given_name="Ada", family_name="Byrne", birth_date=dt.date(1961, 5, 6),
        cancer_type_text="Pancreatic cancer", stage_text="unknown"))
    r = services.referral_accept(actor=cast.actor(cast.navigator), referral=r, register_new=True,
                                 gender="female")
    condition = CancerCondition.objects.get(patient=r.patient)
    assert (condition.code, condition.display, condition.stage_group) == ("", "Pancreatic cancer", "")
    assert r.patient.gender == "female"


def test_linking_a_patient_who_already_has_the_diagnosis_adds_no_duplicate(cast):
    from oncoliaison.oncology.models import CancerCondition

    CancerCondition.objects.create(patient=cast.pat, code="254637007", display="Non-small cell lung cancer")
    r = provider_referral(cast, cancer_type_text="Lung cancer", cancer_type_code="254637007",
                          cancer_type_system="http://snomed.info/sct")
    services.referral_accept(actor=cast.actor(cast.navigator), referral=r, link_patient_id=cast.pat.pk)
    assert CancerCondition.objects.filter(patient=cast.pat).count() == 1


def test_accepting_records_the_first_contact_when_none_was(cast):
    r = provider_referral(cast)
    at = r.received_at + dt.timedelta(seconds=1)
    r = services.referral_accept(actor=cast.actor(cast.navigator), referral=r, register_new=True,
                                 first_contact_at=at)
    assert r.first_contact_at == at
    assert r.history.filter(event="first_contact").exists()
    before = provider_referral(cast, given_name="Lia", family_name="Moss")
    with pytest.raises(ValidationFailed):
        services.referral_accept(actor=cast.actor(cast.navigator), referral=before, register_new=True,
                                 first_contact_at=before.received_at - dt.timedelta(days=1))
    assert Referral.objects.get(pk=before.pk).status == ReferralStatus.RECEIVED
