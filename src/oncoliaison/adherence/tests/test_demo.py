"""The adherence demo: fills for lead-program and partner patients, a cyclic regimen and a follow-up task."""

from __future__ import annotations

from oncoliaison.adherence.models import AdherenceMeasure, Dispense
from oncoliaison.demo.seed import seed_demo


def test_demo_adherence(db):  # type: ignore[no-untyped-def]
    seed_demo(patients=24)
    orgs = set(Dispense.objects.values_list("patient__organization__slug", flat=True))
    assert orgs == {"riverside-cancer-institute", "st-brendan-regional"}
    assert AdherenceMeasure.objects.filter(cyclic=True, in_denominator=True).exists()
    assert AdherenceMeasure.objects.filter(adherent=True).exists()
    assert AdherenceMeasure.objects.filter(adherent=False, follow_up_task__isnull=False).exists()
