"""The weekly review page in a real browser: headless Chromium against a real `bankml
serve`; model risk reads the week's review, keeps it for the minutes as PDF and sees its
sha256, the one the audit trail records; the page is photographed (`make screenshots`)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest

from bankml import Platform
from bankml.core.weeks import week_of
from support.browser import launched_chromium, screenshot_folder
from support.people import staff
from support.server import Server, serving
from support.ui import World, shared_world

if TYPE_CHECKING:
    from playwright.sync_api import Browser

VIEWPORT = {"width": 1280, "height": 800}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    """The UI's world: its monitoring runs are this week's (the week's figures), their
    labels matured."""
    return shared_world(tmp_path_factory, "weekly-browser")


@pytest.fixture(scope="module")
def server(world: World) -> Iterator[Server]:
    with serving(world.home) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launched_chromium() as launched:
        yield launched


def test_model_risk_reads_the_weekly_review_and_keeps_it(
        browser: Browser, server: Server, world: World,
        tmp_path_factory: pytest.TempPathFactory) -> None:
    """Mira signs in on the review of this week, finds the production model and what the
    meeting must decide, writes and keeps the PDF; the page lists the sha256 that the
    audit event `report.weekly_written` names."""
    from playwright.sync_api import expect  # noqa: PLC0415 - skipped without it

    shots = screenshot_folder(tmp_path_factory.mktemp("screenshots"))
    week = week_of(datetime.now(UTC)).label
    path = "/ui/reports/weekly"
    page = browser.new_context(viewport=VIEWPORT).new_page()
    page.goto(f"{server.url}{path}")
    expect(page).to_have_url(re.compile(r"/ui/signin\?next="))
    page.get_by_label("API token").fill(world.tokens["mira"])
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{server.url}{path}")

    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Weekly production model review {week}")
    expect(page.get_by_role("columnheader", name="decisions needed")).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile(rf"^1\. {world.credit}$"))
           ).to_be_visible()
    expect(page.locator("article.report svg").first).to_be_visible()
    # the week was monitored: the picture shows a judged model, not "not monitored"
    assert re.search(r"RAG <b>(red|amber|green)</b>", page.content())
    page.get_by_label("Keep for the minutes as").select_option("pdf")
    page.get_by_role("button", name="Write and keep").click()

    expect(page).to_have_url(re.compile(rf"{path}\?week={week}#written$"))
    digest = page.locator("#written code.digest").first
    expect(digest).to_have_text(re.compile(r"^[0-9a-f]{64}$"))
    page.evaluate("window.scrollTo(0, 0)")  # the anchor scrolled the navigation away
    page.screenshot(path=str(shots / "weekly.png"))
    with Platform.open(world.home) as platform:
        [event] = [e for e in platform.audit.events(staff(platform, "aude"),
                                                    subject=f"report:weekly:{week}")
                   if e.action == "report.weekly_written"]
    assert (event.actor, event.payload["format"], event.payload["sha256"]) == (
        "mira", "pdf", digest.text_content())
