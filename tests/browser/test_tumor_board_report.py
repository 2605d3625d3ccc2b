"""The CLP reads the CoC 2.5 conference report of the demo's year of tumor boards in a real browser: the
figures, the charts beside their tables, the printable version and the CSV — every state checked by the
accessibility gate."""

from __future__ import annotations

from browsing import TABLET, shot, sign_in, watch_problems
from playwright.sync_api import expect

from oncoliaison.accounts.models import User
from oncoliaison.core import clock
from oncoliaison.decisions.instruments import load_measures
from oncoliaison.demo.seed import seed_demo
from oncoliaison.monitoring.instruments import load_instruments, load_quality_of_life
from oncoliaison.testing import PASSWORD


def test_the_clp_reads_the_conference_report(live_server, transactional_db, browser):
    # A live-server test empties the tables when it ends, so an earlier one may have removed the instruments
    # the migrations load: load them again (loading is idempotent) before seeding the demo.
    load_instruments()
    load_quality_of_life()
    load_measures()
    seed_demo(patients=24)
    clp = User.objects.get(username="clp")  # the demo's passwords are random: give the CLP the test one
    clp.set_password(PASSWORD)
    clp.save()
    problems: list[str] = []
    page = browser.new_context(viewport=TABLET, accept_downloads=True).new_page()
    page.set_default_timeout(15_000)
    watch_problems(page, problems)
    sign_in(page, live_server.url, "clp", "/tumor-boards/")
    page.get_by_role("link", name="CoC 2.5 conference report").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("2.5")
    expect(page.locator("main")).to_contain_text("Thoracic")
    expect(page.locator("main svg").first).to_be_visible()  # a chart
    expect(page.locator("main table").first).to_be_visible()  # its figures as a table
    shot(page, "tumor-board-report")
    page.get_by_role("combobox", name="Year").select_option(str(clock.today().year))
    with page.expect_download() as download:
        page.get_by_role("link", name="CSV").first.click()
    assert download.value.suggested_filename.endswith(".csv")
    assert problems == [], problems
