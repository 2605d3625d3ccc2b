"""The demo program's needs assessments, care plans and resource directory."""

from __future__ import annotations

import pytest

from oncoliaison.accounts.services import actor_for_user
from oncoliaison.assessments.models import Assessment, ReferralSuggestion
from oncoliaison.careplans import rules, selectors
from oncoliaison.careplans.models import Barrier, CarePlan, Resource, Task
from oncoliaison.core import clock
from oncoliaison.core.audit import verify_chain
from oncoliaison.demo.seed import LEAD, seed_demo
from oncoliaison.organisations.models import Organization
from oncoliaison.patients.models import Patient


@pytest.mark.django_db
def test_demo_has_assessments_plans_overdue_tasks_barriers_and_a_directory() -> None:
    seed_demo(patients=16)
    lead = Organization.objects.get(slug=LEAD)
    assert Resource.objects.filter(organization=lead).count() == 20
    assert Assessment.objects.count() == 10
    assert Assessment.objects.filter(positive=True).count() >= 6
    assert ReferralSuggestion.objects.filter(status="accepted").exists()
    assert ReferralSuggestion.objects.filter(status="rejected").exists()
    assert ReferralSuggestion.objects.filter(status="proposed").exists()
    # Eight plans from the needs assessments; the tumor-board demo drafts one for a patient with board
    # recommendations and no plan yet (its tasks come from the board).
    assert CarePlan.objects.filter(source_assessment__isnull=False).count() == 8
    assert not CarePlan.objects.filter(source_assessment__isnull=True).exclude(
        tasks__board_recommendation__isnull=False).exists()
    assert CarePlan.objects.filter(status="active").exists() and CarePlan.objects.filter(status="draft").exists()
    today = clock.today()
    overdue = [t for t in Task.objects.all() if rules.is_overdue(t.status, t.due_date, today)]
    assert overdue
    assert Task.objects.filter(status="completed").exists()
    assert Barrier.objects.filter(status="resolved").exists()
    assert Barrier.objects.filter(status="in_progress").exists()
    assert verify_chain()[1] is None
    # The portal patient (first lead patient) gets recommendations.
    portal_patient = Patient.objects.get(user__username="patient")
    recs = selectors.recommended_resources_for(actor_for_user(portal_patient.user), portal_patient)
    assert recs and all(r.reasons for r in recs)
