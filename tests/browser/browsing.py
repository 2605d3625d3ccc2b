"""Helpers shared by the browser tests (fixtures are in conftest.py beside this file)."""

from __future__ import annotations

import os
import re
from pathlib import Path

from playwright.sync_api import expect

# Debian's Chromium, never a downloaded browser; the flags keep it off the (closed) network.
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
TABLET = {"width": 1180, "height": 820}
PHONE = {"width": 390, "height": 844}

HTMX_BUSY = re.compile(r"htmx-(request|swapping|settling|added)")


def watch_problems(page, problems: list[str] | None = None) -> list[str]:  # type: ignore[no-untyped-def]
    """Collect what a user should never meet: console errors, uncaught exceptions, failed requests."""
    found: list[str] = [] if problems is None else problems
    page.on("console", lambda msg: found.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: found.append(str(exc)))
    page.on("response", lambda r: found.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    return found


SIGN_IN_EN = ("User name", "Password", "Sign in")
SIGN_IN_ES = ("Nombre de usuario", "Contraseña", "Iniciar sesión")


def sign_in(page, base_url: str, username: str, next_path: str = "/accounts/login/",  # type: ignore[no-untyped-def]
            labels: tuple[str, str, str] = SIGN_IN_EN) -> None:
    """Open ``next_path`` (the log-in page, or a page that leads to it) and sign in with the test password;
    ``labels`` are the page's words for user name, password and the button (SIGN_IN_ES in Spanish)."""
    from oncoliaison.testing import PASSWORD

    user, password, button = labels
    page.goto(f"{base_url}{next_path}")
    page.get_by_label(user).fill(username)
    page.get_by_label(password).fill(PASSWORD)
    # Wait for the next page to finish loading: until then htmx has not bound its forms, and a key press
    # would submit a form the old-fashioned way (a full page load) instead of the inline action under test.
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("button", name=button).click()


def settled(row):  # type: ignore[no-untyped-def]
    """The element once htmx has swapped it in and bound its forms (so the next click goes through htmx)."""
    expect(row).not_to_have_class(HTMX_BUSY)
    return row


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    """Keep a screenshot when ONCOLIAISON_SCREENSHOTS names a folder (for a visual check; never committed)."""
    folder = os.environ.get("ONCOLIAISON_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)
