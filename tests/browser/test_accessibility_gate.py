"""The accessibility gate itself (tests/browser/accessibility.py): axe-core runs on every page state a browser
test leaves — before a navigation, before an htmx request, and at the end of the test — without the test asking.

Each case breaks the page on purpose (an image without a text alternative: axe's ``image-alt``, impact critical)
and checks that the gate saw it, then takes the finding back so this test itself passes.
"""

from __future__ import annotations

import pytest
from browsing import TABLET

pytestmark = pytest.mark.django_db(transaction=True)

BREAK = "() => { const img = document.createElement('img'); img.src = '/static/favicon.svg'; document.querySelector('main').append(img); }"


def _login_page(live_server, browser):  # type: ignore[no-untyped-def]
    page = browser.new_context(viewport=TABLET).new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    return page


def test_a_clean_page_passes_and_a_broken_one_is_caught_before_the_next_navigation(live_server, browser, accessibility):
    page = _login_page(live_server, browser)
    page.goto(f"{live_server.url}/refer/")  # leaving the log-in page checks it
    assert accessibility.checks >= 1
    assert accessibility.take() == []

    page.evaluate(BREAK)
    page.goto(f"{live_server.url}/accounts/login/")
    found = accessibility.take()
    assert len(found) == 1 and "[critical] image-alt" in found[0] and "before leaving" in found[0]


def test_a_broken_state_is_caught_before_an_htmx_request(live_server, browser, accessibility):
    page = _login_page(live_server, browser)
    page.wait_for_function("() => window.htmx !== undefined")
    page.evaluate(BREAK)
    page.evaluate("() => htmx.ajax('GET', '/accounts/login/', {target: 'main', select: 'main', swap: 'innerHTML'})")
    page.wait_for_function("() => !document.querySelector('main img')")
    found = accessibility.take()
    assert len(found) == 1 and "image-alt" in found[0] and "before the htmx request" in found[0]


def test_the_last_state_of_every_page_is_checked_when_the_test_ends(live_server, browser, accessibility):
    page = _login_page(live_server, browser)
    page.evaluate(BREAK)
    accessibility.sweep_all()
    assert "image-alt" in accessibility.report()
    found = accessibility.take()
    assert len(found) == 1 and "image-alt" in found[0] and "at the end of the test" in found[0]
