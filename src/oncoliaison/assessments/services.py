"""Every write to instruments, assessments and referral suggestions.  One transaction each, audited inside it."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from oncoliaison.core import audit, clock
from oncoliaison.core.access import require_admin
from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import Conflict, Forbidden, ValidationFailed
from oncoliaison.core.models import AuditAction
from oncoliaison.instruments import services as instruments
from oncoliaison.instruments.files import data_dir
from oncoliaison.instruments.models import (
    Instrument,
    InstrumentPermission,
    InstrumentVersion,
    PermissionKind,
    VersionStatus,
)
from oncoliaison.instruments.selectors import instrument_enabled_for
from oncoliaison.patients.models import ConsentKind, Patient, ProxyScope
from oncoliaison.patients.selectors import active_consents

from . import rules
from .models import (
    Assessment,
    AssessmentAnswer,
    AssessmentScore,
    AssessmentStatus,
    FilledBy,
    ReferralSuggestion,
    SuggestionStatus,
)
from .selectors import CATEGORY, PURPOSE, acting_organization_id

DATA_DIR = data_dir(PURPOSE)

# --- instrument definitions (loaded from JSON files in the repository) --------------------------------------


@dataclass(frozen=True)
class LoadResult:
    code: str
    version: str
    created: bool


def instrument_load(definition: Mapping[str, Any], *, actor: Actor, source: str = "") -> LoadResult:
    """Create or refresh an instrument and one version from a definition (idempotent).

    A version that already has assessments is never changed in place: loading different content under the same
    version number is refused, so that stored answers always match the items they answered.
    """
    try:
        rules.check_definition(definition)
    except rules.DefinitionError as exc:
        raise ValidationFailed(f"Instrument definition {source or definition.get('code')}: {exc}") from exc
    spec = instruments.VersionSpec(
        code=definition["code"], purpose=PURPOSE, version=definition["version"], scoring=definition["scoring"],
        definition=definition, loaded_from=source,
        instrument={
            "title": definition["title"],
            "publisher": definition.get("publisher", ""),
            "source_url": definition.get("source_url", ""),
            "citation": definition.get("citation", ""),
            "licence": definition.get("licence", ""),
            "requires_permission": bool(definition.get("requires_permission", False)),
            "loinc_code": definition.get("loinc", ""),
        },
    )
    with transaction.atomic():
        version, outcome = instruments.version_load(spec, replace=True, in_use=lambda v: v.assessments.exists())
        if outcome == "unchanged":
            return LoadResult(spec.code, spec.version, False)
        audit.log(actor, AuditAction.ADMIN, category="instrument", resource_type="Questionnaire",
                  resource_id=version.instrument_id, detail=f"loaded {spec.code} {spec.version}", channel="cli")
    return LoadResult(spec.code, spec.version, outcome == "created")


def instruments_load_bundled(*, actor: Actor) -> list[LoadResult]:
    """Load every definition shipped in instruments/data/needs-assessment/."""
    results = []
    for path in sorted(DATA_DIR.glob("*.json")):
        results.append(instrument_load(json.loads(path.read_text()), actor=actor, source=path.name))
    return results


@dataclass
class PermissionData:
    enabled: bool
    permission_reference: str = ""
    permission_holder: str = ""
    granted_on: dt.date | None = None
    expires_on: dt.date | None = None
    note: str = ""


def instrument_permission_set(
    *, actor: Actor, instrument: Instrument, organization_id: int, data: PermissionData, channel: str = "web"
) -> InstrumentPermission:
    """Switch an instrument on or off for an organisation, recording the owner's permission when needed.

    Each switch is a new entry in the permission history: switching off keeps the permission recorded before."""
    require_admin(actor, organization_id)
    errors: dict[str, list[str]] = {}
    if data.enabled and instrument.requires_permission:
        if not data.permission_reference.strip():
            errors["permission_reference"] = ["Record the owner's permission or licence reference."]
        if not data.permission_holder.strip():
            errors["permission_holder"] = ["Name who holds the permission."]
        if data.granted_on is None:
            errors["granted_on"] = ["Give the date the permission was granted."]
    if data.granted_on and data.expires_on and data.expires_on < data.granted_on:
        errors["expires_on"] = ["The permission cannot expire before it was granted."]
    if data.enabled and data.expires_on and data.expires_on < clock.today():
        errors["expires_on"] = ["This permission has already expired."]
    if errors:
        raise ValidationFailed("The permission record is not complete.", field_errors=errors)
    entry = instruments.PermissionEntry(
        kind=PermissionKind.GRANT if data.enabled else PermissionKind.SWITCH_OFF,
        reference=data.permission_reference, holder=data.permission_holder, granted_on=data.granted_on,
        expires_on=data.expires_on, note=data.note,
    )
    return instruments.permission_record(
        actor=actor, instrument=instrument, organization_id=organization_id, entry=entry, channel=channel,
        detail=f"{'enabled' if data.enabled else 'disabled'} {instrument.code} for organisation {organization_id}")


# --- assessments --------------------------------------------------------------------------------------------


def _filled_by_for(actor: Actor, patient: Patient) -> str:
    """Who is filling the assessment, or Forbidden when the actor may not fill one for this patient."""
    if actor.kind == "patient":
        if actor.own_patient_id != patient.pk:
            raise Forbidden("Patients fill assessments only for themselves.")
        return FilledBy.PATIENT
    if actor.kind == "caregiver":
        may_report = active_consents().filter(
            kind=ConsentKind.CAREGIVER_PROXY, grantee_user_id=actor.user_id, patient=patient,
            proxy_scope__in=[ProxyScope.REPORT, ProxyScope.MESSAGE],
        ).exists()
        if not may_report:
            raise Forbidden("Your proxy access is view-only: it does not include answering on the patient's behalf.")
        return FilledBy.PROXY
    if actor.is_system:
        if not actor.allows("QuestionnaireResponse", "c"):
            raise Forbidden("Token scope does not allow creating QuestionnaireResponses.")
        return FilledBy.STAFF
    if actor.kind != "staff" or not actor.clinical_organization_ids:
        raise Forbidden("Filling an assessment on a patient's behalf needs a care role.")
    return FilledBy.STAFF


def assessment_submit(
    *,
    actor: Actor,
    patient: Patient,
    version: InstrumentVersion,
    answers: Mapping[str, Sequence[str | int]],
    started_at: dt.datetime | None = None,
    authored_at: dt.datetime | None = None,
    filled_by: str | None = None,
    note: str = "",
    channel: str = "web",
) -> Assessment:
    """Record a completed assessment: answers, scores (with reasons) and proposed referrals.

    ``patient`` must come from an access_* guard.  Staff may record that the patient or a proxy gave the answers
    (``filled_by``); patients and caregivers are always recorded as themselves.
    """
    who = _filled_by_for(actor, patient)
    if filled_by and who == FilledBy.STAFF:
        if filled_by not in FilledBy.values:
            raise ValidationFailed("Unknown respondent.", field_errors={"filled_by": ["Choose who answered."]})
        who = filled_by
    org_id = acting_organization_id(actor, patient)
    if org_id is None:
        raise Forbidden("Filling an assessment needs a care role in an organisation.")
    instrument = version.instrument
    enabled, why = instrument_enabled_for(instrument, org_id)
    if not enabled:
        raise Forbidden(f"{instrument.title} is not available: {why}")
    if version.status != VersionStatus.ACTIVE:
        raise ValidationFailed(f"Version {version.version} of {instrument.title} is retired; use the current one.")
    now = clock.now()
    authored_at = authored_at or now
    started_at = started_at or authored_at
    if authored_at > now + dt.timedelta(minutes=5) or started_at > authored_at:
        raise ValidationFailed("The assessment dates are not valid.",
                               field_errors={"authored_at": ["Dates cannot be in the future or out of order."]})
    try:
        normalised = rules.normalise_answers(version.definition, answers)
    except rules.AnswerError as exc:
        raise ValidationFailed("Some answers are not valid.", field_errors=exc.field_errors) from exc
    if not normalised:
        raise ValidationFailed("Answer at least one question.", field_errors={"__all__": ["No answers given."]})
    outcome = rules.evaluate(version.definition, normalised)
    items = rules.items_of(version.definition)
    with transaction.atomic():
        assessment = Assessment.objects.create(
            patient=patient, organization_id=org_id, instrument_version=version, status=AssessmentStatus.COMPLETED,
            filled_by=who, author_id=actor.user_id, positive=outcome.positive, started_at=started_at,
            authored_at=authored_at, note=note.strip(),
        )
        rows = []
        position = 0
        for link_id, values in normalised.items():
            item = items[link_id]
            for value in values:
                position += 1
                if item["type"] == "integer":
                    rows.append(AssessmentAnswer(assessment=assessment, link_id=link_id, value_integer=value,
                                                 display=str(value), position=position))
                else:
                    opt = rules.option_of(item, value)
                    rows.append(AssessmentAnswer(assessment=assessment, link_id=link_id, value_code=value,
                                                 value_integer=opt.get("value"), display=opt["display"][:300],
                                                 position=position))
        AssessmentAnswer.objects.bulk_create(rows)
        AssessmentScore.objects.bulk_create([
            AssessmentScore(
                assessment=assessment, patient=patient, code=s.code, loinc_code=s.loinc, display=s.display,
                value_integer=s.value, value_text=s.text, interpretation=s.interpretation, reasons=list(s.reasons),
                effective_at=authored_at, position=i,
            )
            for i, s in enumerate(outcome.scores)
        ])
        ReferralSuggestion.objects.bulk_create([
            ReferralSuggestion(
                assessment=assessment, patient=patient, service=sg.service, reasons=list(sg.reasons),
                triggers=list(sg.triggers), needs=list(sg.needs), urgent=sg.urgent,
            )
            for sg in outcome.suggestions
        ])
        audit.log(actor, AuditAction.CREATE, category=CATEGORY, resource_type="QuestionnaireResponse",
                  resource_id=assessment.pk, patient_id=patient.pk,
                  detail=f"{instrument.code} {version.version} filled by {who}", channel=channel)
    return assessment


def assessment_mark_in_error(*, actor: Actor, assessment: Assessment, reason: str, channel: str = "web") -> Assessment:
    """Withdraw an assessment recorded by mistake (its scores and open suggestions go with it)."""
    if actor.kind != "staff" or not actor.clinical_organization_ids:
        raise Forbidden("Only care staff can withdraw an assessment.")
    if not reason.strip():
        raise ValidationFailed("Say why the assessment was entered in error.", field_errors={"reason": ["Required."]})
    with transaction.atomic():
        locked = Assessment.objects.select_for_update().get(pk=assessment.pk)
        if locked.status == AssessmentStatus.ENTERED_IN_ERROR:
            raise Conflict("This assessment is already marked as entered in error.")
        locked.status = AssessmentStatus.ENTERED_IN_ERROR
        locked.note = (locked.note + f"\nEntered in error: {reason.strip()}").strip()
        locked.version += 1
        locked.save()
        locked.suggestions.filter(status=SuggestionStatus.PROPOSED).update(
            status=SuggestionStatus.REJECTED, decided_by_id=actor.user_id, decided_at=clock.now(),
            decision_note="Assessment entered in error.",
        )
        audit.log(actor, AuditAction.UPDATE, category=CATEGORY, resource_type="QuestionnaireResponse",
                  resource_id=locked.pk, patient_id=locked.patient_id, detail="entered in error", channel=channel)
    return locked


def suggestion_decide(
    *, actor: Actor, suggestion: ReferralSuggestion, accept: bool, note: str = "", channel: str = "web"
) -> ReferralSuggestion:
    """The navigator accepts or rejects a proposed referral.  A decision is made once."""
    if actor.kind != "staff" or not actor.clinical_organization_ids:
        raise Forbidden("Only care staff can accept or reject referral suggestions.")
    if not accept and not note.strip():
        raise ValidationFailed("Say why the referral is not needed.",
                               field_errors={"note": ["A reason is required to reject a suggestion."]})
    with transaction.atomic():
        locked = ReferralSuggestion.objects.select_for_update().get(pk=suggestion.pk)
        if locked.status != SuggestionStatus.PROPOSED:
            raise Conflict(f"This suggestion was already {locked.get_status_display().lower()}.")
        locked.status = SuggestionStatus.ACCEPTED if accept else SuggestionStatus.REJECTED
        locked.decided_by_id = actor.user_id
        locked.decided_at = clock.now()
        locked.decision_note = note.strip()[:500]
        locked.save()
        audit.log(actor, AuditAction.UPDATE, category=CATEGORY, resource_type="ReferralSuggestion",
                  resource_id=locked.pk, patient_id=locked.patient_id,
                  detail=f"{locked.service} {locked.status}", channel=channel)
    return locked
