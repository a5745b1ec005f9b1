"""The weekly review page of the web UI against a real `bankml serve`: the week's report
for a signed-in person, kept for the minutes through a CSRF-checked form, downloaded byte
for byte; a bad week is named."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from bankml.core.weeks import week_of
from support.server import serving
from support.ui import World, shared_world

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
DIGEST = re.compile(r'<code class="digest">([0-9a-f]{64})</code>')


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    """The UI's world: its monitoring runs are this week's (the week's figures), their
    labels matured."""
    return shared_world(tmp_path_factory, "ui-weekly")


@pytest.fixture(scope="module")
def client(world: World) -> Iterator[httpx.Client]:
    """The auditor, signed in."""
    with serving(world.home) as server, httpx.Client(base_url=server.url, timeout=60,
                                                     follow_redirects=False) as browser:
        form = browser.get("/ui/signin")
        signed = browser.post("/ui/signin", data={
            "csrf": CSRF.search(form.text).group(1),  # type: ignore[union-attr]
            "token": world.tokens["aude"], "next": "/ui/models"})
        assert signed.status_code == 303, signed.text
        yield browser


def test_the_page_shows_this_weeks_review(client: httpx.Client, world: World) -> None:
    """The current week's summary, the production model judged on the week's monitoring
    and its drift chart, on a page."""
    week = week_of(datetime.now(UTC)).label

    answer = client.get("/ui/reports/weekly")

    assert answer.status_code == 200, answer.text
    assert f"Weekly production model review {week}" in answer.text
    assert world.credit in answer.text
    assert re.search(r"RAG <b>(red|amber|green)</b>", answer.text)  # monitored this week
    assert "<svg" in answer.text
    assert 'href="/ui/reports/weekly"' in answer.text  # in the navigation


def test_keeping_a_review_shows_its_digest_and_serves_its_bytes(client: httpx.Client) -> None:
    """The form writes the PDF; the page lists its sha256, and the file has that digest."""
    week = week_of(datetime.now(UTC)).label
    csrf = CSRF.search(client.get("/ui/reports/weekly").text).group(1)  # type: ignore[union-attr]

    kept = client.post("/ui/reports/weekly", data={"csrf": csrf, "week": week,
                                                   "format": "pdf"})
    shown = client.get(f"/ui/reports/weekly?week={week}")
    file = client.get(f"/ui/reports/weekly/file?week={week}&format=pdf")

    assert kept.status_code == 303
    [digest] = DIGEST.findall(shown.text)
    assert file.content.startswith(b"%PDF")
    assert hashlib.sha256(file.content).hexdigest() == digest


def test_a_form_without_the_csrf_token_keeps_nothing(client: httpx.Client) -> None:
    """A forged form is refused before the service is called."""
    answer = client.post("/ui/reports/weekly", data={"week": "2026-W49", "format": "html"})

    assert answer.status_code == 403
    assert "ui.csrf_token" in answer.text


def test_a_bad_week_is_named_with_its_rule(client: httpx.Client) -> None:
    """A week that does not exist is a page naming the field and the rule."""
    answer = client.get("/ui/reports/weekly?week=2027-W53")

    assert answer.status_code == 422
    assert "week: " in answer.text
    assert "week.exists" in answer.text
