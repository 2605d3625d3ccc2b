"""The demo's cancer records are rich enough to try the oncology summary on, and the summary is reachable
from the patient page, the navigator's worklist and the symptom alerts."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from oncoliaison.accounts.models import User
from oncoliaison.demo.seed import seed_demo
from oncoliaison.monitoring.models import Alert
from oncoliaison.oncology.models import (
    CancerCondition,
    CancerStage,
    ClinicalObservation,
    Medication,
    PerformanceStatus,
)
from oncoliaison.patients.models import Patient


@pytest.fixture
def demo(db) -> None:  # type: ignore[no-untyped-def]
    seed_demo(patients=24)


def _share(model: type, total: int) -> float:
    return model.objects.values("patient").distinct().count() / total  # type: ignore[attr-defined]


def test_most_demo_patients_have_stage_biomarkers_treatment_and_performance_status(demo: None) -> None:
    total = Patient.objects.count()
    assert _share(CancerStage, total) >= 0.6
    assert _share(ClinicalObservation, total) >= 0.6
    assert _share(Medication, total) >= 0.75
    assert _share(PerformanceStatus, total) >= 0.7
    # every stage row says what it is and how it was staged, with codes from the tables
    assert not CancerStage.objects.filter(value_display="").exists()
    assert set(CancerStage.objects.values_list("system_code", flat=True)) == {"897275008"}
    # leukaemia is not TNM-staged
    assert not CancerStage.objects.filter(patient__conditions__code="93143009").exists()


def test_the_oncology_summary_is_linked_from_worklist_and_alerts(demo: None) -> None:
    client = Client()
    client.force_login(User.objects.get(username="navigator"))
    worklist = client.get(reverse("worklists:worklist")).content.decode()
    some = CancerCondition.objects.filter(patient__organization__slug="riverside-cancer-institute").first()
    assert some is not None
    assert "Oncology summary" in worklist and "/oncology/patients/" in worklist
    alerts = client.get(reverse("monitoring:worklist")).content.decode()
    alert = Alert.objects.filter(patient__organization__slug="riverside-cancer-institute").first()
    assert alert is not None
    assert "Oncology summary" in alerts and "/oncology/patients/" in alerts
    detail = client.get(reverse("monitoring:alert_detail", args=[alert.pk])).content.decode()
    assert reverse("oncology:summary", args=[alert.patient_id]) in detail
    summary = client.get(reverse("oncology:summary", args=[alert.patient_id])).content.decode()
    assert "http://snomed.info/sct" not in summary and "http://loinc.org" not in summary
