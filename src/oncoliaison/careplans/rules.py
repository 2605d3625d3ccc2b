"""Pure care-plan rules: problem → goal → interventions → resources, barriers, transitions, resource matching.

No I/O.  Every rule is a row of a table below so that a navigator (and a reviewer) can read exactly why the plan
proposes what it proposes; each generated element carries its reasons.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from django.utils.translation import gettext, gettext_noop

from oncoliaison.assessments.rules import NEEDS, SERVICES

# --- playbook: need → goal, interventions, barrier, resource categories ------------------------------------------


@dataclass(frozen=True)
class Play:
    goal: str
    interventions: tuple[tuple[str, str], ...]  # (description, referral service or "")
    barrier: str = ""  # BarrierKind value opened for this need, if any
    resource_categories: tuple[str, ...] = ()
    target_days: int = 30


def goal_label(description: str, need: str) -> str:
    """A goal as the patient reads it: the playbook's goal in the reader's language when the goal still has
    the playbook's wording, else exactly as the care team wrote it."""
    play = PLAYBOOK.get(need)
    return gettext(play.goal) if play is not None and play.goal == description else description


PLAYBOOK: dict[str, Play] = {
    "emotional": Play(
        gettext_noop("Feel less distressed and better able to cope"),
        (("Refer to psychology / psychiatry for assessment and support", "psychology"),
         ("Offer a peer support group", "")),
        resource_categories=("counselling", "support_group"),
    ),
    "family-social": Play(
        gettext_noop("Have support at home and in relationships during treatment"),
        (("Refer to social work for family and relationship support", "social_work"),),
        resource_categories=("support_group", "counselling"),
    ),
    "communication": Play(
        gettext_noop("Understand the care team and know whom to call"),
        (("Review the care team, contacts and next appointments with the patient", ""),),
        resource_categories=("education",),
        target_days=14,
    ),
    "fertility": Play(
        gettext_noop("Discuss fertility preservation options before treatment"),
        (("Arrange a fertility discussion with the oncologist", ""),
         ("Refer to social work for support", "social_work")),
        resource_categories=("education", "counselling"),
        target_days=14,
    ),
    "caregiving": Play(
        gettext_noop("Have help with daily care for self and dependants"),
        (("Refer to social work to arrange home and caregiver support", "social_work"),),
        barrier="caregiving",
        resource_categories=("support_group",),
    ),
    "work": Play(
        gettext_noop("Keep work or school arrangements that fit treatment"),
        (("Refer to social work about leave, accommodations and benefits", "social_work"),),
        barrier="work",
        resource_categories=("education", "financial_assistance"),
    ),
    "housing": Play(
        gettext_noop("Have safe and stable housing during treatment"),
        (("Refer to social work for housing help", "social_work"),),
        barrier="housing",
        resource_categories=("lodging", "financial_assistance"),
        target_days=14,
    ),
    "financial": Play(
        gettext_noop("Reduce the financial burden of treatment"),
        (("Refer to financial counselling", "financial_counselling"),
         ("Screen for assistance programmes", "")),
        barrier="financial",
        resource_categories=("financial_assistance",),
    ),
    "insurance": Play(
        gettext_noop("Have insurance coverage for the planned treatment"),
        (("Refer to financial counselling for insurance review", "financial_counselling"),),
        barrier="insurance",
        resource_categories=("financial_assistance",),
        target_days=14,
    ),
    "medication-access": Play(
        gettext_noop("Get prescribed cancer medicines without gaps"),
        (("Refer to financial counselling for medicine assistance", "financial_counselling"),),
        barrier="financial",
        resource_categories=("financial_assistance",),
        target_days=7,
    ),
    "transportation": Play(
        gettext_noop("Get to every appointment"),
        (("Arrange transport to appointments", "social_work"),),
        barrier="transportation",
        resource_categories=("transport", "lodging"),
        target_days=7,
    ),
    "lodging": Play(
        gettext_noop("Have a place to stay near the treatment centre"),
        (("Arrange lodging for treatment days", "social_work"),),
        barrier="housing",
        resource_categories=("lodging",),
        target_days=14,
    ),
    "childcare": Play(
        gettext_noop("Have child care on treatment days"),
        (("Refer to social work for child-care help", "social_work"),),
        barrier="childcare",
        resource_categories=("financial_assistance", "support_group"),
        target_days=14,
    ),
    "food": Play(
        gettext_noop("Have enough food"),
        (("Refer to social work for food assistance", "social_work"),),
        barrier="food",
        resource_categories=("financial_assistance",),
        target_days=7,
    ),
    "utilities": Play(
        gettext_noop("Keep utilities on at home"),
        (("Refer to financial counselling for utility assistance", "financial_counselling"),),
        barrier="financial",
        resource_categories=("financial_assistance",),
        target_days=7,
    ),
    "safety": Play(
        gettext_noop("Be safe at home"),
        (("Social work safety assessment today", "social_work"),),
        resource_categories=("counselling",),
        target_days=1,
    ),
    "nutrition": Play(
        gettext_noop("Eat enough to keep strength during treatment"),
        (("Refer to the oncology dietitian", "dietitian"),),
        resource_categories=("education",),
        target_days=14,
    ),
    "spiritual": Play(
        gettext_noop("Find spiritual support that fits the patient's beliefs"),
        (("Refer to chaplaincy / spiritual care", "chaplaincy"),),
        resource_categories=("counselling", "support_group"),
    ),
    "genetics": Play(
        gettext_noop("Understand inherited cancer risk for the patient and family"),
        (("Refer to genetic counselling", "genetics"),),
        resource_categories=("education",),
    ),
    "symptoms": Play(
        gettext_noop("Have physical symptoms assessed and managed"),
        (("Tell the treating team about the reported symptoms", ""),),
        resource_categories=("education",),
        target_days=7,
    ),
    "tobacco": Play(
        gettext_noop("Stop or reduce tobacco use"),
        (("Offer tobacco cessation support", ""),),
        resource_categories=("education", "support_group"),
    ),
    "decision-support": Play(
        gettext_noop("Make treatment decisions that reflect the patient's values"),
        (("Arrange a decision discussion with the oncologist", ""),),
        resource_categories=("education",),
        target_days=14,
    ),
    "language": Play(
        gettext_noop("Communicate with the care team in the preferred language"),
        (("Book a qualified medical interpreter for every visit", ""),),
        barrier="language",
        resource_categories=("education",),
        target_days=7,
    ),
    "education": Play(
        gettext_noop("Understand the diagnosis and treatment plan"),
        (("Teach-back session on the diagnosis and treatment plan", ""),),
        barrier="health_literacy",
        resource_categories=("education",),
        target_days=14,
    ),
}

# Urgent needs give urgent tasks due the next day.
URGENT_NEEDS = frozenset({"safety"})


@dataclass(frozen=True)
class Need:
    """A need to plan for and why: from an assessment finding, an accepted referral or the patient record."""

    code: str
    reasons: tuple[str, ...]
    services: tuple[str, ...] = ()  # referral services the navigator accepted for this need


@dataclass(frozen=True)
class PlannedIntervention:
    description: str
    service: str
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class PlannedGoal:
    need: str
    description: str
    target_date: dt.date
    reasons: tuple[str, ...]
    interventions: tuple[PlannedIntervention, ...]
    task: str
    task_priority: str
    task_due: dt.date


@dataclass(frozen=True)
class PlannedBarrier:
    kind: str
    description: str
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class PlanDraft:
    goals: tuple[PlannedGoal, ...]
    barriers: tuple[PlannedBarrier, ...]
    notes: tuple[str, ...] = field(default=())


def collect_needs(
    findings: Iterable[tuple[str, str]],
    accepted_services: Mapping[str, Sequence[str]] | None = None,
    rejected_services: Iterable[str] = (),
    *,
    interpreter_needed: bool = False,
) -> tuple[Need, ...]:
    """Merge findings ``(need, label)`` into one Need per code, in first-seen order.

    ``accepted_services`` maps service → needs behind the suggestion the navigator accepted; a referral the
    navigator rejected is not planned.  A patient who needs an interpreter gets a language need.
    """
    reasons: dict[str, list[str]] = {}
    for need, label in findings:
        if need in NEEDS:
            reasons.setdefault(need, []).append(label)
    if interpreter_needed:
        reasons.setdefault("language", []).append("The patient record says an interpreter is needed.")
    services: dict[str, list[str]] = {}
    for service, needs in (accepted_services or {}).items():
        for need in needs:
            services.setdefault(need, []).append(service)
    rejected = frozenset(rejected_services)
    return tuple(
        Need(code, tuple(dict.fromkeys(r)), tuple(s for s in services.get(code, []) if s not in rejected))
        for code, r in reasons.items()
    )


def generate_plan(needs: Sequence[Need], *, today: dt.date, rejected_services: Iterable[str] = ()) -> PlanDraft:
    """problem → goal → interventions (→ resources, matched separately) → barriers, from the PLAYBOOK.

    * one goal per need with a play, target date = today + the play's days;
    * interventions of the play; a referral intervention whose service the navigator rejected is left out;
    * one follow-up task per goal, urgent and due tomorrow for urgent needs, else routine, due in 7 days;
    * one barrier per distinct barrier kind of the plays.
    """
    rejected = frozenset(rejected_services)
    goals: list[PlannedGoal] = []
    barriers: dict[str, PlannedBarrier] = {}
    notes: list[str] = []
    for need in needs:
        play = PLAYBOOK.get(need.code)
        if play is None:
            notes.append(f"No plan rule for need '{need.code}'; add goals by hand.")
            continue
        why = tuple(f"{NEEDS[need.code]}: {r}" for r in need.reasons)
        interventions = []
        for description, service in play.interventions:
            if service and service in rejected:
                notes.append(f"'{description}' left out: the navigator rejected the {SERVICES[service]} referral.")
                continue
            reason: tuple[str, ...] = (f"Rule {need.code} → {description}",)
            if service and service in need.services:
                reason += (f"{SERVICES[service]} referral accepted by the navigator.",)
            interventions.append(PlannedIntervention(description, service, reason))
        urgent = need.code in URGENT_NEEDS
        goals.append(PlannedGoal(
            need=need.code,
            description=play.goal,
            target_date=today + dt.timedelta(days=play.target_days),
            reasons=why,
            interventions=tuple(interventions),
            task=f"Follow up: {play.goal.lower()}",
            task_priority="urgent" if urgent else "routine",
            task_due=today + dt.timedelta(days=1 if urgent else 7),
        ))
        if play.barrier and play.barrier not in barriers:
            barriers[play.barrier] = PlannedBarrier(play.barrier, "; ".join(need.reasons)[:300], why)
    return PlanDraft(tuple(goals), tuple(barriers.values()), tuple(notes))


# --- transitions -----------------------------------------------------------------------------------------

TASK_TRANSITIONS: dict[str, frozenset[str]] = {
    "requested": frozenset({"accepted", "in-progress", "on-hold", "completed", "cancelled"}),
    "accepted": frozenset({"in-progress", "on-hold", "completed", "cancelled"}),
    "in-progress": frozenset({"on-hold", "completed", "cancelled"}),
    "on-hold": frozenset({"accepted", "in-progress", "cancelled"}),
    "completed": frozenset(),
    "cancelled": frozenset(),
}
TASK_OPEN = frozenset({"requested", "accepted", "in-progress", "on-hold"})

BARRIER_TRANSITIONS: dict[str, frozenset[str]] = {
    "open": frozenset({"in_progress", "resolved"}),
    "in_progress": frozenset({"open", "resolved"}),
    "resolved": frozenset({"open"}),  # reopened when the barrier comes back
}

CARE_PLAN_TRANSITIONS: dict[str, frozenset[str]] = {
    "draft": frozenset({"active", "revoked", "entered-in-error"}),
    "active": frozenset({"on-hold", "completed", "revoked", "entered-in-error"}),
    "on-hold": frozenset({"active", "completed", "revoked"}),
    "completed": frozenset(),
    "revoked": frozenset(),
    "entered-in-error": frozenset(),
}

GOAL_TRANSITIONS: dict[str, frozenset[str]] = {
    "proposed": frozenset({"active", "cancelled"}),
    "active": frozenset({"on-hold", "completed", "cancelled"}),
    "on-hold": frozenset({"active", "cancelled"}),
    "completed": frozenset({"active"}),
    "cancelled": frozenset(),
}


def can_transition(table: Mapping[str, frozenset[str]], current: str, target: str) -> bool:
    return target in table.get(current, frozenset())


def is_overdue(status: str, due: dt.date | None, today: dt.date) -> bool:
    return due is not None and status in TASK_OPEN and due < today


# --- cancer types and resource matching ---------------------------------------------------------------------

# Cancer-type keys used by the resource directory, with the SNOMED CT codes of patients' primary cancers that
# fall under each.  A resource with no cancer types is for any cancer.
CANCER_TYPES: dict[str, tuple[str, frozenset[str]]] = {
    "breast": ("Breast cancer", frozenset({"254837009"})),
    "lung": ("Lung cancer", frozenset({"254637007", "363358000"})),
    "colorectal": ("Colorectal cancer", frozenset({"363406005", "363351006"})),
    "prostate": ("Prostate cancer", frozenset({"399068003"})),
    "pancreas": ("Pancreatic cancer", frozenset({"363418001"})),
    "melanoma": ("Melanoma", frozenset({"372244006"})),
    "blood": ("Leukaemia, lymphoma and myeloma", frozenset({"93143009", "118600007", "109989006"})),
    "ovarian": ("Ovarian and gynaecological cancers", frozenset({"363443007"})),
}


def cancer_types_for(snomed_codes: Iterable[str]) -> frozenset[str]:
    codes = set(snomed_codes)
    return frozenset(key for key, (_, members) in CANCER_TYPES.items() if codes & members)


@dataclass(frozen=True)
class ResourceFacts:
    id: int
    name: str
    category: str
    needs: tuple[str, ...]
    cancer_types: tuple[str, ...]
    languages: tuple[str, ...]
    audience: str = "both"


@dataclass(frozen=True)
class Match:
    resource_id: int
    score: int
    reasons: tuple[str, ...]
    needs: tuple[str, ...]


def _base_language(code: str) -> str:
    return code.split("-")[0].lower()


def match_resources(
    resources: Iterable[ResourceFacts],
    *,
    needs: Sequence[str],
    language: str,
    cancer_types: Iterable[str],
    audience: str = "patients",
    limit: int = 10,
) -> tuple[Match, ...]:
    """Rank directory entries for a patient.  Transparent points, each with its reason:

    * +3 for each of the patient's needs the resource addresses, +1 for each category the playbook proposes for
      a need (a resource must address a need or a proposed category to be listed at all);
    * the resource must be offered in the patient's language (base language: "es-MX" matches "es"); resources
      that list no language are listed but lose 1 point ("language not stated");
    * a resource for specific cancer types is listed only if the patient has one of them (+2); one for any cancer
      gets nothing extra;
    * caregiver-only resources are left out of a patient's list, and the reverse.

    Ties break by name so the order is stable.
    """
    wanted_lang = _base_language(language or "en")
    patient_types = frozenset(cancer_types)
    need_set = list(dict.fromkeys(needs))
    proposed_categories: dict[str, list[str]] = {}
    for need in need_set:
        play = PLAYBOOK.get(need)
        for category in play.resource_categories if play else ():
            proposed_categories.setdefault(category, []).append(need)
    ranked: list[tuple[int, str, Match]] = []
    for r in resources:
        if audience == "patients" and r.audience == "caregivers":
            continue
        if audience == "caregivers" and r.audience == "patients":
            continue
        score = 0
        reasons: list[str] = []
        matched = [n for n in need_set if n in r.needs]
        for n in matched:
            score += 3
            reasons.append(f"Addresses {NEEDS.get(n, n).lower()}.")
        via_category = proposed_categories.get(r.category, [])
        if via_category:
            score += 1
            reasons.append(f"Suggested kind of help for {', '.join(NEEDS[n].lower() for n in via_category)}.")
        if not matched and not via_category:
            continue
        langs = {_base_language(code) for code in r.languages}
        if langs:
            if wanted_lang not in langs:
                continue
            reasons.append(f"Offered in the patient's language ({wanted_lang}).")
        else:
            score -= 1
            reasons.append("Language not stated.")
        if r.cancer_types:
            common = patient_types & set(r.cancer_types)
            if not common:
                continue
            score += 2
            reasons.append(f"For {', '.join(CANCER_TYPES[c][0] if c in CANCER_TYPES else c for c in sorted(common))}.")
        ranked.append((-score, r.name.casefold(), Match(r.id, score, tuple(reasons), tuple(matched or via_category))))
    ranked.sort(key=lambda t: (t[0], t[1]))
    return tuple(m for _, _, m in ranked[:limit])
