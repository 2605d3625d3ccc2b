"""Pure rules of the patient record (no database): who may break the glass, and the care-team role names a
patient reads in their language (roles are entered as text; the roles programs use are a short, known list,
shown in the reader's language; anything else is shown as entered)."""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext, gettext_noop

from oncoliaison.organisations.models import ADMIN_ROLES, CARE_DELIVERING_KINDS, PATIENT_CARE_ROLES

JUSTIFICATION_MIN = 20


def emergency_access_organizations(memberships: tuple[tuple[int, str, str], ...],
                                   care_delivering: dict[int, str]) -> frozenset[int] | None:
    """Organisations whose patients a person may open by breaking the glass.

    ``memberships``: the person's (organisation, role, kind); ``care_delivering``: every active organisation
    that treats patients (id → kind).  A clinician of a treating organisation may open a patient of any
    treating organisation of the network (the patient in front of them); an administrator only a patient of
    the organisation they administer.  Researchers, liaisons and privacy officers never.  None: everywhere in
    ``care_delivering``."""
    clinician = any(role in PATIENT_CARE_ROLES and kind in CARE_DELIVERING_KINDS for _, role, kind in memberships)
    if clinician:
        return None
    return frozenset(org for org, role, kind in memberships if role in ADMIN_ROLES and kind in CARE_DELIVERING_KINDS)


def emergency_access_errors(*, reason: str, justification: str, reasons: set[str]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if reason not in reasons:
        errors["reason"] = ["Choose the reason from the list."]
    if len(justification.strip()) < JUSTIFICATION_MIN:
        errors["justification"] = [f"Say in a sentence (at least {JUSTIFICATION_MIN} characters) why you need this "
                                   "record now; the privacy officer reads it."]
    return errors


def emergency_access_expiry(started_at: dt.datetime, minutes: int) -> dt.datetime:
    return started_at + dt.timedelta(minutes=max(1, minutes))


# The care-team roles of the program (as entered by staff, compared without case).
CARE_ROLES: tuple[str, ...] = (
    gettext_noop("Nurse navigator"),
    gettext_noop("Patient navigator"),
    gettext_noop("Medical oncologist"),
    gettext_noop("Radiation oncologist"),
    gettext_noop("Surgical oncologist"),
    gettext_noop("Surgeon"),
    gettext_noop("Oncologist"),
    gettext_noop("Cancer Liaison Physician"),
    gettext_noop("Social worker"),
    gettext_noop("Primary care physician"),
    gettext_noop("Oncology nurse"),
    gettext_noop("Pharmacist"),
    gettext_noop("Dietitian"),
    gettext_noop("Psychologist"),
    gettext_noop("Palliative care physician"),
    gettext_noop("Financial counselor"),
)
_BY_LOWER = {role.lower(): role for role in CARE_ROLES}


def care_role_label(role: str) -> str:
    """``role`` in the active language when it is a known care-team role, else exactly as entered."""
    known = _BY_LOWER.get(role.strip().lower())
    return gettext(known) if known else role
