"""The demo's secure messages are written through the services (routed, audited)."""

from __future__ import annotations

from oncoliaison.core.models import AuditEvent
from oncoliaison.messaging.demo import seed_secure_messages
from oncoliaison.messaging.models import Message, Thread, ThreadParticipant
from oncoliaison.testing import Cast


def test_demo_threads(cast: Cast) -> None:
    for user, name in ((cast.patient_user, "patient"), (cast.navigator, "navigator"), (cast.oncologist, "oncologist")):
        user.username = name
        user.save()
    assert seed_secure_messages() == 2
    patient_thread = Thread.objects.get(kind="patient")
    assert ThreadParticipant.objects.filter(thread=patient_thread, user=cast.navigator, role="navigator").exists()
    assert Thread.objects.get(kind="staff").patient == cast.pat
    assert Message.objects.count() == 3
    assert AuditEvent.objects.filter(category="messages", action="create").count() == 3


def test_demo_without_the_demo_people_does_nothing(db) -> None:
    assert seed_secure_messages() == 0
    assert not Thread.objects.exists()
