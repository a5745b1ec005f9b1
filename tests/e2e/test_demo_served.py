"""The demo's `bankml serve`: a real process, ready when the block starts, stopped when it
ends, and an error that quotes the server when it never gets ready."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from bankml.cli.demo_steps.served import served
from bankml.core.errors import UnavailableError

pytestmark = pytest.mark.slow


def test_the_server_answers_ready_and_is_stopped_when_the_block_ends(tmp_path: Path) -> None:
    """Inside the block the server answers its readiness check on loopback; after it,
    nothing listens there and the process has exited."""
    with served(tmp_path / "home") as server:
        answer = httpx.get(f"{server.url}/v2/health/ready")

    assert answer.status_code == 200
    assert server.url.startswith("http://127.0.0.1:")
    assert server.startup_s > 0
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{server.url}/v2/health/ready")


def test_the_server_is_stopped_when_the_block_raises(tmp_path: Path) -> None:
    """An error inside the block stops the server too, and the error is the caller's."""
    with pytest.raises(LookupError, match="the step failed"), \
            served(tmp_path / "home") as server:
        raise LookupError("the step failed")

    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{server.url}/v2/health/ready")


def test_a_server_that_stops_before_it_is_ready_is_an_error_quoting_its_stderr(
        tmp_path: Path) -> None:
    """A home that is a file stops `bankml serve` at start-up: the error says so, with the
    exit code and the server's own last words."""
    home = tmp_path / "home"
    home.write_text("not a folder")

    with pytest.raises(UnavailableError, match=r"(?s)stopped \(exit 1\) before it was ready: "
                                               r".*File exists") as refused, served(home):
        pass

    assert refused.value.rule == "demo.serve_ready"
