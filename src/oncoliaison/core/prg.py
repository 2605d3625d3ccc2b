"""Post/redirect/get for every state-changing page (see ``core.middleware.IdempotencyMiddleware``).

A successful form POST redirects to a page of its own, so that reloading what the person sees (F5) is a
GET and sends nothing again.  Two helpers:

- :func:`renders_on_post` marks the few views whose POST legitimately answers with a page (searches that
  POST to keep identifiers out of URLs); the test settings fail any other POST that answers 200 with a page.
- :func:`stash` / :func:`take` carry a one-time secret (a new account's password, an invitation link)
  across the redirect: encrypted in the server-side session and removed when the next page shows it, so a
  reload says it was shown once instead of showing it again or issuing another.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest

from . import crypto

_PREFIX = "prg-once:"


def renders_on_post(view: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a page view whose POST answers with a page because it only searches (nothing changes)."""
    view.renders_on_post = True  # type: ignore[attr-defined]  # a marker on the view function
    return view


def stash(request: HttpRequest, name: str, data: dict[str, Any]) -> None:
    request.session[_PREFIX + name] = crypto.encrypt(json.dumps(data))


def take(request: HttpRequest, name: str) -> dict[str, Any] | None:
    """The stashed data once (then gone), or None."""
    token = request.session.pop(_PREFIX + name, None)
    if not token:
        return None
    data: dict[str, Any] = json.loads(crypto.decrypt(token))
    return data
