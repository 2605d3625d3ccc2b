"""Demo secure messages: a question from the demo patient answered by their navigator, and a staff
discussion about the same patient.  Written through the services, so they are audited like real ones."""

from __future__ import annotations

from oncoliaison.accounts.models import User
from oncoliaison.accounts.services import actor_for_user
from oncoliaison.patients.models import Patient

from . import services
from .models import ThreadKind


def seed_secure_messages() -> int:
    """Returns the number of threads created (0 when the demo patient or staff are missing)."""
    patient = Patient.objects.filter(user__username="patient").select_related("user").first()
    navigator = User.objects.filter(username="navigator").first()
    oncologist = User.objects.filter(username="oncologist").first()
    if patient is None or patient.user is None or navigator is None or oncologist is None:
        return 0
    me = actor_for_user(patient.user)
    nav = actor_for_user(navigator)
    question = services.thread_start(
        actor=me, kind=ThreadKind.PATIENT, patient=patient, subject="Question about my next infusion",
        body="Can I drive myself home after the next infusion, or should someone come with me?",
    )
    services.thread_mark_read(actor=nav, thread=question)
    services.message_post(
        actor=nav, thread=question,
        body="Please have someone drive you the first time: some people feel drowsy from the pre-medication. "
             "If nobody can come, tell me and I will arrange transport.",
    )
    services.thread_start(
        actor=nav, kind=ThreadKind.STAFF, patient=patient, participant_ids=[oncologist.pk],
        subject="Transport and infusion day",
        body="The patient may need transport on infusion days; could we add it to the plan?",
    )
    return 2
