"""The web UI in a real browser: headless Chromium against a real `bankml serve`, as a
person would use it; each main page is photographed (`make screenshots` keeps them)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from bankml import Platform
from bankml.core.registry import Stage
from support.browser import launched_chromium, screenshot_folder
from support.server import Server, serving
from support.trail import audit_events
from support.ui import World, shared_world

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

VIEWPORT = {"width": 1280, "height": 800}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return shared_world(tmp_path_factory, "browser")


@pytest.fixture(scope="module")
def server(world: World) -> Iterator[Server]:
    with serving(world.home) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launched_chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return screenshot_folder(tmp_path_factory.mktemp("screenshots"))


def signed_in(browser: Browser, server: Server, token: str, path: str,
              shot: Path | None = None) -> Page:
    """A fresh browser context (its own cookies) signed in with `token`, on `path`."""
    from playwright.sync_api import expect  # noqa: PLC0415 - skipped without it

    page = browser.new_context(viewport=VIEWPORT).new_page()
    page.goto(f"{server.url}{path}")
    expect(page).to_have_url(re.compile(r"/ui/signin\?next="))
    page.get_by_label("API token").fill(token)
    if shot is not None:
        page.screenshot(path=str(shot))
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{server.url}{path}")
    return page


def test_a_model_risk_officer_signs_in_and_approves(browser: Browser, server: Server,
                                                    world: World, shots: Path) -> None:
    """Mira signs in, reads the gates, approves with a comment, and the version is in
    prod."""
    from playwright.sync_api import expect  # noqa: PLC0415 - skipped without it

    page = signed_in(browser, server, world.tokens["mira"], "/ui/approvals",
                     shots / "signin.png")
    request = page.get_by_role("region", name=re.compile(f"^Request {world.to_approve}:"))
    expect(request.get_by_text("gate.approval.model_risk")).to_be_visible()
    request.get_by_label("Comment").fill("agreed: validated independently")
    page.screenshot(path=str(shots / "approvals.png"))
    request.get_by_role("button", name=f"Approve request {world.to_approve}").click()

    expect(page.get_by_role("status").first).to_have_text(
        f"Request {world.to_approve} approved.")
    page.get_by_role("link", name="Inventory").click()
    expect(page.get_by_role("cell", name="tiny-approve@1")).to_be_visible()
    page.screenshot(path=str(shots / "inventory.png"))
    with Platform.open(world.home) as platform:
        assert platform.registry.get("tiny-approve@1").stage == Stage.PROD


def test_an_auditor_opens_a_decision_and_replays_it(browser: Browser, server: Server,
                                                    world: World, shots: Path) -> None:
    """Aude skips to the content by keyboard, looks a decision up by its id, sees its
    reasons as a chart, replays it and is told it is identical; then reads the model and
    verifies the audit chain."""
    from playwright.sync_api import expect  # noqa: PLC0415 - skipped without it

    page = signed_in(browser, server, world.tokens["aude"], "/ui/decisions")
    page.keyboard.press("Tab")  # the first stop of the keyboard is the skip link
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    page.get_by_label("Decision id").fill(world.decision_id)
    page.get_by_label("Decision id").press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text(world.decision_id)
    expect(page.locator("figure.chart svg")).to_be_visible()
    page.get_by_role("button", name="Replay this decision").click()

    expect(page.locator("#replay")).to_contain_text("Replay: identical")
    page.screenshot(path=str(shots / "decision.png"))
    page.get_by_role("link", name=f"{world.credit}@1").click()
    expect(page.get_by_role("heading", name="Lifecycle history")).to_be_visible()
    page.screenshot(path=str(shots / "model.png"))
    page.get_by_role("link", name="Audit trail").click()
    page.get_by_role("button", name="Verify the chain").click()
    expect(page.locator("#chain")).to_contain_text("Chain intact")
    page.screenshot(path=str(shots / "audit.png"))


def test_a_data_scientist_is_offered_no_approval_and_refused_anyway(
        browser: Browser, server: Server, world: World) -> None:
    """Dana sees the request but no approve button; the form posted from her session
    anyway (with her CSRF token) gets 403 from the server, and one without it too."""
    from playwright.sync_api import expect  # noqa: PLC0415 - skipped without it

    page = signed_in(browser, server, world.tokens["dana"], "/ui/approvals")
    expect(page.get_by_role("heading", name=re.compile(f"^Request {world.to_forge}:"))
           ).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("^Approve"))).to_have_count(0)
    csrf = page.locator("input[name=csrf]").first.get_attribute("value")
    target = f"{server.url}/ui/approvals/{world.to_forge}/approve"

    posted = page.request.post(target, form={"csrf": csrf or "", "role": "model_risk"})
    forged = page.request.post(target, form={"role": "model_risk"})

    assert posted.status == 403
    assert "auth.role_grants" in posted.text()
    assert forged.status == 403
    assert "ui.csrf_token" in forged.text()


def _rollout_status(world: World) -> str:
    with Platform.open(world.home) as platform:
        shown = platform.rollouts.status(platform.identity.user("aude"), world.endpoint)
    return str(shown.rollout.status)


def test_a_forged_form_without_the_csrf_token_changes_nothing(
        browser: Browser, server: Server, world: World) -> None:
    """A rollback form posted from an ML engineer's signed-in browser without the CSRF
    token (what another site's forged form would send) is refused with 403, and the
    canary runs on."""
    page = signed_in(browser, server, world.tokens["ops"], "/ui/deployments")

    forged = page.request.post(f"{server.url}/ui/deployments/{world.endpoint}/rollback",
                               form={"comment": "forged"})

    assert forged.status == 403
    assert "ui.csrf_token" in forged.text()
    assert _rollout_status(world) == "running"


def test_an_ml_engineer_rolls_back_a_canary(browser: Browser, server: Server, world: World,
                                            shots: Path) -> None:
    """Ops reads the canary's split and guardrails, rolls it back with a comment (and
    confirms), and every decision goes to the champion; the monitoring page shows the
    series against their bands and the latest window's score histogram."""
    from playwright.sync_api import expect  # noqa: PLC0415 - skipped without it

    page = signed_in(browser, server, world.tokens["ops"], "/ui/deployments")
    card = page.get_by_role("region", name=re.compile(f"^Endpoint {world.endpoint}"))
    expect(card.get_by_text("challenger answers 50 % (canary)")).to_be_visible()
    expect(card.locator("figure.chart svg")).to_have_count(4)
    page.screenshot(path=str(shots / "deployments.png"))
    form = card.locator(f"form[action$='/{world.endpoint}/rollback']")
    form.get_by_label("Comment").fill("decision rates drift from the champion's")
    page.once("dialog", lambda dialog: dialog.accept())
    form.get_by_role("button", name=f"Roll back the rollout on {world.endpoint}").click()

    expect(page.get_by_role("status").first).to_contain_text(
        f"The rollout on {world.endpoint} was rolled back")
    expect(card.get_by_text("champion answers 100 % of customers")).to_be_visible()
    assert _rollout_status(world) == "rolled_back"
    with Platform.open(world.home) as platform:
        [done] = [e for e in audit_events(platform) if e.action == "rollout.rolled_back"]
    assert (done.actor, done.payload["comment"]) == (
        "ops", "decision rates drift from the champion's")
    page.get_by_role("link", name="Monitoring").click()
    expect(page.get_by_role("heading", name="Open alerts")).to_be_visible()
    # the series, below the alerts, are what the picture is for
    page.get_by_role("heading", name=f"Endpoint {world.endpoint}").scroll_into_view_if_needed()
    page.locator(f"#mon-{world.endpoint}").evaluate("e => e.scrollIntoView()")
    # the histogram is an image named by its SVG title, for a screen reader too
    expect(page.get_by_role("img", name=f"Score distribution of {world.credit}@1, route "
                                        "champion")).to_be_visible()
    page.screenshot(path=str(shots / "monitoring.png"))
