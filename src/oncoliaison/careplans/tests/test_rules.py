"""Care-plan rules: problem → goal → interventions → resources, barriers, transitions, matching."""

from __future__ import annotations

import datetime as dt

import pytest

from oncoliaison.assessments.rules import NEEDS, SERVICES
from oncoliaison.careplans import rules
from oncoliaison.careplans.models import (
    ActivityStatus,
    BarrierKind,
    BarrierStatus,
    CarePlanStatus,
    GoalStatus,
    ResourceCategory,
    TaskStatus,
)

TODAY = dt.date(2026, 11, 23)


def test_every_play_uses_known_needs_services_barriers_and_categories() -> None:
    for need, play in rules.PLAYBOOK.items():
        assert need in NEEDS
        for _, service in play.interventions:
            assert service == "" or service in SERVICES
        assert play.barrier == "" or play.barrier in BarrierKind.values
        assert set(play.resource_categories) <= set(ResourceCategory.values)


def test_every_need_has_a_play() -> None:
    assert set(NEEDS) == set(rules.PLAYBOOK)


def test_collect_needs_merges_reasons_and_adds_interpreter_need() -> None:
    needs = rules.collect_needs(
        [("financial", "Practical: Finances"), ("financial", "Practical: Insurance"), ("emotional", "Fear"),
         ("not-a-need", "ignored")],
        {"financial_counselling": ["financial"]},
        interpreter_needed=True,
    )
    assert [n.code for n in needs] == ["financial", "emotional", "language"]
    assert needs[0].reasons == ("Practical: Finances", "Practical: Insurance")
    assert needs[0].services == ("financial_counselling",)
    assert needs[2].reasons == ("The patient record says an interpreter is needed.",)


def test_generation_problem_to_goal_to_interventions_to_barrier() -> None:
    needs = rules.collect_needs([("transportation", "Practical: Transportation"), ("financial", "Practical: Finances")])
    draft = rules.generate_plan(needs, today=TODAY)
    transport, money = draft.goals
    assert transport.description == "Get to every appointment"
    assert transport.target_date == TODAY + dt.timedelta(days=7)
    assert transport.reasons == ("Transportation: Practical: Transportation",)
    assert [i.service for i in transport.interventions] == ["social_work"]
    assert transport.task_priority == "routine"
    assert transport.task_due == TODAY + dt.timedelta(days=7)
    assert [i.description for i in money.interventions] == ["Refer to financial counselling",
                                                            "Screen for assistance programmes"]
    assert [b.kind for b in draft.barriers] == ["transportation", "financial"]
    assert draft.barriers[0].description == "Practical: Transportation"


def test_generation_opens_each_barrier_kind_once() -> None:
    needs = rules.collect_needs([("financial", "a"), ("utilities", "b"), ("medication-access", "c")])
    draft = rules.generate_plan(needs, today=TODAY)
    assert len(draft.goals) == 3
    assert [b.kind for b in draft.barriers] == ["financial"]


def test_safety_need_gives_an_urgent_task_due_tomorrow() -> None:
    draft = rules.generate_plan(rules.collect_needs([("safety", "Safety total 12")]), today=TODAY)
    (goal,) = draft.goals
    assert goal.task_priority == "urgent"
    assert goal.task_due == TODAY + dt.timedelta(days=1)
    assert draft.barriers == ()


def test_rejected_referral_is_left_out_with_a_note() -> None:
    needs = rules.collect_needs([("emotional", "Worry")], rejected_services=["psychology"])
    draft = rules.generate_plan(needs, today=TODAY, rejected_services=["psychology"])
    assert [i.description for i in draft.goals[0].interventions] == ["Offer a peer support group"]
    assert "rejected the Psychology / psychiatry referral" in draft.notes[0]


def test_accepted_referral_is_named_in_the_intervention_reasons() -> None:
    needs = rules.collect_needs([("spiritual", "Meaning")], {"chaplaincy": ["spiritual"]})
    draft = rules.generate_plan(needs, today=TODAY)
    assert "Chaplaincy / spiritual care referral accepted by the navigator." in draft.goals[0].interventions[0].reasons


def test_no_needs_no_goals() -> None:
    assert rules.generate_plan((), today=TODAY) == rules.PlanDraft((), (), ())


# --- transitions ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("table, statuses", [
    (rules.TASK_TRANSITIONS, TaskStatus.values),
    (rules.BARRIER_TRANSITIONS, BarrierStatus.values),
    (rules.CARE_PLAN_TRANSITIONS, CarePlanStatus.values),
    (rules.GOAL_TRANSITIONS, GoalStatus.values),
])
def test_transition_tables_cover_exactly_the_model_statuses(table: dict, statuses: list[str]) -> None:
    assert set(table) == set(statuses)
    for targets in table.values():
        assert targets <= set(statuses)


@pytest.mark.parametrize(("current", "target", "allowed"), [
    ("requested", "completed", True),
    ("requested", "in-progress", True),
    ("in-progress", "completed", True),
    ("on-hold", "in-progress", True),
    ("completed", "in-progress", False),  # done is done: open a new task
    ("cancelled", "requested", False),
    ("in-progress", "requested", False),
])
def test_task_transitions(current: str, target: str, allowed: bool) -> None:
    assert rules.can_transition(rules.TASK_TRANSITIONS, current, target) is allowed


@pytest.mark.parametrize(("current", "target", "allowed"), [
    ("open", "in_progress", True), ("open", "resolved", True), ("in_progress", "resolved", True),
    ("resolved", "open", True), ("resolved", "in_progress", False),
])
def test_barrier_transitions(current: str, target: str, allowed: bool) -> None:
    assert rules.can_transition(rules.BARRIER_TRANSITIONS, current, target) is allowed


def test_overdue_only_for_open_tasks_past_due() -> None:
    assert rules.is_overdue("requested", TODAY - dt.timedelta(days=1), TODAY)
    assert not rules.is_overdue("requested", TODAY, TODAY)
    assert not rules.is_overdue("completed", TODAY - dt.timedelta(days=5), TODAY)
    assert not rules.is_overdue("in-progress", None, TODAY)


def test_activity_status_values_are_fhir_codes() -> None:
    assert set(ActivityStatus.values) <= {"not-started", "scheduled", "in-progress", "on-hold", "completed",
                                          "cancelled", "stopped", "unknown", "entered-in-error"}


# --- resource matching ------------------------------------------------------------------------------------------


def _r(i: int, name: str, category: str, needs=(), cancer=(), langs=("en",), audience="both") -> rules.ResourceFacts:
    return rules.ResourceFacts(i, name, category, tuple(needs), tuple(cancer), tuple(langs), audience)


DIRECTORY = [
    _r(1, "Ride line", "transport", needs=["transportation"], langs=["en", "es"]),
    _r(2, "Gas card fund", "financial_assistance", needs=["transportation", "financial"], langs=["en"]),
    _r(3, "Breast peer group", "support_group", needs=["emotional"], cancer=["breast"], langs=["en", "es"]),
    _r(4, "Lung peer group", "support_group", needs=["emotional"], cancer=["lung"], langs=["en"]),
    _r(5, "Counselling centre", "counselling", needs=["emotional"], langs=[]),
    _r(6, "Caregiver circle", "support_group", needs=["emotional"], audience="caregivers"),
    _r(7, "Lodging house", "lodging", needs=["lodging"], langs=["en", "es"]),
]


def test_matching_ranks_by_needs_language_and_cancer_type_with_reasons() -> None:
    matches = rules.match_resources(DIRECTORY, needs=["transportation", "emotional"], language="en",
                                    cancer_types={"breast"})
    order = [m.resource_id for m in matches]
    # Breast group: need 3 + category 1 + cancer 2 = 6; ride line: 3 + 1 = 4; gas card: 3 + 1 (financial
    # assistance is not proposed for these needs → 0) = 3; counselling: 3 + 1 - 1 (language not stated) = 3;
    # lodging: category only (transport need proposes lodging) = 1.
    assert order[:2] == [3, 1]
    assert 4 not in order  # lung-only group
    assert 6 not in order  # caregivers only
    breast = matches[0]
    assert breast.score == 6
    assert "For Breast cancer." in breast.reasons
    counselling = next(m for m in matches if m.resource_id == 5)
    assert "Language not stated." in counselling.reasons


def test_matching_requires_the_patients_language() -> None:
    matches = rules.match_resources(DIRECTORY, needs=["transportation"], language="es-MX", cancer_types=set())
    ids = [m.resource_id for m in matches]
    assert 1 in ids and 2 not in ids  # gas card is English-only
    assert "Offered in the patient's language (es)." in matches[0].reasons


def test_matching_without_a_need_match_lists_nothing() -> None:
    assert rules.match_resources(DIRECTORY, needs=["genetics"], language="en", cancer_types=set()) == ()


def test_matching_for_caregivers_skips_patient_only_entries() -> None:
    matches = rules.match_resources(
        [*DIRECTORY, _r(8, "Patient class", "education", needs=["emotional"], audience="patients")],
        needs=["emotional"], language="en", cancer_types=set(), audience="caregivers")
    ids = [m.resource_id for m in matches]
    assert 6 in ids and 8 not in ids


def test_cancer_types_from_snomed_codes() -> None:
    assert rules.cancer_types_for(["254837009"]) == {"breast"}
    assert rules.cancer_types_for(["93143009", "254637007"]) == {"blood", "lung"}
    assert rules.cancer_types_for(["0000"]) == frozenset()
