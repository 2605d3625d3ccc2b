"""Demo needs assessments, care plans and resource directory (called from demo.seed).

About twenty fictional, clearly generic directory entries; about ten lead-program patients with a distress or
social-needs screen, decided referral suggestions, a care plan with tasks (some overdue, some done) and barriers
(some resolved).  Everything goes through the services, so the audit log reads like real use.
"""

from __future__ import annotations

import datetime as dt
import random

from oncoliaison.accounts.models import User
from oncoliaison.accounts.services import actor_for_user
from oncoliaison.assessments import services as assessment_services
from oncoliaison.assessments.selectors import current_version
from oncoliaison.core import clock
from oncoliaison.core.actor import Actor
from oncoliaison.instruments.models import Instrument
from oncoliaison.organisations.models import Organization
from oncoliaison.patients.models import Patient

from . import services, workload
from .models import Barrier, CarePlan, Task

# name, category, needs, languages, cancer types, cost, audience, eligibility
RESOURCES: list[tuple[str, str, list[str], list[str], list[str], str, str, str]] = [
    ("Understanding Your Diagnosis — patient booklet", "education", ["education", "decision-support"], ["en", "es"],
     [], "free", "both", "Anyone treated at the program."),
    ("Chemotherapy: What to Expect — class", "education", ["education", "symptoms"], ["en", "es"], [], "free",
     "both", "Patients starting chemotherapy and one companion."),
    ("Eating Well During Treatment — dietitian handout", "education", ["nutrition"], ["en", "es"], [], "free",
     "patients", ""),
    ("Inherited Cancer Risk — family guide", "education", ["genetics"], ["en"], ["breast", "ovarian", "colorectal"],
     "free", "both", ""),
    ("Quit Tobacco Coaching Line", "counselling", ["tobacco"], ["en", "es"], [], "free", "patients",
     "Adults who use any tobacco product."),
    ("Breast Cancer Peer Support Circle", "support_group", ["emotional", "family-social"], ["en"], ["breast"],
     "free", "patients", "Meets twice a month."),
    ("Lung Cancer Peer Support Circle", "support_group", ["emotional"], ["en"], ["lung"], "free", "patients", ""),
    ("Grupo de Apoyo para Pacientes con Cáncer", "support_group", ["emotional", "family-social"], ["es"], [],
     "free", "both", "Para pacientes y familiares."),
    ("Caregivers' Evening Circle", "support_group", ["caregiving", "emotional"], ["en"], [], "free", "caregivers",
     "Family members and friends caring for someone with cancer."),
    ("Young Adults with Cancer Meet-up", "support_group", ["emotional", "fertility", "work"], ["en"], [], "free",
     "patients", "Ages 18 to 39."),
    ("Oncology Counselling Service", "counselling", ["emotional", "family-social"], ["en", "es"], [], "insurance",
     "both", "Referral from the care team."),
    ("Spiritual Care and Chaplaincy Visits", "counselling", ["spiritual"], ["en", "es"], [], "free", "both",
     "Any faith or none."),
    ("Treatment Cost Assistance Fund", "financial_assistance", ["financial", "medication-access"], ["en", "es"], [],
     "free", "patients", "Household income under 400% of the federal poverty level."),
    ("Insurance Enrollment Help Desk", "financial_assistance", ["insurance"], ["en", "es"], [], "free", "both", ""),
    ("Utility Bill Relief Programme", "financial_assistance", ["utilities", "financial"], ["en"], [], "free",
     "patients", "Residents of the county with a shut-off notice."),
    ("Community Food Pantry Partnership", "financial_assistance", ["food", "nutrition"], ["en", "es"], [], "free",
     "both", "No paperwork needed."),
    ("Child Care Grants for Treatment Days", "financial_assistance", ["childcare"], ["en"], [], "free", "patients",
     "Parents of children under 13."),
    ("Volunteer Ride Programme", "transport", ["transportation"], ["en", "es"], [], "free", "patients",
     "Book 3 working days ahead."),
    ("Fuel and Parking Card Scheme", "transport", ["transportation", "financial"], ["en"], [], "free", "patients",
     "Patients living over 25 miles away."),
    ("Treatment-Week Lodging House", "lodging", ["lodging", "housing"], ["en", "es"], [], "sliding", "both",
     "Patients in daily treatment living over 40 miles away."),
]

# (instrument, answers) — varied but fixed, so the demo reads the same every time.
SCREENS: list[tuple[str, dict[str, list[str]]]] = [
    ("nccn-dt", {"distress": ["7"], "problems-emotional": ["worry", "fear"],
                 "problems-practical": ["transportation", "finances"]}),
    ("ahc-hrsn-core", {"living-situation": ["steady"], "housing-problems": ["none"], "food-worry": ["sometimes-true"],
                       "food-ran-out": ["never-true"], "transportation": ["yes"], "utilities": ["no"],
                       "safety-hurt": ["never"], "safety-insult": ["never"], "safety-threaten": ["never"],
                       "safety-scream": ["never"]}),
    ("nccn-dt", {"distress": ["3"], "problems-physical": ["fatigue", "sleep"]}),
    ("nccn-dt", {"distress": ["6"], "problems-practical": ["insurance", "child-care"],
                 "problems-spiritual": ["meaning"]}),
    ("ahc-hrsn-core", {"living-situation": ["worried"], "housing-problems": ["mold"], "food-worry": ["never-true"],
                       "food-ran-out": ["never-true"], "transportation": ["no"], "utilities": ["already-shut-off"],
                       "safety-hurt": ["never"], "safety-insult": ["rarely"], "safety-threaten": ["never"],
                       "safety-scream": ["rarely"]}),
    ("nccn-dt", {"distress": ["8"], "problems-emotional": ["sadness", "loneliness"],
                 "problems-physical": ["eating"], "problems-program": ["inherited-risk"]}),
    ("nccn-dt", {"distress": ["5"], "problems-social": ["partner"], "problems-practical": ["work"]}),
    ("ahc-hrsn-core", {"living-situation": ["steady"], "housing-problems": ["none"], "food-worry": ["never-true"],
                       "food-ran-out": ["never-true"], "transportation": ["no"], "utilities": ["no"],
                       "safety-hurt": ["never"], "safety-insult": ["never"], "safety-threaten": ["never"],
                       "safety-scream": ["never"]}),
    ("nccn-dt", {"distress": ["4"], "problems-practical": ["transportation", "medicine"]}),
    ("nccn-dt", {"distress": ["9"], "problems-emotional": ["worry"], "problems-practical": ["housing", "food"]}),
]


def _record_demo_permission(admin: Actor, lead: Organization) -> None:
    assessment_services.instrument_permission_set(
        actor=admin, instrument=Instrument.objects.get(code="nccn-dt"), organization_id=lead.pk,
        data=assessment_services.PermissionData(
            enabled=True, permission_reference="DEMO ONLY - not a real permission",
            permission_holder=lead.name, granted_on=clock.today() - dt.timedelta(days=120),
            note="Demonstration with synthetic data. Obtain NCCN's written permission before any clinical or "
                 "commercial use."),
        channel="cli",
    )


def seed_care_coordination(rng: random.Random, *, lead: Organization, staff: dict[str, User],
                           patients: int = 10) -> dict[str, int]:
    """Create the demo directory, assessments and plans; returns counts."""
    assessment_services.instruments_load_bundled(actor=Actor(kind="system", username="cli:seed-demo"))
    admin = actor_for_user(staff["admin"])
    _record_demo_permission(admin, lead)
    for name, category, needs, languages, cancer_types, cost, audience, eligibility in RESOURCES:
        services.resource_create(actor=admin, organization_id=lead.pk, channel="cli", data=services.ResourceData(
            name=name, category=category, needs=needs, languages=languages, cancer_types=cancer_types, cost=cost,
            audience=audience, eligibility=eligibility, contact="Cancer resource centre, ground floor",
            phone=f"555-01{rng.randint(10, 99)}", description=f"Fictional demo entry: {name.lower()}."))
    versions = {code: current_version(Instrument.objects.get(code=code)) for code in ("nccn-dt", "ahc-hrsn-core")}
    today = clock.today()
    counts = {"assessments": 0, "care_plans": 0, "resources": len(RESOURCES)}
    chosen = list(Patient.objects.filter(organization=lead).order_by("id")[:patients])
    for n, patient in enumerate(chosen):
        navigator_user = staff["navigator"] if n % 2 == 0 else staff["navigator2"]
        nav = actor_for_user(navigator_user)
        code, answers = SCREENS[n % len(SCREENS)]
        days_ago = 5 + 4 * n
        authored = clock.now() - dt.timedelta(days=days_ago)
        version = versions[code]
        assert version is not None
        assessment = assessment_services.assessment_submit(
            actor=nav, patient=patient, version=version, answers=answers, authored_at=authored,
            note="Completed with the patient at the navigation visit.", channel="cli")
        counts["assessments"] += 1
        for i, suggestion in enumerate(assessment.suggestions.order_by("service")):
            if n == 8:
                break  # one screen with undecided suggestions, for the navigator to work on
            if i == 2 and n % 3 == 0:
                assessment_services.suggestion_decide(actor=nav, suggestion=suggestion, accept=False,
                                                      note="Patient prefers to wait", channel="cli")
            else:
                assessment_services.suggestion_decide(actor=nav, suggestion=suggestion, accept=True, channel="cli")
        if n in (2, 7):
            continue  # negative screens without a plan
        plan = services.care_plan_generate(actor=nav, patient=patient, assessment=assessment, channel="cli")
        counts["care_plans"] += 1
        if n % 4 != 3:
            plan = services.care_plan_set_status(actor=nav, plan=plan, status="active", channel="cli")
        # Let the plan have started when the assessment was done: move its dates back together.
        start = (authored.date() if authored.date() < today else today)
        shift = (today - start).days
        CarePlan.objects.filter(pk=plan.pk).update(period_start=start)
        tasks = list(Task.objects.filter(care_plan=plan).order_by("id"))
        for t in tasks:
            if t.due_date:
                Task.objects.filter(pk=t.pk).update(due_date=t.due_date - dt.timedelta(days=shift))
        Barrier.objects.filter(care_plan=plan).update(identified_at=start)
        workload.mark_stale([plan.patient_id])  # the due dates moved outside the task services
        if tasks and n % 3 == 1:
            services.task_complete(actor=nav, task=Task.objects.get(pk=tasks[0].pk), note="Done at the visit",
                                   channel="cli")
        if len(tasks) > 1 and n % 2 == 0:
            services.task_transition(actor=nav, task=Task.objects.get(pk=tasks[1].pk), status="in-progress",
                                     channel="cli")
        barrier = Barrier.objects.filter(care_plan=plan).order_by("id").first()
        if barrier is not None and n % 3 == 0:
            services.barrier_resolve(actor=nav, barrier=barrier, resolution="Arranged with the resource centre",
                                     channel="cli")
        elif barrier is not None:
            services.barrier_update(actor=nav, barrier=barrier, status="in_progress",
                                    actions="Called the patient; application started", channel="cli")
    return counts

