"""PRO-CTCAE items ask NCI's own questions with NCI's response options (the terms of use forbid altering
the items); the item library's short labels stay for staff views and charts.

Expected wording: NCI PRO-CTCAE item library, English, v1.0 (https://healthcaredelivery.cancer.gov/pro-ctcae/),
as carried by public implementations cross-checked in instruments/data/PROVENANCE.md.
"""

from __future__ import annotations

import csv

import pytest
from django.urls import reverse

from oncoliaison.instruments.models import InstrumentItem
from oncoliaison.monitoring.instruments import proctcae_wording
from oncoliaison.monitoring.rules import DATA_DIR
from oncoliaison.testing import Cast

NEVER = ["Never", "Rarely", "Occasionally", "Frequently", "Almost constantly"]
NONE = ["None", "Mild", "Moderate", "Severe", "Very severe"]
NOT_AT_ALL = ["Not at all", "A little bit", "Somewhat", "Quite a bit", "Very much"]


def _item(link_id: str) -> InstrumentItem:
    return InstrumentItem.objects.get(version__instrument__code="pro-ctcae", version__current=True, link_id=link_id)


@pytest.mark.parametrize(("link_id", "text", "options"), [
    ("PROCTCAE_48A_SCL", "In the last 7 days, how OFTEN did you have PAIN?", NEVER),
    ("PROCTCAE_48B_SCL", "In the last 7 days, what was the SEVERITY of your PAIN at its WORST?", NONE),
    ("PROCTCAE_48C_SCL", "In the last 7 days, how much did PAIN INTERFERE with your usual or daily activities?",
     NOT_AT_ALL),
    ("PROCTCAE_24A_IND", "In the last 7 days, did you have any RASH?", ["No", "Yes"]),
    ("PROCTCAE_27A_SCL", "In the last 7 days, did you have any HAIR LOSS?", NOT_AT_ALL),
    ("PROCTCAE_59A_SCL", "In the last 7 days, did you have any UNUSUAL VAGINAL DISCHARGE?", NOT_AT_ALL),
    ("PROCTCAE_46A_SCL", "In the last 7 days, what was the SEVERITY of your PROBLEMS WITH CONCENTRATION at their "
     "WORST?", NONE),
    ("PROCTCAE_63A_SCL", "In the last 7 days, were there times when you had to URINATE FREQUENTLY?", NEVER),
    ("PROCTCAE_19B_SCL", "In the last 7 days, how much did your SHORTNESS OF BREATH INTERFERE with your usual or "
     "daily activities?", NOT_AT_ALL),
])
def test_items_carry_ncis_wording_and_response_options(db, link_id: str, text: str, options: list[str]) -> None:
    item = _item(link_id)
    assert item.text == text
    assert item.options == options


def test_short_labels_stay_for_staff_views(db) -> None:
    assert _item("PROCTCAE_48A_SCL").short_label == "Pain Frequency"
    assert _item("PROCTCAE_27A_SCL").short_label == "Hair Loss Amount"


def test_every_library_item_has_its_own_question() -> None:
    """All 124 items of the library (GP5, a general item, is not a symptom item) have a wording row, each a
    question in the 7-day recall, and no row is a short label."""
    with (DATA_DIR / "proctcae_items_from_ProAE_1.0.4.csv").open(newline="") as fh:
        names = [r["name"] for r in csv.DictReader(fh) if r["name"] != "GP5"]
    wording = proctcae_wording()
    assert sorted(wording) == sorted(names) and len(names) == 124
    assert all(t.startswith("In the last 7 days, ") and t.endswith("?") for t in wording.values())


def test_patient_answers_the_published_question_with_the_published_options(cast: Cast) -> None:
    import datetime as dt

    from django.test import Client

    from oncoliaison.instruments.models import Instrument
    from oncoliaison.monitoring.services import PermissionData, instrument_permission_record

    pro = Instrument.objects.get(code="pro-ctcae")
    instrument_permission_record(
        actor=cast.actor(cast.admin), instrument=pro, organization_id=cast.lead.pk,
        data=PermissionData(granted_by="National Cancer Institute", reference="Letter 2026-01",
                            granted_on=dt.date(2026, 1, 2)),
    )
    c = Client()
    c.force_login(cast.patient_user)
    html = c.get(reverse("portal:report"), {"instrument": "pro-ctcae", "term": ["27", "48", "57"]}).content.decode()
    assert "In the last 7 days, how OFTEN did you have PAIN?" in html
    assert "In the last 7 days, did you have any HAIR LOSS?" in html
    assert "In the last 7 days, did you have any IRREGULAR MENSTRUAL PERIODS?" in html
    assert "Pain Frequency" not in html and "Hair Loss Amount" not in html
    hair = html[html.index("HAIR LOSS?"):html.index("SEVERITY of your ITCHY") if "ITCHY" in html else None]
    assert all(f">{o}</label>" in hair or f"> {o}</label>" in hair or o in hair for o in NOT_AT_ALL)
    assert "Quite a lot" not in html and "A little<" not in html
    # A presence item offers Yes before No, as printed, and its "Not applicable" answer.
    periods = html[html.index("IRREGULAR MENSTRUAL PERIODS?"):]
    assert periods.index("Yes") < periods.index("No") and "Not applicable" in periods
