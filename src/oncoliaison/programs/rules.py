"""Pure rules of program episodes: the status transition table (FHIR EpisodeOfCare statuses)."""

from __future__ import annotations

from .models import EpisodeStatus

E = EpisodeStatus

TRANSITIONS: dict[str, frozenset[str]] = {
    E.PLANNED: frozenset({E.ACTIVE, E.CANCELLED}),
    E.ACTIVE: frozenset({E.ONHOLD, E.FINISHED, E.CANCELLED}),
    E.ONHOLD: frozenset({E.ACTIVE, E.FINISHED, E.CANCELLED}),
    E.FINISHED: frozenset(),
    E.CANCELLED: frozenset(),
}

ENDING = frozenset({E.FINISHED, E.CANCELLED})


def can_transition(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, frozenset())


def transition_error(current: str, target: str) -> str | None:
    if current not in TRANSITIONS or target not in TRANSITIONS:
        return "Unknown episode status."
    if can_transition(current, target):
        return None
    labels = dict(EpisodeStatus.choices)
    if not TRANSITIONS[current]:
        return f"The episode is {str(labels[current]).lower()}; it cannot change."
    allowed = ", ".join(str(labels[s]).lower() for s in sorted(TRANSITIONS[current]))
    return f"An episode that is {str(labels[current]).lower()} cannot become {str(labels[target]).lower()} " \
           f"(it can become: {allowed})."
