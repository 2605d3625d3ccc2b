"""The texts of the portal's e-mail notices (sent by portal.services in the person's language)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from oncoliaison.core.notices import Notice

from .models import InvitationKind


def invitation(link: str, kind: str) -> Notice:
    """A patient's or caregiver's invitation to set up a portal account (a one-time link, 7 days)."""
    if kind == InvitationKind.CAREGIVER:
        intro = _("Someone has invited you to help with their care through the OncoLiaison portal.")
    else:
        intro = _("Your care team has invited you to the OncoLiaison patient portal.")
    return Notice(
        _("Your invitation to the OncoLiaison portal"),
        _("%(intro)s\n\nTo set up your account, open this link within 7 days:\n%(link)s\n\n"
          "The link works once. If you did not expect this e-mail, you can ignore it.") % {"intro": intro, "link": link},
    )


def access_given(link: str) -> Notice:
    """To a caregiver who already has an account and was given proxy access."""
    return Notice(
        _("You have been given access in the OncoLiaison portal"),
        _("Someone has given you access to help with their care in the OncoLiaison portal.\n\n"
          "Sign in to see it:\n%(link)s") % {"link": link},
    )
