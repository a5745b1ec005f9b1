"""Concurrent single decisions decided in one call: each answered as if decided alone."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bankml import Platform
from bankml.api.batching import DecisionBatcher
from bankml.core.decisions import DecisionRecord
from bankml.core.errors import InvalidInputError, PermissionDeniedError
from bankml.core.identity import Principal
from bankml.core.registry import ModelVersion
from bankml.serving.log import Committed
from support.people import service, staff
from support.served import applications, credit_endpoint, credit_in_prod
from support.trail import audit_events


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[tuple[Platform, ModelVersion, list[Committed]]]:
    home: Path = tmp_path_factory.mktemp("batched")
    with Platform.open(home / "home") as platform:
        version = credit_in_prod(platform)
        credit_endpoint(platform)
        commits: list[Committed] = []
        platform.decision_log.on_commit(commits.append)
        yield platform, version, commits


def together(platform: Platform, by: Principal, requests: list[dict[str, Any]]
             ) -> list[DecisionRecord | BaseException]:
    """Each request sent at once, as concurrent HTTP calls reach the batcher."""
    async def send() -> list[DecisionRecord | BaseException]:
        batcher = DecisionBatcher(platform.decisions)
        return await asyncio.gather(*(batcher.decide(by, "credit-pd", request)
                                      for request in requests), return_exceptions=True)
    return asyncio.run(send())


def test_requests_waiting_together_share_a_call_and_a_commit(
        served: tuple[Platform, ModelVersion, list[Committed]]) -> None:
    """One commit holds them all; each answer is what the log holds, scored and explained
    exactly as the same request decided alone."""
    platform, version, commits = served
    requests = applications(version, 6, start=300)
    ops = staff(platform, "ops")
    before = len(commits)

    answers = together(platform, ops, requests)

    assert [c.records for c in commits[before:]] == [6]
    alone = platform.decisions.decide(ops, "credit-pd", [requests[0]])[0]
    assert isinstance(answers[0], DecisionRecord)
    assert (answers[0].score, answers[0].reasons_json) == (alone.score, alone.reasons_json)
    for answer in answers:
        assert isinstance(answer, DecisionRecord)
        assert platform.decisions.get(staff(platform, "aude"), answer.decision_id) == answer
    assert len({a.decision_id for a in answers if isinstance(a, DecisionRecord)}) == 6


def test_a_bad_request_gets_its_own_problem_and_the_others_their_decisions(
        served: tuple[Platform, ModelVersion, list[Committed]]) -> None:
    platform, version, commits = served
    good, bad, other = applications(version, 3, start=400)
    before = len(commits)

    answers = together(platform, staff(platform, "ops"),
                       [good, {**bad, "duration_months": "long"}, other])

    assert isinstance(answers[0], DecisionRecord)
    assert isinstance(answers[2], DecisionRecord)
    assert isinstance(answers[1], InvalidInputError)
    assert answers[1].field == "duration_months"  # named as when sent alone
    assert sum(c.records for c in commits[before:]) == 2


def test_a_caller_out_of_scope_is_refused_and_audited_per_request(
        served: tuple[Platform, ModelVersion, list[Committed]]) -> None:
    platform, version, _ = served
    scoped = service(platform, "app-batched", "fraud")
    before = len(audit_events(platform, action="auth.forbidden"))

    answers = together(platform, scoped, applications(version, 2))

    assert all(isinstance(a, PermissionDeniedError) for a in answers)
    assert len(audit_events(platform, action="auth.forbidden")) == before + 2
