"""The text of the secure-message e-mail notice (sent by messaging.tasks, in the recipient's language).

The notice never carries the message's content, subject, sender or patient — only that a secure message is
waiting, with a link to sign in."""

from __future__ import annotations

from django.utils.translation import gettext as _

from oncoliaison.core.notices import Notice


def message_waiting(link: str) -> Notice:
    """The same for everyone, whatever the message says."""
    return Notice(
        _("You have a new secure message"),
        _("You have a new secure message in OncoLiaison.\n\n"
          "For your privacy this e-mail does not include the message. Sign in to read it:\n%(link)s\n\n"
          "If you did not expect this e-mail, contact your care team by phone.") % {"link": link},
    )
