"""Pure rules of referral triage: the status transition table, queue order, duplicate matching and the
decline letter.  No database, no clock: callers pass what the rules need.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

from .models import DeclineReason, ReferralStatus, Urgency

S = ReferralStatus

# The referral's life: which status may follow which, and the action that moves it.
TRANSITIONS: dict[str, dict[str, str]] = {
    S.RECEIVED: {
        S.INFO_REQUESTED: "request_info",
        S.ACCEPTED: "accept",
        S.DECLINED: "decline",
        S.WITHDRAWN: "withdraw",
    },
    S.INFO_REQUESTED: {
        S.RECEIVED: "info_received",
        S.ACCEPTED: "accept",
        S.DECLINED: "decline",
        S.WITHDRAWN: "withdraw",
    },
    S.ACCEPTED: {},
    S.DECLINED: {},
    S.WITHDRAWN: {},
}

TERMINAL = frozenset(status for status, nexts in TRANSITIONS.items() if not nexts)


def can_transition(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, {})


def transition_error(current: str, target: str) -> str | None:
    """None when the move is allowed, else a sentence a navigator can act on."""
    if current not in TRANSITIONS or target not in TRANSITIONS:
        return f"Unknown referral status '{target if current in TRANSITIONS else current}'."
    if can_transition(current, target):
        return None
    labels = dict(ReferralStatus.choices)
    if current in TERMINAL:
        return f"The referral is already {str(labels[current]).lower()}; it cannot be changed."
    allowed = ", ".join(str(labels[s]).lower() for s in TRANSITIONS[current])
    return (
        f"A referral that is {str(labels[current]).lower()} cannot become {str(labels[target]).lower()} "
        f"(it can become: {allowed})."
    )


def allowed_actions(current: str) -> frozenset[str]:
    return frozenset(TRANSITIONS.get(current, {}).values())


# --- the triage queue -------------------------------------------------------------------------------

URGENCY_RANK: dict[str, int] = {Urgency.EMERGENT: 0, Urgency.URGENT: 1, Urgency.ROUTINE: 2}


def triage_sort_key(urgency: str, received_at: dt.datetime) -> tuple[int, dt.datetime]:
    """Most urgent first; within an urgency, the longest-waiting first."""
    return (URGENCY_RANK.get(urgency, len(URGENCY_RANK)), received_at)


# Targets for the first contact after receipt (program standard, in hours).
FIRST_CONTACT_TARGET_HOURS: dict[str, int] = {Urgency.EMERGENT: 4, Urgency.URGENT: 24, Urgency.ROUTINE: 72}


def first_contact_overdue(urgency: str, received_at: dt.datetime, first_contact_at: dt.datetime | None,
                          now: dt.datetime) -> bool:
    if first_contact_at is not None:
        return False
    hours = FIRST_CONTACT_TARGET_HOURS.get(urgency, FIRST_CONTACT_TARGET_HOURS[Urgency.ROUTINE])
    return now - received_at > dt.timedelta(hours=hours)


def milestone_error(name: str, at: dt.datetime, *, received_at: dt.datetime, now: dt.datetime,
                    allow_future: bool = False) -> str | None:
    """A recorded milestone may not precede the referral, nor (unless scheduled) lie in the future."""
    # Times are entered to the minute: the minute of receipt itself is accepted.
    if at < received_at.replace(second=0, microsecond=0):
        return f"The {name} cannot be before the referral was received."
    if not allow_future and at > now + dt.timedelta(minutes=5):
        return f"The {name} cannot be in the future."
    return None


# --- duplicate detection ------------------------------------------------------------------------------

_NON_LETTERS = re.compile(r"[^a-z]")


def normalise_name(name: str) -> str:
    """Case, accents, spaces, hyphens and apostrophes do not distinguish people: 'O'Brien-Núñez' ->
    'obriennunez'."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    ascii_only = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _NON_LETTERS.sub("", ascii_only)


@dataclass(frozen=True)
class PersonFacts:
    given_name: str
    family_name: str
    birth_date: dt.date | None
    identifiers: frozenset[tuple[str, str]] = frozenset()  # (system, value)


def duplicate_reasons(prospect: PersonFacts, existing: PersonFacts) -> list[str]:
    """Why ``existing`` may be the person described by ``prospect`` (empty: not a candidate)."""
    reasons: list[str] = []
    shared = {(s.strip(), v.strip()) for s, v in prospect.identifiers if v.strip()} & {
        (s.strip(), v.strip()) for s, v in existing.identifiers
    }
    if shared:
        reasons.append("Same identifier")
    same_birth = prospect.birth_date is not None and prospect.birth_date == existing.birth_date
    pf, ef = normalise_name(prospect.family_name), normalise_name(existing.family_name)
    pg, eg = normalise_name(prospect.given_name), normalise_name(existing.given_name)
    if same_birth and pf and pf == ef and pg and pg == eg:
        reasons.append("Same name and date of birth")
    elif same_birth and pf and pf == ef:
        reasons.append("Same family name and date of birth")
    elif same_birth and pf and pg and pf == eg and pg == ef:
        reasons.append("Same date of birth, given and family names swapped")
    elif same_birth and pg and pg == eg and pf and ef and (pf.startswith(ef) or ef.startswith(pf)):
        reasons.append("Same given name and date of birth, similar family name")
    return reasons


# --- the letter to the referrer ---------------------------------------------------------------------


def decline_letter(*, reason: str, message: str, person: str, referrer: str, program: str,
                   received_on: dt.date, program_contact: str = "", self_referral: bool = False) -> str:
    """Plain-text letter (or portal message) telling the referrer (for a self-referral: the person) that
    the referral was declined."""
    reason_label = dict(DeclineReason.choices).get(reason, reason)
    if self_referral:
        opening = (f"Thank you for contacting the {program} Cancer Liaison Program "
                   f"(your request of {received_on:%B %-d, %Y}).")
        refusal = f"We are unable to take up your request. Reason: {reason_label}."
    else:
        opening = (f"Thank you for referring {person} to the {program} Cancer Liaison Program "
                   f"(referral received {received_on:%B %-d, %Y}).")
        refusal = f"We are unable to accept this referral. Reason: {reason_label}."
    lines = [f"Dear {referrer or 'colleague'},", "", opening, "", refusal]
    if message.strip():
        lines += ["", message.strip()]
    lines += [
        "",
        "If the situation changes, or you would like to discuss this decision, please contact us"
        + (f" at {program_contact}." if program_contact else "."),
        "",
        "Sincerely,",
        f"{program} Cancer Liaison Program",
    ]
    return "\n".join(lines)


# --- measures (awareness and timeliness) -------------------------------------------------------------


def median(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def percentile(values: list[float], p: float) -> float | None:
    """The p-th percentile (0 < p <= 100) by the nearest-rank method: the smallest value such that at least
    p per cent of the values are at or below it (so p90 of ten values is the 9th smallest).  None when empty."""
    if not values:
        return None
    if not 0 < p <= 100:
        raise ValueError("p must be in (0, 100]")
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))  # ceil(n * p / 100), at least 1
    return ordered[int(rank) - 1]


def interval_days(pairs: list[tuple[dt.datetime | None, dt.datetime | None]]) -> list[float]:
    """Days between each (start, end) pair that has both ends, ignoring ends before starts."""
    return [(end - start).total_seconds() / 86400 for start, end in pairs
            if start is not None and end is not None and end >= start]


# --- documents sent with a reply ----------------------------------------------------------------------

MAX_REPLY_FILES = 5
MAX_REPLY_FILE_BYTES = 10 * 1024 * 1024
# What a reply may attach: the type is read from the file's first bytes, never from the browser's word.
REPLY_FILE_TYPES = {".pdf": "application/pdf", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png",
                    ".txt": "text/plain"}
_MAGIC = {"application/pdf": (b"%PDF-",), "image/jpeg": (b"\xff\xd8\xff",), "image/png": (b"\x89PNG\r\n\x1a\n",)}


def reply_file_problem(name: str, size: int, head: bytes) -> tuple[str, str]:
    """(content type, '') for an acceptable file, else ('', a sentence saying what is wrong with it)."""
    dot = name.rfind(".")
    extension = name[dot:].lower() if dot >= 0 else ""
    content_type = REPLY_FILE_TYPES.get(extension)
    if content_type is None:
        return "", (f"{name}: only PDF, JPEG, PNG or plain-text files can be attached.")
    if size <= 0:
        return "", f"{name}: the file is empty."
    if size > MAX_REPLY_FILE_BYTES:
        return "", f"{name}: the file is larger than {MAX_REPLY_FILE_BYTES // (1024 * 1024)} MB."
    if content_type == "text/plain":
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.start < len(head) - 4:  # a multi-byte character cut at the end of the sample is fine
                return "", f"{name}: the text file is not readable text (UTF-8)."
        if b"\x00" in head:
            return "", f"{name}: the text file is not readable text (UTF-8)."
        return content_type, ""
    if not head.startswith(_MAGIC[content_type]):
        return "", f"{name}: the content is not a {extension[1:].upper()} file."
    return content_type, ""
