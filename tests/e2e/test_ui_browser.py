"""The web UI in a real browser: headless Chromium against a real `bankml serve`."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bankml import Platform
from bankml.core.registry import Stage
from support.browser import chromium, screenshot_folder
from support.models import register_tiny
from support.people import staff
from support.server import Server, serving

VIEWPORT = {"width": 1280, "height": 800}


@dataclass(frozen=True)
class Waiting:
    home: Path
    server: Server
    token: str  # mira's, model risk
    request_id: int


@pytest.fixture
def waiting(tmp_path: Path) -> Iterator[Waiting]:
    """A tier 2 model validated and asked for prod, waiting for model risk; mira's token."""
    home = tmp_path / "home"
    with Platform.open(home) as platform:
        dev, vera = staff(platform, "dev"), staff(platform, "vera")
        version = register_tiny(platform, dev, "pd-small", tier=2)
        platform.oversight.record_validation(vera, version.ref, passed=True,
                                             fairness_passed=True, summary="fit for use")
        platform.oversight.request_transition(dev, version.ref, Stage.STAGING, reason="ok")
        request = platform.oversight.request_transition(dev, version.ref, Stage.PROD,
                                                        reason="validated")
        staff(platform, "mira")
        token = platform.identity.create_token(platform.identity.user("ada"), "mira",
                                               days=1).plaintext
    with serving(home) as server:
        yield Waiting(home, server, token, request.request_id)


def test_a_model_risk_officer_signs_in_and_approves(waiting: Waiting, tmp_path: Path) -> None:
    """Mira signs in with her token, opens the inbox, approves with a comment by keyboard
    and mouse as a person would, and the version is in prod; each page is photographed."""
    executable = chromium()
    from playwright.sync_api import expect, sync_playwright  # noqa: PLC0415 - skipped without it

    server, token, request_id = waiting.server, waiting.token, waiting.request_id
    shots = screenshot_folder(tmp_path / "screenshots")
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=executable, headless=True,
                                         args=["--no-sandbox"])
        page = browser.new_page(viewport=VIEWPORT)
        page.goto(f"{server.url}/ui/approvals")
        expect(page).to_have_url(re.compile(r"/ui/signin\?next="))
        page.get_by_label("API token").fill(token)
        page.screenshot(path=str(shots / "signin.png"))
        page.get_by_role("button", name="Sign in").click()

        expect(page).to_have_url(f"{server.url}/ui/approvals")
        expect(page.get_by_text("gate.approval.model_risk")).to_be_visible()
        page.get_by_label("Comment").fill("agreed: validated independently")
        page.screenshot(path=str(shots / "approvals.png"), full_page=True)
        page.get_by_role("button", name=f"Approve request {request_id}").click()

        expect(page.get_by_role("status").first).to_have_text(
            f"Request {request_id} approved.")
        page.get_by_role("link", name="Inventory").click()
        expect(page.get_by_role("cell", name="pd-small@1")).to_be_visible()
        page.screenshot(path=str(shots / "inventory.png"), full_page=True)
        browser.close()

    with Platform.open(waiting.home) as platform:
        assert platform.registry.get("pd-small@1").stage == Stage.PROD
    assert (shots / "approvals.png").stat().st_size > 0
