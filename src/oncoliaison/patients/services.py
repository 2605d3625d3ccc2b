"""Every write to patients, care teams and consents.  One transaction each, audited inside it."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction

from oncoliaison.core import audit, clock
from oncoliaison.core.actor import Actor
from oncoliaison.core.contact import ContactData
from oncoliaison.core.errors import Conflict, Forbidden, PreconditionFailed, ValidationFailed
from oncoliaison.core.models import AuditAction
from oncoliaison.core.roles import UserKind
from oncoliaison.organisations.models import CARE_DELIVERING_KINDS, Organization
from oncoliaison.organisations.rules import phone_error

from . import rules, selectors
from .models import (
    AdministrativeGender,
    CareTeam,
    CareTeamParticipant,
    CareTeamStatus,
    Consent,
    ConsentKind,
    ConsentStatus,
    EmergencyAccess,
    EmergencyReason,
    Patient,
    PatientIdentifier,
    ProxyScope,
)

_LANG = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


@dataclass
class IdentifierData:
    system: str
    value: str
    type_code: str = ""
    organization_id: int | None = None


@dataclass
class PatientData(ContactData):
    given_name: str
    family_name: str
    birth_date: dt.date | None
    gender: str
    organization_id: int | None = None
    preferred_language: str = "en"
    interpreter_needed: bool = False
    active: bool = True
    deceased: bool = False
    synthetic: bool = False
    identifiers: list[IdentifierData] | None = field(default=None)


def _check_version(obj_version: int, expected: int | None) -> None:
    if expected is not None and expected != obj_version:
        raise PreconditionFailed(
            f"The record was changed by someone else (current version {obj_version}, yours {expected}). "
            "Reload it and apply your change again."
        )


def _validate_patient(data: PatientData) -> None:
    errors: dict[str, list[str]] = {}
    if not data.given_name.strip():
        errors.setdefault("given_name", []).append("Enter the given name.")
    if not data.family_name.strip():
        errors.setdefault("family_name", []).append("Enter the family name.")
    if data.birth_date is None:
        errors.setdefault("birth_date", []).append("Enter the date of birth.")
    elif data.birth_date > clock.today() or data.birth_date < dt.date(1880, 1, 1):
        errors.setdefault("birth_date", []).append("The date of birth must be a real past date.")
    if data.gender not in AdministrativeGender.values:
        errors.setdefault("gender", []).append(
            f"Gender must be one of: {', '.join(AdministrativeGender.values)}."
        )
    if data.email:
        try:
            validate_email(data.email)
        except ValidationError:
            errors.setdefault("email", []).append("Enter a valid e-mail address.")
    if not _LANG.match(data.preferred_language or ""):
        errors.setdefault("preferred_language", []).append("Use a language code such as en or es.")
    for ident in data.identifiers or []:
        if not ident.system.strip() or not ident.value.strip():
            errors.setdefault("identifiers", []).append("Every identifier needs a system and a value.")
    if errors:
        raise ValidationFailed("The patient details are not valid.", field_errors=errors)


def _writable_org(actor: Actor, organization_id: int | None) -> Organization:
    orgs = actor.clinical_organization_ids
    if not orgs:
        raise Forbidden("Your role does not allow registering patients.")
    if organization_id is None:
        if len(orgs) != 1:
            raise ValidationFailed(
                "Choose the managing organisation.", field_errors={"organization": ["Required."]}
            )
        organization_id = next(iter(orgs))
    if organization_id not in orgs:
        raise Forbidden("You may register patients only for an organisation where you have a care role.")
    if actor.is_system and not actor.allows("Patient", "c"):
        raise Forbidden("Token scope does not allow creating patients.")
    return Organization.objects.get(pk=organization_id)


def _apply(patient: Patient, data: PatientData) -> None:
    for name in (
        "given_name", "family_name", "birth_date", "gender", "phone", "email", "address_line", "city",
        "state", "postal_code", "country", "preferred_language", "interpreter_needed", "active", "deceased",
    ):
        value = getattr(data, name)
        setattr(patient, name, value.strip() if isinstance(value, str) else value)


def _replace_identifiers(patient: Patient, identifiers: list[IdentifierData]) -> None:
    patient.identifiers.all().delete()
    for ident in identifiers:
        PatientIdentifier.objects.create(
            patient=patient,
            system=ident.system.strip(),
            value=ident.value.strip(),
            type_code=ident.type_code,
            organization_id=ident.organization_id,
        )


def patient_create(*, actor: Actor, data: PatientData, channel: str = "") -> Patient:
    _validate_patient(data)
    org = _writable_org(actor, data.organization_id)
    try:
        with transaction.atomic():
            patient = Patient(organization=org, synthetic=data.synthetic)
            _apply(patient, data)
            patient.save()
            _replace_identifiers(patient, data.identifiers or [])
            audit.log(actor, AuditAction.CREATE, category="demographics", resource_type="Patient",
                      resource_id=patient.pk, patient_id=patient.pk, channel=channel)
    except IntegrityError as exc:
        raise Conflict("Another patient already has one of these identifiers.") from exc
    return patient


def patient_update(
    *, actor: Actor, patient: Patient, data: PatientData, expected_version: int | None = None, channel: str = ""
) -> Patient:
    """Update demographics.  ``patient`` must come from an access_* guard."""
    _validate_patient(data)
    if actor.is_system and not actor.allows("Patient", "u"):
        raise Forbidden("Token scope does not allow updating patients.")
    if actor.kind in {"patient", "caregiver"}:
        raise Forbidden("Only the care team can change registration details.")
    try:
        with transaction.atomic():
            locked = Patient.objects.select_for_update().get(pk=patient.pk)
            _check_version(locked.version, expected_version)
            _apply(locked, data)
            locked.version += 1
            locked.save()
            if data.identifiers is not None:
                _replace_identifiers(locked, data.identifiers)
            audit.log(actor, AuditAction.UPDATE, category="demographics", resource_type="Patient",
                      resource_id=locked.pk, patient_id=locked.pk, channel=channel)
    except IntegrityError as exc:
        raise Conflict("Another patient already has one of these identifiers.") from exc
    return locked


# --- care teams ------------------------------------------------------------------------------------


@dataclass
class ParticipantData:
    user_id: int
    role: str
    role_code: str = ""
    start: dt.date | None = None
    end: dt.date | None = None


@dataclass
class CareTeamData:
    name: str
    status: str = CareTeamStatus.ACTIVE
    participants: list[ParticipantData] = field(default_factory=list)
    # The team's own numbers for its patients, overriding the organisation's (organisations.rules);
    # None keeps what the team has, "" uses the organisation's again.
    urgent_phone: str | None = None
    office_phone: str | None = None


def _validate_care_team(data: CareTeamData) -> None:
    errors: dict[str, list[str]] = {}
    if not data.name.strip():
        errors["name"] = ["Name the care team."]
    if data.status not in CareTeamStatus.values:
        errors["status"] = [f"Status must be one of: {', '.join(CareTeamStatus.values)}."]
    for p in data.participants:
        if not p.role.strip():
            errors.setdefault("participants", []).append("Every participant needs a role.")
        if p.start and p.end and p.end < p.start:
            errors.setdefault("participants", []).append("A participant's period ends before it starts.")
    for name in ("urgent_phone", "office_phone"):
        if problem := phone_error(getattr(data, name) or ""):
            errors[name] = [problem]
    if errors:
        raise ValidationFailed("The care team is not valid.", field_errors=errors)


def _require_care_writer(actor: Actor, patient: Patient, resource: str, letter: str) -> None:
    if actor.kind in {"patient", "caregiver"}:
        raise Forbidden("Only staff can change this.")
    if actor.is_system and not actor.allows(resource, letter):
        raise Forbidden(f"Token scope does not allow this on {resource}.")
    if not actor.clinical_organization_ids:
        raise Forbidden("Your role does not allow changing patient records.")


def _set_participants(team: CareTeam, participants: list[ParticipantData]) -> None:
    from django.contrib.auth import get_user_model

    user_ids = {p.user_id for p in participants}
    found = set(get_user_model().objects.filter(pk__in=user_ids, kind="staff").values_list("pk", flat=True))
    if missing := user_ids - found:
        raise ValidationFailed(
            "A care-team participant is not a known practitioner.",
            field_errors={"participants": [f"Unknown practitioner id(s): {sorted(missing)}"]},
        )
    team.participants.all().delete()
    CareTeamParticipant.objects.bulk_create(
        [
            CareTeamParticipant(care_team=team, user_id=p.user_id, role=p.role.strip(), role_code=p.role_code,
                                start=p.start, end=p.end)
            for p in participants
        ]
    )


def care_team_create(*, actor: Actor, patient: Patient, data: CareTeamData, channel: str = "") -> CareTeam:
    _validate_care_team(data)
    _require_care_writer(actor, patient, "CareTeam", "c")
    # The team belongs to the actor's organisation: the patient's own one when the actor works there.
    orgs = actor.clinical_organization_ids
    org_id = patient.organization_id if patient.organization_id in orgs else min(orgs)
    with transaction.atomic():
        team = CareTeam.objects.create(patient=patient, organization_id=org_id, name=data.name.strip(),
                                       status=data.status, urgent_phone=(data.urgent_phone or "").strip(),
                                       office_phone=(data.office_phone or "").strip())
        _set_participants(team, data.participants)
        audit.log(actor, AuditAction.CREATE, category="care_team", resource_type="CareTeam",
                  resource_id=team.pk, patient_id=patient.pk, channel=channel)
    return team


def care_team_update(
    *, actor: Actor, team: CareTeam, data: CareTeamData, expected_version: int | None = None, channel: str = ""
) -> CareTeam:
    _validate_care_team(data)
    _require_care_writer(actor, team.patient, "CareTeam", "u")
    with transaction.atomic():
        locked = CareTeam.objects.select_for_update().get(pk=team.pk)
        _check_version(locked.version, expected_version)
        locked.name, locked.status = data.name.strip(), data.status
        if data.urgent_phone is not None:
            locked.urgent_phone = data.urgent_phone.strip()
        if data.office_phone is not None:
            locked.office_phone = data.office_phone.strip()
        locked.version += 1
        locked.save()
        _set_participants(locked, data.participants)
        audit.log(actor, AuditAction.UPDATE, category="care_team", resource_type="CareTeam",
                  resource_id=locked.pk, patient_id=locked.patient_id, channel=channel)
    return locked


# --- consents -------------------------------------------------------------------------------------


@dataclass
class ConsentData:
    kind: str
    status: str = ConsentStatus.ACTIVE
    grantee_organization_id: int | None = None
    grantee_user_id: int | None = None
    proxy_scope: str = ""
    period_start: dt.date | None = None
    period_end: dt.date | None = None
    note: str = ""


def _validate_consent(data: ConsentData) -> None:
    errors: dict[str, list[str]] = {}
    if data.kind not in ConsentKind.values:
        errors["kind"] = [f"Kind must be one of: {', '.join(ConsentKind.values)}."]
    if data.status not in ConsentStatus.values:
        errors["status"] = [f"Status must be one of: {', '.join(ConsentStatus.values)}."]
    if data.kind == ConsentKind.DATA_SHARING and not data.grantee_organization_id:
        errors["grantee_organization"] = ["Name the organisation the data is shared with."]
    if data.kind == ConsentKind.DATA_SHARING and data.grantee_organization_id and not Organization.objects.filter(
        pk=data.grantee_organization_id
    ).exists():
        errors["grantee_organization"] = ["Unknown organisation."]
    if data.kind == ConsentKind.CAREGIVER_PROXY:
        if not data.grantee_user_id:
            errors["grantee_user"] = ["Name the person who receives proxy access."]
        if data.proxy_scope not in ProxyScope.values:
            errors["proxy_scope"] = [f"Proxy scope must be one of: {', '.join(ProxyScope.values)}."]
    if data.grantee_user_id:
        kind = get_user_model().objects.filter(pk=data.grantee_user_id).values_list("kind", flat=True).first()
        if kind is None:
            errors["grantee_user"] = ["Unknown person."]
        elif data.kind == ConsentKind.CAREGIVER_PROXY and kind != UserKind.CAREGIVER:
            errors["grantee_user"] = ["The proxy must be a registered caregiver account."]
    if (data.grantee_organization_id and "grantee_organization" not in errors
            and not Organization.objects.filter(pk=data.grantee_organization_id).exists()):
        errors["grantee_organization"] = ["Unknown organisation."]
    if data.period_start and data.period_end and data.period_end < data.period_start:
        errors["period"] = ["The period ends before it starts."]
    if errors:
        raise ValidationFailed("The consent is not valid.", field_errors=errors)


def _consent_writer(actor: Actor, patient: Patient, data: ConsentData, letter: str) -> None:
    if actor.kind == "caregiver":
        raise Forbidden("Caregivers cannot change consents.")
    if actor.kind == "patient":
        # Patients manage their own caregiver proxies and data-sharing choices.
        if data.kind not in {ConsentKind.CAREGIVER_PROXY, ConsentKind.DATA_SHARING, ConsentKind.RESEARCH}:
            raise Forbidden("Treatment consent is recorded by the care team.")
        return
    _require_care_writer(actor, patient, "Consent", letter)


def consent_create(*, actor: Actor, patient: Patient, data: ConsentData, channel: str = "") -> Consent:
    _validate_consent(data)
    _consent_writer(actor, patient, data, "c")
    with transaction.atomic():
        consent = Consent.objects.create(
            patient=patient,
            kind=data.kind,
            status=data.status,
            grantee_organization_id=data.grantee_organization_id,
            grantee_user_id=data.grantee_user_id,
            proxy_scope=data.proxy_scope,
            organization_id=patient.organization_id,
            period_start=data.period_start,
            period_end=data.period_end,
            note=data.note,
            recorded_by_id=actor.user_id,
        )
        audit.log(actor, AuditAction.CREATE, category="consent", resource_type="Consent",
                  resource_id=consent.pk, patient_id=patient.pk, channel=channel)
    return consent


def consent_update(
    *, actor: Actor, consent: Consent, data: ConsentData, expected_version: int | None = None, channel: str = ""
) -> Consent:
    _validate_consent(data)
    _consent_writer(actor, consent.patient, data, "u")
    if data.kind != consent.kind:
        raise ValidationFailed("A consent's kind cannot change; record a new consent instead.",
                               field_errors={"kind": ["Cannot change."]})
    with transaction.atomic():
        locked = Consent.objects.select_for_update().get(pk=consent.pk)
        _check_version(locked.version, expected_version)
        for name in ("status", "grantee_organization_id", "grantee_user_id", "proxy_scope", "period_start",
                     "period_end", "note"):
            setattr(locked, name, getattr(data, name))
        locked.version += 1
        locked.save()
        audit.log(actor, AuditAction.UPDATE, category="consent", resource_type="Consent",
                  resource_id=locked.pk, patient_id=locked.patient_id, channel=channel)
    return locked


def consent_revoke(*, actor: Actor, consent: Consent, channel: str = "") -> Consent:
    data = ConsentData(
        kind=consent.kind, status=ConsentStatus.INACTIVE, grantee_organization_id=consent.grantee_organization_id,
        grantee_user_id=consent.grantee_user_id, proxy_scope=consent.proxy_scope,
        period_start=consent.period_start, period_end=consent.period_end or clock.today(), note=consent.note,
    )
    if data.period_start and data.period_end and data.period_end < data.period_start:
        data.period_end = data.period_start
    return consent_update(actor=actor, consent=consent, data=data, channel=channel)



# --- emergency access (break-glass) ------------------------------------------------------------------


@dataclass
class EmergencyAccessRequest:
    mrn: str
    birth_date: dt.date | None
    reason: str
    justification: str


def emergency_access_start(*, actor: Actor, data: EmergencyAccessRequest, channel: str = "web") -> EmergencyAccess:
    """Break the glass: open one patient's record for ``EMERGENCY_ACCESS_MINUTES``, with a stated reason.

    The patient is found by the MRN their organisation assigned together with the date of birth (both must
    match: no browsing, no wrong patient).  Who may open whose record: ``rules.emergency_access_organizations``.
    The session, and every access during it, is audited; the privacy officer reviews it."""
    from django.conf import settings

    if actor.kind != "staff" or not actor.user_id:
        raise Forbidden("Emergency access is for staff of a treating organisation.")
    care = dict(Organization.objects.filter(active=True, kind__in=CARE_DELIVERING_KINDS).values_list("pk", "kind"))
    allowed = rules.emergency_access_organizations(actor.memberships, care)
    if allowed is not None and not allowed:
        raise Forbidden("Your role does not include emergency access to patient records.")
    errors = rules.emergency_access_errors(reason=data.reason, justification=data.justification,
                                           reasons=set(EmergencyReason.values))
    if not data.mrn.strip():
        errors["mrn"] = ["Enter the patient's medical record number."]
    if data.birth_date is None:
        errors["birth_date"] = ["Enter the patient's date of birth."]
    if errors:
        raise ValidationFailed("Emergency access needs the patient, a reason and a justification.",
                               field_errors=errors)
    orgs = set(care) if allowed is None else set(allowed) & set(care)
    matches = list(
        Patient.objects.filter(organization_id__in=orgs, birth_date=data.birth_date or dt.date.min,
                               identifiers__value=data.mrn.strip(), identifiers__type_code="MR")
        .values_list("pk", "organization_id").distinct()[:2]
    )
    if len(matches) != 1:
        audit.log(actor, AuditAction.ACCESS_DENIED, category="emergency-access", resource_type="Patient",
                  outcome="denied", detail="emergency access: no single patient with this MRN and birth date",
                  channel=channel)
        raise ValidationFailed(
            "No single patient of the organisations you may open in an emergency has this MRN and date of birth.",
            field_errors={"mrn": ["Check the MRN and the date of birth."]})
    patient_id, organization_id = matches[0]
    now = clock.now()
    with transaction.atomic():
        access = EmergencyAccess.objects.create(
            user_id=actor.user_id, patient_id=patient_id, organization_id=organization_id,
            role=actor.primary_role[:32], reason=data.reason, justification=data.justification.strip(),
            started_at=now, expires_at=rules.emergency_access_expiry(now, settings.EMERGENCY_ACCESS_MINUTES),
        )
        audit.log(actor, AuditAction.ADMIN, category="emergency-access", resource_type="Patient",
                  resource_id=patient_id, patient_id=patient_id, channel=channel,
                  detail=f"{audit.EMERGENCY_MARK}{access.pk}; started ({data.reason}) until "
                         f"{access.expires_at:%Y-%m-%d %H:%M} UTC")
    return access


def emergency_access_end(*, actor: Actor, access_id: int, channel: str = "web") -> EmergencyAccess:
    """End one's own break-glass session before it expires."""
    with transaction.atomic():
        access = EmergencyAccess.objects.select_for_update().filter(pk=access_id, user_id=actor.user_id or 0).first()
        if access is None:
            from oncoliaison.core.errors import NotFound

            raise NotFound()
        if access.ended_at is None and access.expires_at > clock.now():
            access.ended_at = clock.now()
            access.save(update_fields=["ended_at"])
            audit.log(actor, AuditAction.ADMIN, category="emergency-access", resource_type="Patient",
                      resource_id=access.patient_id, patient_id=access.patient_id, channel=channel,
                      detail="ended by the user")
    return access


def emergency_access_review(*, actor: Actor, access: EmergencyAccess, note: str, channel: str = "web") -> None:
    """The privacy officer of the patient's organisation records that the session was reviewed."""
    if access.organization_id not in selectors.privacy_officer_organization_ids(actor):
        raise Forbidden("Reviewing emergency access is for the privacy officer of the patient's organisation.")
    if not note.strip():
        raise ValidationFailed("Write what the review found.", field_errors={"note": ["Write what the review found."]})
    with transaction.atomic():
        locked = EmergencyAccess.objects.select_for_update().get(pk=access.pk)
        locked.reviewed_by_id, locked.reviewed_at, locked.review_note = actor.user_id, clock.now(), note.strip()
        locked.save(update_fields=["reviewed_by", "reviewed_at", "review_note"])
        audit.log(actor, AuditAction.ADMIN, category="emergency-access", resource_type="EmergencyAccess",
                  resource_id=locked.pk, channel=channel, detail="reviewed")

