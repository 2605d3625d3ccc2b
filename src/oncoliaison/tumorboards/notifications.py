"""The texts of tumor-board e-mail notices.  Like every notice (core.notices) they name no patient and no
clinical content: only that something waits, with a link to the page where a signed-in person reads it."""

from __future__ import annotations

from oncoliaison.core.notices import Notice

from .models import BoardNotice

_WHAT: dict[str, str] = {
    BoardNotice.Kind.CASE_ACCEPTED: "A case you submitted is on a tumor board agenda.",
    BoardNotice.Kind.CASE_DEFERRED: "A case you submitted to a tumor board was deferred.",
    BoardNotice.Kind.CASE_DECLINED: "A case you submitted to a tumor board was declined.",
    BoardNotice.Kind.INVITED: "You are invited to a tumor board meeting.",
    BoardNotice.Kind.PRESENTING: "You present a case at a tumor board meeting.",
    BoardNotice.Kind.RECOMMENDATION: "A tumor board recommendation was assigned to you.",
}


def board_notice(kind: str, link: str) -> Notice:
    what = _WHAT.get(kind, "There is news from a tumor board.")
    return Notice(subject="OncoLiaison: tumor board", body=f"{what}\n\nSign in to read it: {link}\n")
