"""The daily concordance check derives, from the treatments recorded, whether recommendations were followed."""

from __future__ import annotations

import datetime as dt

from oncoliaison.accounts.services import actor_for_user
from oncoliaison.core import clock, schedule
from oncoliaison.core.models import AuditEvent
from oncoliaison.oncology.models import Medication
from oncoliaison.tumorboards import services
from oncoliaison.tumorboards.models import Concordance, Recommendation

from .conftest import Board


def _held_case_with(board: Board, kinds: list[str]) -> None:
    clp = actor_for_user(board.clp)
    case = services.case_submit(actor=actor_for_user(board.cast.oncologist), meeting=board.meeting,
                                data=services.CaseData(patient_id=board.cast.pat.pk, question="Q", prospective=True))
    services.case_decide(actor=clp, case=case, decision="accept")
    services.meeting_start(actor=clp, meeting=board.meeting)
    for kind in kinds:
        services.recommendation_add(actor=clp, case=case, data=services.RecommendationData(kind=kind,
                                                                                            description=kind))
    services.meeting_close(actor=clp, meeting=board.meeting)


def test_the_job_marks_followed_from_the_record_and_keeps_manual_values(board: Board) -> None:
    _held_case_with(board, ["systemic", "surgery", "genetics"])
    Medication.objects.create(patient=board.cast.pat, source_type="MedicationRequest", code_system="rxnorm",
                              code="56946", display="Paclitaxel", status="active", intent_code="373808002",
                              start=board.meeting.starts_at + dt.timedelta(days=10))
    surgery = Recommendation.objects.get(kind="surgery")
    services.concordance_override(actor=actor_for_user(board.clp), recommendation=surgery, value="not_followed",
                                  reason="Patient declined surgery")
    now = clock.now() + dt.timedelta(days=30)
    results = {r.name: r for r in schedule.run_all(now)}
    assert results["tumor board concordance"].summary == "cases checked: 1"
    got = {r.kind: (r.concordance, r.concordance_manual) for r in Recommendation.objects.all()}
    assert got == {"systemic": (Concordance.FOLLOWED, False), "surgery": (Concordance.NOT_FOLLOWED, True),
                   "genetics": (Concordance.NOT_APPLICABLE, False)}
    assert AuditEvent.objects.filter(username="job:tumor-board-concordance", action="read").exists()
    # Nothing is due again the same day: the job is cheap when there is nothing to do.
    assert {r.name: r.summary for r in schedule.run_all(now)}["tumor board concordance"] == "cases checked: 0"
