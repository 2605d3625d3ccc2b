"""The texts of account e-mail notices.  No patient information, ever."""

from __future__ import annotations

from oncoliaison.core.notices import Notice


def sign_in_paused(name: str, what: str) -> Notice:
    """To a person whose sign-in was paused after wrong passwords or codes (accounts.lockout)."""
    return Notice(
        "Sign-in to your OncoLiaison account was paused",
        f"Hello {name},\n\nSomeone tried to sign in to OncoLiaison with your user name and a wrong password or "
        f"code: {what}\n\nIf this was you, wait and try again, or ask your program administrator for a new "
        "password. If it was not you, tell your program administrator.\n\n"
        "This message contains no patient information.",
    )
