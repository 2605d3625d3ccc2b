"""Every write to referrals.  One transaction each, a history row and an audit row inside it.

Triage (accept, decline, ask for information, record contact and the first appointment) is for
clinical staff of the receiving program.  The referring clinician may withdraw their own referral.
The public self-referral has no actor but an address; it answers the same whatever happens.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from oncoliaison.core import audit, clock
from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import Conflict, Forbidden, PreconditionFailed, ValidationFailed
from oncoliaison.core.models import AuditAction
from oncoliaison.oncology.entry import record_from_referral
from oncoliaison.organisations.models import Membership, Organization, OrganizationKind
from oncoliaison.patients.models import AdministrativeGender, ConsentKind, Patient, PatientIdentifier
from oncoliaison.patients.selectors import access_patient, active_consents
from oncoliaison.patients.services import IdentifierData, PatientData, patient_create

from . import rules
from .models import (
    DeclineReason,
    Referral,
    ReferralAttachment,
    ReferralKind,
    ReferralSource,
    ReferralStatus,
    ReferralStatusChange,
    RequestedService,
    Urgency,
)

CATEGORY = "referral"
RESOURCE = "ServiceRequest"
MAX_ATTACHMENTS = 20
_LANG = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
# Letters (any script), spaces, apostrophes, hyphens and full stops: no digits, no links, no markup.
PERSON_NAME = re.compile(r"^[^\W\d_]+(?:[ '\u2019.\-][^\W\d_]+)*\.?$")
PHONE = re.compile(r"^\+?[0-9 ().\-]{7,25}$")


# --- input shapes ------------------------------------------------------------------------------------


@dataclass
class AttachmentData:
    name: str
    content_type: str = ""
    size_bytes: int | None = None
    document_date: dt.date | None = None
    description: str = ""


@dataclass
class ReferralData:
    """A provider referral (pages and FHIR ServiceRequest).  Name either ``patient_id`` (a patient the
    referrer may see) or the prospective patient's details."""

    reason: str
    urgency: str = Urgency.ROUTINE
    receiving_organization_id: int | None = None
    referring_organization_id: int | None = None
    referring_clinician_id: int | None = None  # systems only; a signed-in clinician refers as themselves
    referring_clinician_name: str = ""
    patient_id: int | None = None
    given_name: str = ""
    family_name: str = ""
    birth_date: dt.date | None = None
    gender: str = ""
    phone: str = ""
    email: str = ""
    preferred_language: str = "en"
    identifier_system: str = ""
    identifier_value: str = ""
    cancer_type_text: str = ""
    cancer_type_system: str = ""
    cancer_type_code: str = ""
    stage_text: str = ""
    requested_services: list[str] = field(default_factory=list)
    attachments: list[AttachmentData] = field(default_factory=list)
    external_identifier_system: str = ""
    external_identifier_value: str = ""


class DuplicatesFound(Conflict):
    """Registering a new patient was asked for while possible duplicates exist and were not reviewed."""

    def __init__(self, candidate_ids: list[int]) -> None:
        super().__init__(
            "Possible existing records of this person were found. Link the referral to one of them, "
            "or confirm that this is a different person and register a new patient."
        )
        self.candidate_ids = candidate_ids


# --- helpers -----------------------------------------------------------------------------------------


def field_error(errors: dict[str, list[str]], name: str, message: str) -> None:
    errors.setdefault(name, []).append(message)


def validate_birth_date(errors: dict[str, list[str]], birth_date: dt.date | None, name: str = "birth_date") -> None:
    today = clock.today()
    if birth_date is None:
        field_error(errors, name, _("Enter the date of birth."))
    elif birth_date > today:
        field_error(errors, name, _("The date of birth cannot be in the future."))
    elif birth_date < today.replace(year=today.year - 120):
        field_error(errors, name, _("Check the date of birth: it is more than 120 years ago."))


def history_add(referral: Referral, actor: Actor, from_status: str, to_status: str, event: str, note: str = "",
             at: dt.datetime | None = None) -> None:
    by_label = ""
    if actor.kind == "anonymous":
        by_label = "Public self-referral page"
    elif actor.is_system:
        by_label = actor.username[:150]
    ReferralStatusChange.objects.create(
        referral=referral, at=at or clock.now(), by_user_id=actor.user_id, by_label=by_label,
        from_status=from_status, to_status=to_status, event=event, note=note,
    )


def audit_referral(actor: Actor, action: str, referral: Referral, detail: str, channel: str) -> None:
    audit.log(actor, action, category=CATEGORY, resource_type=RESOURCE, resource_id=referral.pk,
              patient_id=referral.patient_id, detail=detail, channel=channel)


def referral_locked(referral: Referral, expected_version: int | None) -> Referral:
    locked = Referral.objects.select_for_update().select_related("receiving_organization").get(pk=referral.pk)
    if expected_version is not None and expected_version != locked.version:
        raise PreconditionFailed(
            "The referral was changed by someone else while you were looking at it. Reload it and try again."
        )
    return locked


def status_move(actor: Actor, referral: Referral, target: str) -> str:
    problem = rules.transition_error(referral.status, target)
    if problem:
        raise Conflict(problem)
    previous = referral.status
    referral.status = target
    return previous


def may_triage(actor: Actor, referral: Referral) -> bool:
    return actor.kind == "staff" and referral.receiving_organization_id in actor.clinical_organization_ids


def _require_triage(actor: Actor, referral: Referral) -> None:
    if not may_triage(actor, referral):
        raise Forbidden("Triage is for the clinical staff of the program that received the referral.")


def lead_program_for(actor: Actor | None = None) -> Organization | None:
    """The program a referral goes to when none is named: the actor's own lead program, else the only
    active lead program of the network."""
    leads = Organization.objects.filter(kind=OrganizationKind.LEAD_PROGRAM, active=True).order_by("pk")
    if actor is not None:
        own = leads.filter(pk__in=actor.organization_ids).first()
        if own is not None:
            return own
    return leads.first() if leads.count() == 1 else None


def _visible_to_organization(patient: Patient, organization_id: int) -> bool:
    return patient.organization_id == organization_id or active_consents().filter(
        kind=ConsentKind.DATA_SHARING, grantee_organization_id=organization_id, patient=patient
    ).exists()


# --- provider referral -------------------------------------------------------------------------------


def _validate_referral(data: ReferralData) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not data.reason.strip():
        field_error(errors, "reason", "Give the reason for the referral.")
    elif len(data.reason) > 4000:
        field_error(errors, "reason", "Keep the reason under 4,000 characters; attach documents for the rest.")
    if data.urgency not in Urgency.values:
        field_error(errors, "urgency", f"Urgency must be one of: {', '.join(Urgency.values)}.")
    unknown = [s for s in data.requested_services if s not in RequestedService.values]
    if unknown:
        field_error(errors, "requested_services", f"Unknown service(s): {', '.join(unknown)}.")
    if data.patient_id is None:
        if not data.family_name.strip():
            field_error(errors, "family_name", "Enter the family name.")
        if not data.given_name.strip():
            field_error(errors, "given_name", "Enter the given name.")
        validate_birth_date(errors, data.birth_date)
    if data.gender and data.gender not in AdministrativeGender.values:
        field_error(errors, "gender", f"Gender must be one of: {', '.join(AdministrativeGender.values)}.")
    if data.email:
        try:
            validate_email(data.email)
        except ValidationError:
            field_error(errors, "email", "Enter a valid e-mail address.")
    if data.phone and not PHONE.match(data.phone.strip()):
        field_error(errors, "phone", _("Enter a telephone number of digits, spaces and + ( ) - only."))
    if not _LANG.match(data.preferred_language or ""):
        field_error(errors, "preferred_language", "Use a language code such as en or es.")
    if bool(data.identifier_system.strip()) != bool(data.identifier_value.strip()):
        field_error(errors, "identifier", "An identifier needs both its system and its value.")
    if len(data.stage_text) > 40:
        field_error(errors, "stage_text", "Give the stage briefly, e.g. IIIA, or 'unknown'.")
    if len(data.attachments) > MAX_ATTACHMENTS:
        field_error(errors, "attachments", f"List at most {MAX_ATTACHMENTS} attachments.")
    for a in data.attachments:
        if not a.name.strip():
            field_error(errors, "attachments", "Every attachment needs a name.")
        if a.size_bytes is not None and a.size_bytes < 0:
            field_error(errors, "attachments", "An attachment's size cannot be negative.")
        if a.document_date and a.document_date > clock.today():
            field_error(errors, "attachments", "An attachment's date cannot be in the future.")
    return errors


def _referring_parties(actor: Actor, data: ReferralData) -> tuple[int, int | None, str]:
    """(referring organisation, referring clinician, clinician's name as given)."""
    if actor.is_system:
        if not actor.allows("ServiceRequest", "c"):
            raise Forbidden("Token scope does not allow creating referrals (ServiceRequest).")
        org_id = actor.client_organization_id
        if org_id is None:
            raise Forbidden("The client's organisation is not active.")
        clinician_id = data.referring_clinician_id
        if clinician_id is not None and not Membership.objects.filter(
            user_id=clinician_id, organization_id=org_id, active=True
        ).exists():
            raise ValidationFailed("The requester is not a practitioner of your organisation.",
                                   field_errors={"requester": ["Unknown practitioner."]})
        return org_id, clinician_id, data.referring_clinician_name.strip()
    if actor.kind != "staff" or not actor.clinical_organization_ids:
        raise Forbidden("Referring a patient needs a clinical role at a hospital or cancer program.")
    orgs = actor.clinical_organization_ids
    org_id = data.referring_organization_id
    if org_id is None:
        if len(orgs) != 1:
            raise ValidationFailed("Choose the organisation you refer from.",
                                   field_errors={"referring_organization": ["Choose the organisation you refer from."]})
        org_id = next(iter(orgs))
    if org_id not in orgs:
        raise Forbidden("You may refer only from an organisation where you have a clinical role.")
    return org_id, actor.user_id, ""


def referral_create(*, actor: Actor, data: ReferralData, channel: str = "") -> Referral:
    """Record a provider referral to a lead cancer program."""
    referring_org_id, clinician_id, clinician_name = _referring_parties(actor, data)
    errors = _validate_referral(data)
    receiving: Organization | None
    if data.receiving_organization_id is not None:
        receiving = Organization.objects.filter(
            pk=data.receiving_organization_id, kind=OrganizationKind.LEAD_PROGRAM, active=True
        ).first()
        if receiving is None:
            field_error(errors, "receiving_organization", "Referrals go to an active lead cancer program.")
    else:
        receiving = lead_program_for(actor)
        if receiving is None:
            field_error(errors, "receiving_organization", "Choose the cancer program you refer to.")
    if errors:
        raise ValidationFailed("The referral is not complete.", field_errors=errors)
    assert receiving is not None
    if data.external_identifier_value and Referral.objects.filter(
        external_identifier_system=data.external_identifier_system,
        external_identifier_value=data.external_identifier_value,
    ).exists():
        raise Conflict("A referral with this identifier was already received.")

    with transaction.atomic():
        patient: Patient | None = None
        person = {
            "given_name": data.given_name.strip(), "family_name": data.family_name.strip(),
            "birth_date": data.birth_date, "gender": data.gender, "phone": data.phone.strip(),
            "email": data.email.strip(), "preferred_language": data.preferred_language,
            "identifier_system": data.identifier_system.strip(), "identifier_value": data.identifier_value.strip(),
        }
        if data.patient_id is not None:
            # The referrer's own record: its details travel with the referral; the receiving program
            # links to it only if it may see it, otherwise registers its own record on acceptance.
            source = access_patient(actor, data.patient_id, category=CATEGORY, channel=channel)
            mrn = source.identifiers.filter(type_code="MR").order_by("pk").first() or source.identifiers.first()
            person.update(
                given_name=source.given_name, family_name=source.family_name, birth_date=source.birth_date,
                gender=source.gender, phone=source.phone, email=source.email,
                preferred_language=source.preferred_language,
                identifier_system=mrn.system if mrn else "", identifier_value=mrn.value if mrn else "",
            )
            if _visible_to_organization(source, receiving.pk):
                patient = source
        now = clock.now()
        referral = Referral.objects.create(
            kind=ReferralKind.PROVIDER, status=ReferralStatus.RECEIVED, urgency=data.urgency,
            receiving_organization=receiving, referring_organization_id=referring_org_id,
            referring_clinician_id=clinician_id, referring_clinician_name=clinician_name[:200],
            patient=patient, reason=data.reason.strip(), cancer_type_text=data.cancer_type_text.strip()[:200],
            cancer_type_system=data.cancer_type_system.strip()[:100],
            cancer_type_code=data.cancer_type_code.strip()[:40], stage_text=data.stage_text.strip(),
            requested_services=list(dict.fromkeys(data.requested_services)),
            referral_source=ReferralSource.PHYSICIAN,
            external_identifier_system=data.external_identifier_system[:200],
            external_identifier_value=data.external_identifier_value[:100],
            received_at=now, **person,
        )
        ReferralAttachment.objects.bulk_create([
            ReferralAttachment(referral=referral, name=a.name.strip()[:200], content_type=a.content_type[:100],
                               size_bytes=a.size_bytes, document_date=a.document_date,
                               description=a.description.strip()[:300])
            for a in data.attachments
        ])
        history_add(referral, actor, "", ReferralStatus.RECEIVED, "received", at=now)
        audit_referral(actor, AuditAction.CREATE, referral, "provider referral received", channel)
        if referral.urgency != Urgency.ROUTINE:
            referral_id = referral.pk
            transaction.on_commit(lambda: _notify(referral_id))
    return referral


def _notify(referral_id: int) -> None:
    from .tasks import notify_navigators_of_referral

    notify_navigators_of_referral.enqueue(referral_id)


# --- triage ------------------------------------------------------------------------------------------


def referral_request_info(*, actor: Actor, referral: Referral, message: str, expected_version: int | None = None,
                          channel: str = "") -> Referral:
    """Ask the referrer (or the person) for what is missing before deciding."""
    _require_triage(actor, referral)
    if not message.strip():
        raise ValidationFailed("Say what information is needed.",
                               field_errors={"message": ["Say what information is needed."]})
    with transaction.atomic():
        locked = referral_locked(referral, expected_version)
        previous = status_move(actor, locked, ReferralStatus.INFO_REQUESTED)
        locked.info_request_message = message.strip()
        locked.version += 1
        locked.save()
        history_add(locked, actor, previous, locked.status, "info_requested", message.strip())
        audit_referral(actor, AuditAction.UPDATE, locked, "more information requested", channel)
    return locked


def referral_info_received(*, actor: Actor, referral: Referral, note: str = "", expected_version: int | None = None,
                           channel: str = "") -> Referral:
    """The requested information arrived: the referral returns to the queue for a decision."""
    _require_triage(actor, referral)
    with transaction.atomic():
        locked = referral_locked(referral, expected_version)
        previous = status_move(actor, locked, ReferralStatus.RECEIVED)
        locked.version += 1
        locked.save()
        history_add(locked, actor, previous, locked.status, "info_received", note.strip())
        audit_referral(actor, AuditAction.UPDATE, locked, "requested information received", channel)
    return locked


def referral_decline(*, actor: Actor, referral: Referral, reason: str, message: str = "",
                     expected_version: int | None = None, channel: str = "") -> Referral:
    """Decline with a reason; the letter to the referrer is written onto the referral."""
    _require_triage(actor, referral)
    if reason not in DeclineReason.values:
        raise ValidationFailed("Choose the reason for declining.",
                               field_errors={"reason": ["Choose the reason for declining."]})
    if reason == DeclineReason.OTHER and not message.strip():
        raise ValidationFailed("Explain the reason in the message to the referrer.",
                               field_errors={"message": ["Explain the reason: it is required when the reason is 'Other'."]})
    with transaction.atomic():
        locked = referral_locked(referral, expected_version)
        previous = status_move(actor, locked, ReferralStatus.DECLINED)
        now = clock.now()
        org = locked.receiving_organization
        if locked.kind == ReferralKind.SELF:
            referrer = locked.person_display
        elif locked.referring_clinician_id is not None:
            referrer = locked.referring_clinician.display_name  # type: ignore[union-attr]  # set: its id is checked above
        else:
            referrer = locked.referring_clinician_name
        locked.decline_reason = reason
        locked.decline_message = rules.decline_letter(
            reason=reason, message=message, person=locked.person_display, referrer=referrer, program=org.name,
            received_on=timezone.localtime(locked.received_at).date(),
            program_contact=" or ".join(x for x in (org.phone, org.email) if x),
            self_referral=locked.kind == ReferralKind.SELF,
        )
        locked.declined_at = locked.closed_at = now
        locked.version += 1
        locked.save()
        history_add(locked, actor, previous, locked.status, "declined",
                 f"{DeclineReason(reason).label}. {message.strip()}".strip(), at=now)
        audit_referral(actor, AuditAction.UPDATE, locked, f"declined: {reason}", channel)
    return locked


def referral_withdraw(*, actor: Actor, referral: Referral, note: str = "", expected_version: int | None = None,
                      channel: str = "") -> Referral:
    """The referrer (or the program, on the person's request) withdraws an open referral."""
    if not may_triage(actor, referral) and not (
        actor.user_id is not None and actor.user_id == referral.referring_clinician_id
    ):
        raise Forbidden("Only the referring clinician or the receiving program can withdraw a referral.")
    with transaction.atomic():
        locked = referral_locked(referral, expected_version)
        previous = status_move(actor, locked, ReferralStatus.WITHDRAWN)
        now = clock.now()
        locked.closed_at = now
        locked.version += 1
        locked.save()
        history_add(locked, actor, previous, locked.status, "withdrawn", note.strip(), at=now)
        audit_referral(actor, AuditAction.UPDATE, locked, "withdrawn", channel)
    return locked


def _new_patient_data(referral: Referral, gender: str = "") -> PatientData:
    identifiers: list[IdentifierData] = []
    system, value = referral.identifier_system, referral.identifier_value
    # An identifier already held by another record (e.g. the referring hospital's own) stays there.
    if system and value and not PatientIdentifier.objects.filter(system=system, value=value).exists():
        assigner = Organization.objects.filter(mrn_system=system).values_list("pk", flat=True).first()
        identifiers.append(IdentifierData(system=system, value=value, type_code="MR" if assigner else "",
                                          organization_id=assigner))
    return PatientData(
        given_name=referral.given_name, family_name=referral.family_name, birth_date=referral.birth_date,
        gender=referral.gender or gender or AdministrativeGender.UNKNOWN,
        organization_id=referral.receiving_organization_id,
        phone=referral.phone, email=referral.email, preferred_language=referral.preferred_language or "en",
        identifiers=identifiers,
    )


def referral_accept(*, actor: Actor, referral: Referral, link_patient_id: int | None = None,
                    register_new: bool = False, duplicates_reviewed: bool = False, gender: str = "",
                    first_contact_at: dt.datetime | None = None,
                    expected_version: int | None = None, channel: str = "") -> Referral:
    """Accept into the program, linking the referral to the person's record.

    A referral that already names a record the program sees keeps it.  Otherwise the navigator either
    links an existing record (``link_patient_id``) or registers a new patient (``register_new``); a new
    registration is refused while possible duplicates exist that the navigator has not reviewed.  A new
    patient takes the referral's gender (or ``gender``, when the referral did not state it).

    What the referral said about the cancer (type and stage) goes onto the patient's record as an
    unconfirmed diagnosis with the referral as its source; ``first_contact_at`` records the first contact
    with the person when none was recorded yet (accepting usually follows speaking with them).
    """
    if gender and gender not in AdministrativeGender.values:
        raise ValidationFailed("Choose the administrative gender from the list.",
                               field_errors={"gender": ["Choose from the list."]})
    from .selectors import duplicate_candidates

    _require_triage(actor, referral)
    if link_patient_id is not None and register_new:
        raise ValidationFailed("Choose either an existing record or a new registration, not both.")
    with transaction.atomic():
        locked = referral_locked(referral, expected_version)
        problem = rules.transition_error(locked.status, ReferralStatus.ACCEPTED)
        if problem:
            raise Conflict(problem)
        if locked.patient_id is not None:
            if link_patient_id is not None and link_patient_id != locked.patient_id:
                raise ValidationFailed("This referral is already linked to a patient record.")
            patient = locked.patient
            detail = "accepted"
        elif link_patient_id is not None:
            patient = access_patient(actor, link_patient_id, category=CATEGORY, channel=channel)
            detail = "accepted: linked to existing patient"
        elif register_new:
            candidates = duplicate_candidates(actor, locked, channel=channel)
            if candidates and not duplicates_reviewed:
                raise DuplicatesFound([c.patient.pk for c in candidates])
            patient = patient_create(actor=actor, data=_new_patient_data(locked, gender), channel=channel)
            detail = "accepted: new patient registered"
        else:
            raise ValidationFailed(
                "Choose how to record the person: link to an existing patient or register a new one.",
                field_errors={"patient_choice": ["Choose an existing record or a new registration."]},
            )
        if first_contact_at is not None and locked.first_contact_at is None:
            _first_contact(actor, locked, first_contact_at, channel)
        previous = status_move(actor, locked, ReferralStatus.ACCEPTED)
        now = clock.now()
        assert patient is not None
        record_from_referral(actor=actor, patient=patient, referral_id=locked.pk,
                             code_system=locked.cancer_type_system, code=locked.cancer_type_code,
                             text=locked.cancer_type_text, stage_text=locked.stage_text, channel=channel)
        locked.patient = patient
        locked.accepted_at = locked.closed_at = now
        locked.version += 1
        locked.save()
        history_add(locked, actor, previous, locked.status, "accepted", detail.split(": ", 1)[-1].capitalize(), at=now)
        audit_referral(actor, AuditAction.UPDATE, locked, detail, channel)
    return locked


def _first_contact(actor: Actor, referral: Referral, at: dt.datetime, channel: str) -> None:
    problem = rules.milestone_error("contact", at, received_at=referral.received_at, now=clock.now())
    if problem:
        raise ValidationFailed(problem, field_errors={"first_contact_at": [problem]})
    referral.first_contact_at = at
    history_add(referral, actor, referral.status, referral.status, "first_contact", "Recorded on acceptance", at=at)
    audit_referral(actor, AuditAction.UPDATE, referral, "first contact recorded", channel)


def referral_record_contact(*, actor: Actor, referral: Referral, at: dt.datetime | None = None, note: str = "",
                            expected_version: int | None = None, channel: str = "") -> Referral:
    """Record a contact with the person; the first one sets the first-contact time."""
    _require_triage(actor, referral)
    at = at or clock.now()
    with transaction.atomic():
        locked = referral_locked(referral, expected_version)
        if locked.status in (ReferralStatus.DECLINED, ReferralStatus.WITHDRAWN):
            raise Conflict("The referral is closed; record further contact on the patient's record.")
        problem = rules.milestone_error("contact", at, received_at=locked.received_at, now=clock.now())
        if problem:
            raise ValidationFailed(problem, field_errors={"at": [problem]})
        first = locked.first_contact_at is None or at < locked.first_contact_at
        if first:
            locked.first_contact_at = at
        locked.version += 1
        locked.save()
        history_add(locked, actor, locked.status, locked.status, "first_contact" if first else "contact",
                 note.strip(), at=at)
        audit_referral(actor, AuditAction.UPDATE, locked, "first contact recorded" if first else "contact recorded", channel)
    return locked


def referral_set_first_appointment(*, actor: Actor, referral: Referral, at: dt.datetime, note: str = "",
                                   expected_version: int | None = None, channel: str = "") -> Referral:
    """Record (or reschedule) the first appointment of an accepted referral."""
    _require_triage(actor, referral)
    with transaction.atomic():
        locked = referral_locked(referral, expected_version)
        if locked.status != ReferralStatus.ACCEPTED:
            raise Conflict("Accept the referral before recording its first appointment.")
        problem = rules.milestone_error("first appointment", at, received_at=locked.received_at, now=clock.now(),
                                        allow_future=True)
        if problem:
            raise ValidationFailed(problem, field_errors={"at": [problem]})
        event = "first_appointment" if locked.first_appointment_at is None else "first_appointment_changed"
        locked.first_appointment_at = at
        locked.version += 1
        locked.save()
        history_add(locked, actor, locked.status, locked.status, event, note.strip())
        audit_referral(actor, AuditAction.UPDATE, locked, "first appointment recorded", channel)
    return locked
