"""The demo program: synthetic, clearly labelled data for trying OncoLiaison.

Every patient is generated here (``synthetic=True``, names from common-name lists, phone numbers in the
555-01xx fictional range, e-mail at example.org).  None is a real person.
"""

from __future__ import annotations

import datetime as dt
import random
import secrets

from django.db import transaction
from django.utils import timezone

from oncoliaison.accounts.models import User, UserKind
from oncoliaison.oncology.codes import CANCER_TYPES
from oncoliaison.oncology.demo import seed_cancer_record
from oncoliaison.oncology.models import ICD10CM, SNOMED, CancerCondition
from oncoliaison.organisations.models import Membership, Organization, OrganizationKind, Role
from oncoliaison.patients import models as patient_models

LEAD = "riverside-cancer-institute"

ORGANISATIONS = [
    (LEAD, "Riverside Cancer Institute", OrganizationKind.LEAD_PROGRAM, "Riverside", "OH"),
    ("st-brendan-regional", "St. Brendan Regional Hospital", OrganizationKind.PARTNER_HOSPITAL, "Millbrook", "OH"),
    ("lakeshore-community", "Lakeshore Community Hospital", OrganizationKind.PARTNER_HOSPITAL, "Port Clare", "OH"),
    ("hope-together", "Hope Together Cancer Alliance", OrganizationKind.ADVOCACY, "Riverside", "OH"),
    ("northfield-research", "Northfield University Cancer Research Center", OrganizationKind.RESEARCH, "Northfield", "OH"),
]

# username, given, family, org slug, role, title
STAFF = [
    ("clp", "Maria", "Alvarez", LEAD, Role.CLP, "Cancer Liaison Physician, surgical oncologist"),
    ("navigator", "Grace", "Okafor", LEAD, Role.NAVIGATOR, "Oncology nurse navigator"),
    ("navigator2", "Daniel", "Reyes", LEAD, Role.NAVIGATOR, "Oncology nurse navigator"),
    ("oncologist", "Samuel", "Chen", LEAD, Role.PHYSICIAN, "Medical oncologist"),
    ("surgeon", "Priya", "Raman", LEAD, Role.PHYSICIAN, "Surgical oncologist"),
    ("radonc", "Thomas", "Becker", LEAD, Role.PHYSICIAN, "Radiation oncologist"),
    ("socialworker", "Aisha", "Johnson", LEAD, Role.SOCIAL_WORKER, "Oncology social worker"),
    ("admin", "Linda", "Park", LEAD, Role.PROGRAM_ADMIN, "Cancer program administrator"),
    ("privacy", "Evelyn", "Brooks", LEAD, Role.PRIVACY_OFFICER, "Privacy officer"),
    ("partnerdoc", "Henry", "Walsh", "st-brendan-regional", Role.PHYSICIAN, "Hematologist-oncologist"),
    ("researcher", "Nadia", "Petrov", "northfield-research", Role.RESEARCHER, "Clinical research scientist"),
    ("advocate", "Rosa", "Delgado", "hope-together", Role.STAKEHOLDER_LIAISON, "Patient advocate"),
]

GIVEN_F = ["Emma", "Olivia", "Ava", "Sophia", "Mia", "Linda", "Patricia", "Barbara", "Susan", "Karen",
           "Nancy", "Betty", "Dorothy", "Sandra", "Ana", "Lucia", "Mei", "Fatima", "Keisha", "Ruth"]
GIVEN_M = ["James", "Robert", "John", "Michael", "William", "David", "Richard", "Joseph", "Charles", "Thomas",
           "Luis", "Carlos", "Wei", "Omar", "Darnell", "George", "Kenneth", "Paul", "Mark", "Steven"]
FAMILY = ["Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
          "Hernandez", "Lopez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin", "Lee",
          "Nguyen", "Walker", "Hall", "Allen", "Young", "King", "Wright", "Scott", "Green", "Baker"]
STREETS = ["Maple Ave", "Oak St", "River Rd", "Elm St", "Lakeview Dr", "Cedar Ln", "Main St", "Park Blvd"]


CANCERS = CANCER_TYPES
STAGES = ["I", "IA", "IB", "II", "IIA", "IIB", "III", "IIIA", "IIIB", "IV"]


def _org(slug: str) -> Organization:
    return Organization.objects.get(slug=slug)


@transaction.atomic
def _demo_contact_points(n: int) -> dict[str, object]:
    """The synthetic urgent and office lines of the n-th demo organisation, open Monday to Friday 8 to 17."""
    return {"urgent_phone": f"(555) 555-01{n * 2:02d}", "office_phone": f"(555) 555-01{n * 2 + 1:02d}",
            "office_first_day": 0, "office_last_day": 4, "office_opens": dt.time(8), "office_closes": dt.time(17)}


def seed_demo(*, patients: int = 40, rng_seed: int = 20261123) -> dict[str, str]:
    """Create the demo program; returns {username: password} for the demo log-ins."""
    rng = random.Random(rng_seed)  # noqa: S311 - reproducible demo data, not security
    password = "Demo-" + secrets.token_urlsafe(9)
    logins: dict[str, str] = {}
    for n, (slug, name, kind, city, state) in enumerate(ORGANISATIONS):
        cares = kind in (OrganizationKind.LEAD_PROGRAM, OrganizationKind.PARTNER_HOSPITAL)
        Organization.objects.create(
            slug=slug, name=name, kind=kind, city=city, state=state, country="US",
            phone=f"555-01{rng.randint(10, 99)}", email=f"info@{slug}.example.org",
            mrn_system=f"https://{slug}.example.org/fhir/mrn" if cares else "",
            # Synthetic contact points (fictional 555-01xx range, area code 555): what patients are told to call.
            **(_demo_contact_points(n) if cares else {}),
        )
    staff: dict[str, User] = {}
    for username, given, family, slug, role, title in STAFF:
        user = User.objects.create_user(
            username=username, password=password, first_name=given, last_name=family,
            email=f"{username}@{slug}.example.org", kind=UserKind.STAFF,
        )
        Membership.objects.create(user=user, organization=_org(slug), role=role, title=title)
        staff[username] = user
        logins[username] = password

    lead, partner = _org(LEAD), _org("st-brendan-regional")
    record_rng = random.Random(rng_seed + 1)  # noqa: S311 - its own stream: the rest of the demo stays the same
    today = timezone.localdate()
    for i in range(patients):
        cancer = rng.choice(CANCERS)
        gender = cancer.sex or rng.choice(["female", "male"])
        given = rng.choice(GIVEN_F if gender == "female" else GIVEN_M)
        family = rng.choice(FAMILY)
        age = rng.randint(28, 86)
        birth = today.replace(year=today.year - age) - dt.timedelta(days=rng.randint(0, 364))
        org = partner if i % 8 == 7 else lead
        spanish = rng.random() < 0.2
        patient = patient_models.Patient.objects.create(
            organization=org, given_name=given, family_name=family, birth_date=birth, gender=gender,
            phone=f"555-01{i % 100:02d}", email=f"{given.lower()}.{family.lower()}{i}@example.org",
            address_line=f"{rng.randint(10, 9999)} {rng.choice(STREETS)}", city="Riverside", state="OH",
            postal_code=f"45{rng.randint(100, 999)}", country="US",
            preferred_language="es" if spanish else "en", interpreter_needed=spanish and rng.random() < 0.5,
            synthetic=True,
        )
        patient_models.PatientIdentifier.objects.create(
            patient=patient, organization=org, system=org.mrn_system, value=f"{org.slug[:2].upper()}{100000 + i}",
            type_code=patient_models.IdentifierType.MRN,
        )
        diagnosed = today - dt.timedelta(days=rng.randint(10, 900))
        primary = CancerCondition.objects.create(
            patient=patient, code_system=SNOMED, code=cancer.snomed, display=cancer.display,
            body_site_system=SNOMED, body_site_code=cancer.site_code, body_site_display=cancer.site,
            diagnosed_on=diagnosed, stage_group=rng.choice(STAGES), verification_status="confirmed",
        )
        seed_cancer_record(record_rng, primary, staff=staff, today=today)
        if rng.random() < 0.3:
            CancerCondition.objects.create(
                patient=patient, category="comorbidity", code_system=ICD10CM, code="E11.9",
                display="Type 2 diabetes mellitus without complications", diagnosed_on=diagnosed - dt.timedelta(days=2000),
            )
        team = patient_models.CareTeam.objects.create(patient=patient, organization=org, name="Oncology care team")
        if org == lead:
            nav = staff["navigator"] if i % 2 == 0 else staff["navigator2"]
            members = [(nav, "Nurse navigator"), (staff["clp"], "Cancer Liaison Physician"),
                       (staff["oncologist"], "Medical oncologist")]
            if cancer.snomed in {"254837009", "363406005", "363418001"}:
                members.append((staff["surgeon"], "Surgical oncologist"))
            if cancer.snomed in {"254637007", "399068003"}:
                members.append((staff["radonc"], "Radiation oncologist"))
        else:
            members = [(staff["partnerdoc"], "Hematologist-oncologist")]
        for user, team_role in members:
            patient_models.CareTeamParticipant.objects.create(care_team=team, user=user, role=team_role, start=diagnosed)
        patient_models.Consent.objects.create(
            patient=patient, kind=patient_models.ConsentKind.TREATMENT, status=patient_models.ConsentStatus.ACTIVE,
            organization=org, period_start=diagnosed, recorded_by=staff["navigator"],
        )
        if org == partner and i % 16 == 7:
            # Shared with the lead program for a second opinion.
            patient_models.Consent.objects.create(
                patient=patient, kind=patient_models.ConsentKind.DATA_SHARING, status=patient_models.ConsentStatus.ACTIVE,
                organization=org, grantee_organization=lead, period_start=today - dt.timedelta(days=30),
                note="Second opinion at Riverside Cancer Institute",
            )
        if i == 0:
            # The first patient has a portal account and a caregiver with view-only proxy access.
            patient_user = User.objects.create_user(
                username="patient", password=password, first_name=given, last_name=family, kind=UserKind.PATIENT,
            )
            patient.user = patient_user
            patient.save(update_fields=["user"])
            caregiver = User.objects.create_user(
                username="caregiver", password=password, first_name="Sam", last_name=family, kind=UserKind.CAREGIVER,
            )
            patient_models.Consent.objects.create(
                patient=patient, kind=patient_models.ConsentKind.CAREGIVER_PROXY, status=patient_models.ConsentStatus.ACTIVE,
                organization=org, grantee_user=caregiver, proxy_scope=patient_models.ProxyScope.VIEW, period_start=today,
                note="Spouse; view-only proxy access",
            )
            logins["patient"] = password
            logins["caregiver"] = password
    seed_referrals(rng, lead=lead, partner=partner, staff=staff)
    seed_symptoms(rng, lead=lead)
    seed_needs_and_care_plans(rng, lead=lead, staff=staff)
    seed_messages()
    seed_boards(random.Random(rng_seed + 2), lead=lead, partner=partner, staff=staff)  # noqa: S311 - demo data
    seed_adherence_demo(lead=lead, partner=partner, staff=staff)
    return logins


# Demo referrals: (days ago, kind, urgency, status, referral source, cancer type, stage, services)
REFERRALS = [
    (2, "self", "routine", "received", "social_media", "Breast cancer", "", ["navigation"]),
    (3, "provider", "emergent", "received", "physician", "Non-small cell lung cancer", "IV",
     ["navigation", "medical_oncology", "tumor_board"]),
    (5, "provider", "urgent", "received", "physician", "Pancreatic cancer", "unknown",
     ["surgical_oncology", "second_opinion"]),
    (6, "self", "routine", "received", "web_search", "", "", ["navigation"]),
    (9, "self", "urgent", "received", "event", "Colon cancer", "", ["navigation", "financial_counseling"]),
    (14, "provider", "routine", "info_requested", "physician", "Prostate cancer", "II",
     ["radiation_oncology", "clinical_trials"]),
    (20, "self", "routine", "info_requested", "friend_family", "Melanoma", "", ["navigation"]),
    (33, "provider", "urgent", "accepted", "physician", "Malignant neoplasm of breast", "IIA",
     ["navigation", "surgical_oncology"]),
    (48, "self", "routine", "accepted", "advocacy_group", "Ovarian cancer", "", ["navigation", "genetic_counseling"]),
    (65, "provider", "routine", "accepted", "physician", "Leukemia", "", ["medical_oncology", "clinical_trials"]),
    (92, "self", "routine", "accepted", "social_media", "Lung cancer", "", ["navigation", "supportive_care"]),
    (118, "provider", "emergent", "accepted", "physician", "Colon cancer", "IIIB", ["navigation", "tumor_board"]),
    (75, "self", "routine", "declined", "other", "", "", ["navigation"]),
    (140, "provider", "routine", "declined", "physician", "Sarcoma", "unknown", ["second_opinion"]),
    (160, "self", "routine", "withdrawn", "web_search", "Thyroid cancer", "", ["navigation"]),
]


def seed_referrals(rng: random.Random, *, lead: Organization, partner: Organization, staff: dict[str, User]) -> None:
    """About fifteen referrals in every state, from every source, over the last months (for the triage
    queue and the awareness and timeliness measures).  Accepted ones are linked to demo patients, and most
    of them are enrolled in the program."""
    from django.utils import timezone

    from oncoliaison.programs.models import EpisodeStatus, ProgramEpisode
    from oncoliaison.referrals.models import DeclineReason, Referral, ReferralAttachment, ReferralStatusChange
    from oncoliaison.referrals.rules import decline_letter

    now = timezone.now()
    free_patients = list(patient_models.Patient.objects.filter(organization=lead, user__isnull=True).order_by("pk"))
    rng.shuffle(free_patients)
    nav, clp = staff["navigator"], staff["clp"]
    for n, (days, kind, urgency, status, source, cancer, stage, services) in enumerate(REFERRALS):
        received = now - dt.timedelta(days=days, hours=rng.randint(0, 8))
        provider = kind == "provider"
        referrer = staff["partnerdoc"] if provider and n % 3 else staff["oncologist"] if provider else None
        patient = free_patients.pop() if status == "accepted" and free_patients else None
        if patient is not None:
            given, family, birth = patient.given_name, patient.family_name, patient.birth_date
            gender = patient.gender
        else:
            gender = "female" if n % 2 else "male"
            given, family = rng.choice(GIVEN_F if gender == "female" else GIVEN_M), rng.choice(FAMILY)
            birth = today_minus_years(now.date(), rng.randint(30, 82), rng.randint(0, 364))
        r = Referral(
            kind=kind, status=status, urgency=urgency, receiving_organization=lead,
            referring_organization=(partner if referrer == staff["partnerdoc"] else lead) if provider else None,
            referring_clinician=referrer, given_name=given, family_name=family, birth_date=birth,
            gender=gender if provider else "",
            phone=f"555-01{50 + n:02d}", email=f"{given.lower()}.{family.lower()}.r{n}@example.org",
            patient=patient, cancer_type_text=cancer, stage_text=stage, requested_services=services,
            referral_source=source, received_at=received,
            reason=("Newly diagnosed; please coordinate work-up and treatment planning." if provider
                    else "I would like help understanding my diagnosis and finding the right specialists."),
        )
        history: list[tuple[str, str, str, dt.datetime, User | None, str]] = [
            ("", "received", "received", received, referrer, "")]
        contacted = received + dt.timedelta(hours=rng.randint(2, 70))
        accepted = received + dt.timedelta(days=rng.randint(1, 5))
        if status != "received":
            r.first_contact_at = contacted
            history.append(("received", "received", "first_contact", contacted, nav, "Phone call"))
        if status == "info_requested":
            r.info_request_message = "Please send the most recent pathology and imaging reports."
            history.append(("received", "info_requested", "info_requested", contacted + dt.timedelta(hours=1),
                            nav, r.info_request_message))
        elif status == "accepted":
            r.accepted_at = r.closed_at = accepted
            r.first_appointment_at = accepted + dt.timedelta(days=rng.randint(3, 14))
            history.append(("received", "accepted", "accepted", accepted, nav, "Linked to existing patient"))
            history.append(("accepted", "accepted", "first_appointment", accepted + dt.timedelta(hours=1), nav, ""))
        elif status == "declined":
            reason = DeclineReason.OUT_OF_SCOPE if provider else DeclineReason.UNABLE_TO_CONTACT
            r.declined_at = r.closed_at = declined = received + dt.timedelta(days=3)
            r.decline_reason = reason
            r.decline_message = decline_letter(
                reason=reason, message="", person=f"{given} {family}",
                referrer=referrer.get_full_name() if referrer else f"{given} {family}", program=lead.name,
                received_on=received.date(), program_contact=lead.phone, self_referral=not provider,
            )
            history.append(("received", "declined", "declined", declined, nav, str(reason.label)))
        elif status == "withdrawn":
            r.closed_at = withdrawn = received + dt.timedelta(days=2)
            history.append(("received", "withdrawn", "withdrawn", withdrawn, nav, "The person chose another program"))
        r.save()
        if provider:
            ReferralAttachment.objects.create(
                referral=r, name="Pathology report", content_type="application/pdf", size_bytes=184_320,
                document_date=(received - dt.timedelta(days=4)).date(),
                description="Listed by the referrer; the document stays with the referring hospital")
        ReferralStatusChange.objects.bulk_create([
            ReferralStatusChange(referral=r, at=at, by_user=by, by_label="" if by else "Public self-referral page"
                                 if kind == "self" and event == "received" else "", from_status=frm, to_status=to,
                                 event=event, note=note)
            for frm, to, event, at, by, note in history
        ])
        if patient is not None and n % 5 != 1:
            team = patient.care_teams.filter(organization=lead).first()
            ProgramEpisode.objects.create(
                patient=patient, organization=lead, status=EpisodeStatus.ACTIVE, period_start=accepted.date(),
                navigator=nav, clp=clp, referral=r, care_team=team,
            )


def today_minus_years(today: dt.date, years: int, days: int) -> dt.date:
    try:
        anniversary = today.replace(year=today.year - years)
    except ValueError:  # 29 February
        anniversary = today.replace(year=today.year - years, day=28)
    return anniversary - dt.timedelta(days=days)


def seed_symptoms(rng: random.Random, *, lead: Organization) -> int:
    """Symptom reports over the last 8 weeks for about ten patients, with schedules and a few open alerts."""
    from oncoliaison.monitoring.demo import seed_symptom_monitoring

    return seed_symptom_monitoring(rng, lead)


def seed_needs_and_care_plans(rng: random.Random, *, lead: Organization, staff: dict[str, User]) -> dict[str, int]:
    """About twenty resource-directory entries, and about ten lead-program patients with a needs assessment,
    decided referral suggestions and a care plan with tasks (some overdue) and barriers."""
    from oncoliaison.careplans.demo import seed_care_coordination

    return seed_care_coordination(rng, lead=lead, staff=staff)


def seed_messages() -> int:
    """Secure messages between the demo patient and their care team, and a staff discussion about them."""
    from oncoliaison.messaging.demo import seed_secure_messages

    return seed_secure_messages()


def seed_boards(rng: random.Random, *, lead: Organization, partner: Organization, staff: dict[str, User]) -> dict[str, int]:
    """A year of tumor-board conferences (a weekly thoracic board, an every-other-week breast board shared with
    the partner hospital) up to today, and the next meetings with their cases."""
    from oncoliaison.tumorboards.demo import seed_tumor_boards

    return seed_tumor_boards(rng, lead=lead, partner=partner, staff=staff)


def seed_adherence_demo(*, lead: Organization, partner: Organization, staff: dict[str, User]) -> dict[str, int]:
    """Pharmacy fills of oral anticancer drugs for a few patients: one adherent, one with gaps (a follow-up
    task), one on a capecitabine cycle with a missed cycle, and one at the partner hospital."""
    from oncoliaison.adherence.demo import seed_adherence

    return seed_adherence(lead=lead, partner=partner, staff=staff)
