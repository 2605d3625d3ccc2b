"""Pure rules about organisations (no database): which changes alter referral routing, and the contact
points patients are told to call.

Contact points: each care-delivering organisation has an urgent line (answered day and night: severe symptoms, fever on
chemotherapy) and an office line with its hours; a patient's care team may override either number.  Every
page that tells a patient to "call" renders these through one tag (``organisations.templatetags``), as a
``tel:`` link; where no number is configured patients see the 911/988 safety wording and staff see a
configuration warning, never "call us" with nothing to call.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext as _

from .models import OrganizationKind

# Kinds whose existence or state changes where patients' requests go: a public self-referral or a provider
# referral that names no program goes to the network's lead cancer program.  Adding one, turning one on or
# off, or changing an organisation into or out of one is for a platform administrator only.
ROUTING_KINDS = frozenset({OrganizationKind.LEAD_PROGRAM})


def changes_routing(*, old_kind: str | None, new_kind: str, old_active: bool | None, new_active: bool) -> bool:
    """Whether creating (``old_kind`` None) or changing an organisation this way changes referral routing."""
    if old_kind is None:
        return new_kind in ROUTING_KINDS
    if old_kind != new_kind:
        return old_kind in ROUTING_KINDS or new_kind in ROUTING_KINDS
    return new_kind in ROUTING_KINDS and old_active != new_active


ROUTING_REFUSAL = ("Only a platform administrator can add, switch on or off, or change the kind of a lead cancer "
                   "program: it changes where referrals and self-referrals go.")


# --- contact points ------------------------------------------------------------------------------------

_PHONE_CHARS = re.compile(r"^\+?[0-9 ().\-]{7,40}$")


def phone_error(value: str) -> str:
    """Why ``value`` cannot be dialled ('' when it can): digits with spaces, dots, dashes or brackets, an
    optional leading +, 10 digits for a North American number (or 7 to 15 with a country code)."""
    value = value.strip()
    if not value:
        return ""
    digits = re.sub(r"\D", "", value)
    if not _PHONE_CHARS.match(value):
        return "Use digits, spaces, dashes, dots or brackets, e.g. (312) 555-0142 or +1 312 555 0142."
    if value.startswith("+"):
        return "" if 7 <= len(digits) <= 15 else "An international number has 7 to 15 digits after the +."
    if len(digits) == 10 or (len(digits) == 11 and digits.startswith("1")):
        return ""
    return "Enter the full number with its area code (10 digits), e.g. (312) 555-0142."


def tel_uri(value: str) -> str:
    """The RFC 3966 ``tel:`` URI of a number that passed :func:`phone_error` (North American by default)."""
    digits = re.sub(r"\D", "", value)
    if value.strip().startswith("+"):
        return f"tel:+{digits}"
    if len(digits) == 10:
        digits = "1" + digits
    return f"tel:+{digits}"


@dataclass(frozen=True)
class OfficeHours:
    first_day: int  # 0 = Monday … 6 = Sunday
    last_day: int
    opens: dt.time
    closes: dt.time

    def text(self) -> str:
        """e.g. "Monday to Friday, 08:00 to 17:00", in the active language (weekday names from Django)."""
        opens, closes = self.opens.strftime("%H:%M"), self.closes.strftime("%H:%M")
        if self.first_day == self.last_day:
            return _("%(day)s, %(opens)s to %(closes)s") % {
                "day": WEEKDAYS[self.first_day], "opens": opens, "closes": closes}
        return _("%(first)s to %(last)s, %(opens)s to %(closes)s") % {
            "first": WEEKDAYS[self.first_day], "last": WEEKDAYS[self.last_day], "opens": opens, "closes": closes}


def hours_error(first_day: int | None, last_day: int | None, opens: dt.time | None,
                closes: dt.time | None) -> str:
    given = [v is not None for v in (first_day, last_day, opens, closes)]
    if not any(given):
        return ""
    if not all(given):
        return "Give the office's first and last day and its opening and closing times (or none of them)."
    assert opens is not None and closes is not None
    if opens >= closes:
        return "The office must close after it opens."
    return ""


@dataclass(frozen=True)
class ContactPoints:
    """What a patient is told to call, and whose numbers they are."""

    organisation: str
    urgent_phone: str = ""
    office_phone: str = ""
    hours: OfficeHours | None = None
    source: str = "organisation"  # or "care team" when the team overrides a number

    @property
    def urgent_tel(self) -> str:
        return tel_uri(self.urgent_phone) if self.urgent_phone else ""

    @property
    def office_tel(self) -> str:
        return tel_uri(self.office_phone) if self.office_phone else ""

    @property
    def hours_text(self) -> str:
        return self.hours.text() if self.hours else ""

    @property
    def missing(self) -> list[str]:
        """What is not configured (for the staff warning)."""
        return [name for name, value in (("urgent line", self.urgent_phone), ("office line", self.office_phone))
                if not value]


def merge(organisation: ContactPoints, team_urgent: str = "", team_office: str = "") -> ContactPoints:
    """A care team's own numbers override the organisation's; hours stay the office's."""
    if not team_urgent and not team_office:
        return organisation
    return ContactPoints(
        organisation=organisation.organisation,
        urgent_phone=team_urgent or organisation.urgent_phone,
        office_phone=team_office or organisation.office_phone,
        hours=organisation.hours,
        source="care team",
    )
