"""Demo treatment adherence (called from demo.seed): synthetic pharmacy fills of oral anticancer drugs for a
few lead-program patients and one partner-hospital patient, recorded through the services as a pharmacy
batch would be, so the figures, the follow-up tasks and the audit log read like real use.

Drug codes are RxNorm as the cancer record's demo uses them (oncology.codes.MEDICATIONS), and capecitabine
(RxNorm ingredient 194000) on a 14-days-on, 7-off cycle.  The dates and supplies are made up for the demo.
"""

from __future__ import annotations

import datetime as dt

from oncoliaison.accounts.models import User
from oncoliaison.accounts.services import actor_for_user
from oncoliaison.core import clock
from oncoliaison.organisations.models import Organization
from oncoliaison.patients.models import Patient

from . import services

ANASTROZOLE = ("84857", "anastrozole")
GEFITINIB = ("349472", "gefitinib 250 MG Oral Tablet")
CAPECITABINE = ("194000", "capecitabine")


def _daily(patient: Patient, drug: tuple[str, str], first: dt.date, gaps: dict[int, int], count: int,
           days: int = 30) -> list[services.DispenseData]:
    """``count`` fills of ``days``' supply from ``first``; ``gaps`` adds days of delay before fill n."""
    out: list[services.DispenseData] = []
    day = first
    for n in range(count):
        day += dt.timedelta(days=gaps.get(n, 0))
        out.append(services.DispenseData(*drug, dispensed_on=day, days_supply=days, quantity_unit="tablet",
                                          source_system="urn:example:demo-pharmacy", source_id=f"{patient.pk}-{drug[0]}-{day}"))
        day += dt.timedelta(days=days)
    return out


def seed_adherence(*, lead: Organization, partner: Organization, staff: dict[str, User]) -> dict[str, int]:
    today = clock.today()
    nav, partner_doc = actor_for_user(staff["navigator"]), actor_for_user(staff["partnerdoc"])
    lead_patients = list(Patient.objects.filter(organization=lead).order_by("pk")[:6])
    partner_patient = Patient.objects.filter(organization=partner).order_by("pk").first()
    start = today - dt.timedelta(days=420)
    counts = {"dispenses": 0, "regimens": 0}
    if len(lead_patients) >= 3:
        plans = [
            (lead_patients[0], _daily(lead_patients[0], ANASTROZOLE, start, {5: 4, 9: 3}, 14)),  # adherent, a few days late twice
            (lead_patients[2], _daily(lead_patients[2], GEFITINIB, today - dt.timedelta(days=200), {2: 45, 4: 30}, 5)),  # gaps
        ]
        for patient, fills in plans:
            fills = [f for f in fills if f.dispensed_on <= today]
            counts["dispenses"] += len(services.dispenses_record_many(
                actor=nav, items=[(patient, f) for f in fills], channel="demo"))
        cyclic = lead_patients[1]
        cycle_start = today - dt.timedelta(days=21 * 8)
        services.regimen_set(actor=nav, patient=cyclic, channel="demo", data=services.RegimenData(
            *CAPECITABINE, starts_on=cycle_start, days_on=14, days_off=7, note="Capecitabine, 21-day cycles"))
        counts["regimens"] += 1
        fills = [services.DispenseData(*CAPECITABINE, dispensed_on=cycle_start + dt.timedelta(days=21 * k),
                                       days_supply=14, quantity_unit="tablet") for k in range(8) if k != 5]
        counts["dispenses"] += len(services.dispenses_record_many(
            actor=nav, items=[(cyclic, f) for f in fills], channel="demo"))
    if partner_patient is not None:
        fills = [f for f in _daily(partner_patient, ANASTROZOLE, today - dt.timedelta(days=150), {}, 5) if f.dispensed_on <= today]
        counts["dispenses"] += len(services.dispenses_record_many(
            actor=partner_doc, items=[(partner_patient, f) for f in fills], channel="demo"))
    return counts
