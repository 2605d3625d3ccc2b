"""Reads of referrals, always given the actor.

Clinical staff of the receiving program see its referrals; a referring clinician sees the referrals
they sent; a system sees what its organisation received or sent.  "Missing" and "not yours" look alike.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When

from oncoliaison.core import audit
from oncoliaison.core.access import get_visible_or_404, owner_patient_id
from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import Forbidden, NotFound
from oncoliaison.core.models import AuditAction
from oncoliaison.organisations.models import Organization, OrganizationKind
from oncoliaison.patients.models import Patient
from oncoliaison.patients.selectors import patient_queryset_for

from . import rules
from .models import OPEN_STATUSES, Referral, ReferralStatus

CATEGORY = "referral"
RESOURCE = "ServiceRequest"


def referral_queryset_for(actor: Actor) -> QuerySet[Referral]:
    if actor.is_system:
        org = actor.client_organization_id
        if org is None:
            return Referral.objects.none()
        return Referral.objects.filter(Q(receiving_organization_id=org) | Q(referring_organization_id=org))
    if actor.kind != "staff" or actor.user_id is None:
        return Referral.objects.none()
    return Referral.objects.filter(
        Q(receiving_organization_id__in=actor.clinical_organization_ids) | Q(referring_clinician_id=actor.user_id)
    )


def _with_related(qs: QuerySet[Referral]) -> QuerySet[Referral]:
    return qs.select_related("patient", "receiving_organization", "referring_organization", "referring_clinician")


def audit_disclosed(actor: Actor, referrals: Sequence[Referral], *, channel: str,
                    action: str = AuditAction.SEARCH) -> None:
    """The audit of referrals a door disclosed, for every door: one row per referral (its patient, when the
    person is registered; a prospective patient's referral is audited against the referral itself).  A list
    is a SEARCH, one referral a READ."""
    audit.record(actor, [audit.Entry(action, CATEGORY, RESOURCE, r.pk, r.patient_id) for r in referrals],
                 channel=channel)


def referral_get_for(actor: Actor, pk: object, *, channel: str = "", audit_read: bool = True) -> Referral:
    """One referral the actor may see (audited), else NotFound."""
    try:
        referral = get_visible_or_404(_with_related(referral_queryset_for(actor)), pk)
    except NotFound:
        audit.log_refused(actor, category=CATEGORY, resource_type=RESOURCE, resource_id=str(pk)[:64],
                          patient_id=owner_patient_id(Referral, pk), channel=channel)
        raise
    if audit_read:
        audit_disclosed(actor, [referral], channel=channel, action=AuditAction.READ)
    return referral


def require_triage_role(actor: Actor) -> None:
    """The queue is for clinical staff of a care-delivering organisation."""
    if actor.kind != "staff" or not actor.clinical_organization_ids:
        raise Forbidden("The referral queue is for the clinical staff of a cancer program.")


def triage_queue_for(actor: Actor, *, status: str = "", urgency: str = "", channel: str = "web",
                     limit: int = 200) -> list[Referral]:
    """Open referrals the actor's programs received: most urgent first, then longest waiting."""
    require_triage_role(actor)
    qs = Referral.objects.filter(receiving_organization_id__in=actor.clinical_organization_ids)
    qs = qs.filter(status=status) if status in OPEN_STATUSES else qs.filter(status__in=OPEN_STATUSES)
    if urgency:
        qs = qs.filter(urgency=urgency)
    rank = Case(*(When(urgency=u, then=Value(r)) for u, r in rules.URGENCY_RANK.items()),
                default=Value(len(rules.URGENCY_RANK)), output_field=IntegerField())
    rows: list[Referral] = list(_with_related(qs).annotate(urgency_rank=rank).order_by("urgency_rank", "received_at", "pk")[:limit])
    audit_disclosed(actor, rows, channel=channel)
    return rows


def referral_list_for(actor: Actor, *, sent_by_me: bool = False, status: str = "", channel: str = "web",
                      limit: int = 200) -> list[Referral]:
    """Recent referrals (all statuses) the actor may see; ``sent_by_me`` narrows to the actor's own."""
    qs = referral_queryset_for(actor)
    if sent_by_me:
        qs = qs.filter(referring_clinician_id=actor.user_id)
    if status in ReferralStatus.values:
        qs = qs.filter(status=status)
    rows = list(_with_related(qs).order_by("-received_at", "-pk")[:limit])
    audit_disclosed(actor, rows, channel=channel)
    return rows


def referral_search_for(actor: Actor, *, patient_id: int | None = None, statuses: list[str] | None = None,
                        requester_id: int | None = None, received_from: dt.datetime | None = None,
                        received_to: dt.datetime | None = None) -> QuerySet[Referral]:
    """Search for the FHIR and JSON doors (callers audit what they disclose)."""
    if actor.is_system and not actor.allows("ServiceRequest", "s"):
        raise Forbidden("Token scope does not allow searching referrals (ServiceRequest).")
    qs = _with_related(referral_queryset_for(actor))
    if patient_id is not None:
        qs = qs.filter(patient_id=patient_id)
    if statuses:
        qs = qs.filter(status__in=statuses)
    if requester_id is not None:
        qs = qs.filter(referring_clinician_id=requester_id)
    if received_from is not None:
        qs = qs.filter(received_at__gte=received_from)
    if received_to is not None:
        qs = qs.filter(received_at__lt=received_to)
    return qs.order_by("-received_at", "-pk")




# --- duplicate candidates ----------------------------------------------------------------------------


@dataclass(frozen=True)
class DuplicateCandidate:
    patient: Patient
    reasons: list[str]


def _facts_of_referral(referral: Referral) -> rules.PersonFacts:
    idents = frozenset({(referral.identifier_system, referral.identifier_value)}) if referral.identifier_value else (
        frozenset()
    )
    return rules.PersonFacts(referral.given_name, referral.family_name, referral.birth_date, idents)


def duplicate_candidates(actor: Actor, referral: Referral, *, channel: str = "web") -> list[DuplicateCandidate]:
    """Patients the actor may see who may be the person referred: same identifier, or same birth date and
    a matching name (see rules.duplicate_reasons).  The candidates shown are audited as a query."""
    prospect = _facts_of_referral(referral)
    q = Q()
    if referral.birth_date is not None:
        q |= Q(birth_date=referral.birth_date)
    if referral.identifier_value:
        q |= Q(identifiers__system=referral.identifier_system, identifiers__value=referral.identifier_value)
    if not q:
        return []
    pool = (
        patient_queryset_for(actor)
        .filter(q)
        .select_related("organization")
        .prefetch_related("identifiers")
        .distinct()[:200]
    )
    found: list[DuplicateCandidate] = []
    for patient in pool:
        facts = rules.PersonFacts(
            patient.given_name, patient.family_name, patient.birth_date,
            frozenset((i.system, i.value) for i in patient.identifiers.all()),
        )
        reasons = rules.duplicate_reasons(prospect, facts)
        if reasons:
            found.append(DuplicateCandidate(patient, reasons))
    found.sort(key=lambda c: (-len(c.reasons), c.patient.family_name, c.patient.given_name, c.patient.pk))
    if found:
        audit.log_patients_read(actor, [c.patient.pk for c in found], category="demographics",
                                resource_type="Patient", action=AuditAction.SEARCH, channel=channel)
    return found


def receiving_programs() -> QuerySet[Organization]:
    return Organization.objects.filter(kind=OrganizationKind.LEAD_PROGRAM, active=True).order_by("name")


# --- measures ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReferralMeasures:
    """Counts and timeliness of the referrals a program received in a period (no patient data)."""

    total: int
    by_status: dict[str, int]
    by_kind: dict[str, int]
    by_source: dict[str, int]  # how people heard of the program (awareness)
    by_month: dict[str, int]  # YYYY-MM of receipt, in the server's time zone
    median_days_to_first_contact: float | None
    median_days_to_acceptance: float | None
    median_days_to_first_appointment: float | None  # from receipt
    acceptance_rate: float | None  # accepted / decided (accepted + declined)
    p90_days_to_first_contact: float | None = None  # nearest-rank 90th percentile (rules.percentile)
    p90_days_to_first_appointment: float | None = None


def referral_measures_for(actor: Actor, *, start: dt.datetime, end: dt.datetime,
                          organization_id: int | None = None) -> ReferralMeasures:
    """Measures over referrals received in [start, end) by the actor's programs (clinical staff and
    program administrators)."""
    from django.utils import timezone

    require_triage_role(actor)
    orgs = actor.clinical_organization_ids
    if organization_id is not None:
        if organization_id not in orgs:
            raise Forbidden("Measures are available for your own programs only.")
        orgs = frozenset({organization_id})
    rows = list(
        Referral.objects.filter(receiving_organization_id__in=orgs, received_at__gte=start, received_at__lt=end)
        .values_list("status", "kind", "referral_source", "received_at", "first_contact_at", "accepted_at",
                     "first_appointment_at")
    )
    by_status: dict[str, int] = {}
    by_kind: dict[str, int] = {}
    by_source: dict[str, int] = {}
    by_month: dict[str, int] = {}
    for status, kind, source, received, *_ in rows:
        by_status[status] = by_status.get(status, 0) + 1
        by_kind[kind] = by_kind.get(kind, 0) + 1
        key = source or "unknown"
        by_source[key] = by_source.get(key, 0) + 1
        month = timezone.localtime(received).strftime("%Y-%m")
        by_month[month] = by_month.get(month, 0) + 1
    decided = by_status.get(ReferralStatus.ACCEPTED, 0) + by_status.get(ReferralStatus.DECLINED, 0)
    return ReferralMeasures(
        total=len(rows),
        by_status=by_status,
        by_kind=by_kind,
        by_source=dict(sorted(by_source.items(), key=lambda kv: (-kv[1], kv[0]))),
        by_month=dict(sorted(by_month.items())),
        median_days_to_first_contact=rules.median(rules.interval_days([(r[3], r[4]) for r in rows])),
        median_days_to_acceptance=rules.median(rules.interval_days([(r[3], r[5]) for r in rows])),
        median_days_to_first_appointment=rules.median(rules.interval_days([(r[3], r[6]) for r in rows])),
        acceptance_rate=by_status.get(ReferralStatus.ACCEPTED, 0) / decided if decided else None,
        p90_days_to_first_contact=rules.percentile(rules.interval_days([(r[3], r[4]) for r in rows]), 90),
        p90_days_to_first_appointment=rules.percentile(rules.interval_days([(r[3], r[6]) for r in rows]), 90),
    )
