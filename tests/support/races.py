"""Workers that race one another inside a transaction, for tests of invariants the database
holds. Each waits at a barrier right after it read what it is about to change, so every
worker acts on the same stale view: the widest race there is, without any sleep."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from typing import Any

from bankml import Platform
from bankml.core.canonical import utc_timestamp
from bankml.core.errors import BankmlError
from bankml.core.identity import Principal
from bankml.core.registry import Stage
from bankml.core.validation import ValidationBaseline
from bankml.registry.lifecycle import move
from bankml.stores.sql.identity import SqlUsers

BARRIER_TIMEOUT_S = 60


def report(target: Callable[..., str], outcomes: Queue[str], *arguments: Any) -> None:
    """Run `target` and put its outcome (or the error that ended it) on `outcomes`."""
    try:
        outcomes.put(target(*arguments))
    except Exception as error:
        outcomes.put(f"crashed: {error!r}")


def _wait_after(read: Callable[..., Any], barrier: Barrier) -> Callable[..., Any]:
    def read_then_wait(*args: Any, **kwargs: Any) -> Any:
        found = read(*args, **kwargs)
        barrier.wait(BARRIER_TIMEOUT_S)
        return found
    return read_then_wait


def promote(home: str, url: str, ref: str, barrier: Barrier) -> str:
    """Move `ref` (in staging) to prod; returns "moved" or the rule that refused it."""
    with Platform.open(home, metadata_url=url) as platform:
        try:
            with platform.metadata.transaction() as tx:
                tx.models.in_stage = _wait_after(tx.models.in_stage,  # type: ignore[method-assign]
                                                 barrier)
                move(tx, ref, Stage.PROD, actor="racer", moment=utc_timestamp(datetime.now(UTC)))
        except BankmlError as refused:
            return refused.rule
    return "moved"


def request(home: str, url: str, ref: str, requester: str, barrier: Barrier) -> str:
    """Ask governance to move `ref` to staging; returns "requested" or the refusing rule."""
    with Platform.open(home, metadata_url=url) as platform:
        oversight = platform.oversight
        original = oversight._open_request

        def open_request(tx: Any, *args: Any) -> Any:
            tx.oversight.requests = _wait_after(tx.oversight.requests, barrier)
            return original(tx, *args)

        oversight._open_request = open_request  # type: ignore[method-assign]
        try:
            oversight.request_transition(platform.identity.user(requester), ref, Stage.STAGING,
                                         reason="race")
        except BankmlError as refused:
            return refused.rule
    return "requested"


def open_home(home: str, url: str, barrier: Barrier) -> str:
    """Open a platform on a new home at the same moment as the other racers."""
    barrier.wait(BARRIER_TIMEOUT_S)
    with Platform.open(home, metadata_url=url):
        return "opened"



def confirm(home: str, url: str, admin: str, grant_id: int, barrier: Barrier) -> str:
    """`admin` confirms grant `grant_id`, having read its grantee's roles at the same moment
    as the other racers; returns "confirmed" or the rule that refused it."""
    with Platform.open(home, metadata_url=url) as platform:
        identity = platform.identity
        confirmer = identity.user(admin)
        grantee = next(g.username for g in identity.grants(confirmer) if g.grant_id == grant_id)
        read = SqlUsers.get

        def get(users: SqlUsers, username: str) -> Principal:
            found = read(users, username)
            if username == grantee:
                barrier.wait(BARRIER_TIMEOUT_S)
            return found

        SqlUsers.get = get  # type: ignore[method-assign]  # this racer's own process
        try:
            identity.confirm_grant(confirmer, grant_id)
        except BankmlError as refused:
            return refused.rule
    return "confirmed"


def ingest_label(home: str, url: str, decision_id: str, outcome: int, observed_at: str,  # noqa: PLR0917 - a process target takes positional arguments
                 barrier: Barrier) -> str:
    """Ingest one outcome for `decision_id`, having read its latest label at the same
    moment as the other racers (once: a retry reads again without waiting); returns what
    the ingest did ("new", "correction", "duplicate") or the rule that refused it."""
    from bankml.stores.sql.monitoring import SqlLabels  # noqa: PLC0415

    with Platform.open(home, metadata_url=url) as platform:
        read, waited = SqlLabels.latest, []

        def latest(labels: SqlLabels, ids: Any) -> Any:
            found = read(labels, ids)
            if not waited:
                waited.append(True)
                barrier.wait(BARRIER_TIMEOUT_S)
            return found

        SqlLabels.latest = latest  # type: ignore[method-assign]  # this racer's own process
        try:
            report = platform.labels.ingest(platform.identity.user("ops"), [
                {"decision_id": decision_id, "outcome": outcome, "observed_at": observed_at}],
                endpoint="pd-decisions")
        except BankmlError as refused:
            return refused.rule
    return ("correction" if report.corrections else "new" if report.new else "duplicate")


def add_rollout(home: str, url: str, challenger: int, barrier: Barrier) -> str:
    """Add a rollout of pd@`challenger` on one endpoint after finding none active there;
    returns "added" or the field and rule that refused it."""
    from bankml.core.rollouts import Rollout, RolloutStatus, plan_for  # noqa: PLC0415

    now = utc_timestamp(datetime.now(UTC))
    with Platform.open(home, metadata_url=url) as platform:
        try:
            with platform.metadata.transaction() as tx:
                assert tx.rollouts.active("pd-decisions") is None
                barrier.wait(BARRIER_TIMEOUT_S)
                tx.rollouts.add(Rollout(
                    rollout_id=0, endpoint="pd-decisions", model="pd", champion=1,
                    challenger=challenger, plan=plan_for("shadow"), salt="s", step=0,
                    status=RolloutStatus.RUNNING, step_started_at=now, created_at=now,
                    created_by="racer"))
        except BankmlError as refused:
            return f"{refused.field} {refused.rule}"
    return "added"


def deploy(home: str, url: str, ref: str, barrier: Barrier) -> str:
    """Deploy `ref` on pd-decisions by the service, waiting inside the deploy's transaction
    until every racer has checked its gates; returns "deployed" or the field and rule."""
    from bankml.core.rollouts import plan_for  # noqa: PLC0415

    with Platform.open(home, metadata_url=url) as platform:
        oversight = platform.oversight
        oversight.gates_in = _wait_after(oversight.gates_in, barrier)  # type: ignore[method-assign]
        try:
            platform.rollouts.deploy(platform.identity.user("ops"), "pd-decisions", ref,
                                     plan=plan_for("shadow"))
        except BankmlError as refused:
            return f"{refused.field} {refused.rule}"
    return "deployed"


def set_baseline(home: str, url: str, model: str, run_id: str, barrier: Barrier) -> str:
    """Record `run_id` as `model`'s initial validation, having read that it has none at the
    same moment as the other racers; returns "recorded" or the rule that refused it."""
    with Platform.open(home, metadata_url=url) as platform:
        try:
            with platform.metadata.transaction() as tx:
                if _wait_after(tx.validation_runs.baseline, barrier)(model) is not None:
                    return "already set"
                tx.validation_runs.set_baseline(ValidationBaseline(
                    model=model, version=1, run_id=run_id, validator="vera", request_id=1,
                    recorded_at=utc_timestamp(datetime.now(UTC))))
        except BankmlError as refused:
            return str(refused.rule)
    return "recorded"


def raise_alert(home: str, url: str, endpoint: str, metric: str, barrier: Barrier) -> str:
    """Raise a red alert on `endpoint`'s `metric` as a monitoring run does, having looked
    for an unresolved one at the same moment as the other racers; returns "opened" when
    this racer opened it, "refreshed" when it found another's, or the refusing rule."""
    from bankml.core.identity import SYSTEM  # noqa: PLC0415
    from bankml.core.monitoring import MetricPoint, MonitoringRun, Status  # noqa: PLC0415
    from bankml.stores.sql.monitoring import SqlAlerts  # noqa: PLC0415

    now = utc_timestamp(datetime.now(UTC))
    run = MonitoringRun(run_id="race", endpoint=endpoint, window_start=now, window_end=now,
                        as_of=now, policy_id="race", policy_version="1", created_at=now,
                        created_by="system", decisions=0, greens=0, ambers=0, reds=1)
    point = MetricPoint(metric=metric, model="pd@1", route="champion", value=0.4, n=500,
                        status=Status.RED)
    with Platform.open(home, metadata_url=url) as platform:
        read, waited = SqlAlerts.find_open, []

        def find_open(found_in: SqlAlerts, *args: Any) -> Any:
            found = read(found_in, *args)
            if not waited:
                waited.append(True)
                barrier.wait(BARRIER_TIMEOUT_S)
            return found

        SqlAlerts.find_open = find_open  # type: ignore[method-assign]  # this racer's own
        try:
            with platform.metadata.transaction() as tx:
                raised = platform.alerts.raise_for(tx, SYSTEM, run, [point])
        except BankmlError as refused:
            return refused.rule
    return "opened" if raised else "refreshed"


def resolve_alert(home: str, url: str, alert_id: int, by: str, barrier: Barrier) -> str:
    """Resolve alert `alert_id`, having read it at the same moment as the other racers;
    returns "resolved" or the rule that refused it."""
    from bankml.stores.sql.monitoring import SqlAlerts  # noqa: PLC0415

    with Platform.open(home, metadata_url=url) as platform:
        read, waited = SqlAlerts.get, []

        def get(found_in: SqlAlerts, *args: Any) -> Any:
            found = read(found_in, *args)
            if not waited:
                waited.append(True)
                barrier.wait(BARRIER_TIMEOUT_S)
            return found

        SqlAlerts.get = get  # type: ignore[method-assign]  # this racer's own process
        try:
            platform.alerts.resolve(platform.identity.user(by), alert_id, comment=f"by {by}")
        except BankmlError as refused:
            return refused.rule
    return "resolved"


def retrain(home: str, url: str, endpoint: str, barrier: Barrier) -> str:
    """Close the loop after a run of `endpoint`, having read its alerts and retrainings (a
    red score.psi alert, no retraining yet) at the same moment as the other racers;
    returns "started" when this racer started the retraining, else "none"."""
    from bankml.core.identity import SYSTEM  # noqa: PLC0415
    from bankml.core.monitoring import MonitoringRun  # noqa: PLC0415
    from bankml.monitoring.policy import DEFAULT, parse_policy  # noqa: PLC0415
    from bankml.stores.sql.retrainings import SqlRetrainings  # noqa: PLC0415

    now = utc_timestamp(datetime.now(UTC))
    run = MonitoringRun(run_id="race", endpoint=endpoint, window_start=now, window_end=now,
                        as_of=now, policy_id="race", policy_version="1", created_at=now,
                        created_by=SYSTEM.name, decisions=0, greens=0, ambers=0, reds=1)
    policy = parse_policy(DEFAULT.read_text().replace(
        "retraining: {}", "retraining: {pd: {when: [drift]}}"), source="race policy")
    with Platform.open(home, metadata_url=url) as platform:
        read, waited = SqlRetrainings.all, []

        def every(found_in: SqlRetrainings, *args: Any) -> Any:
            found = read(found_in, *args)
            if not waited:
                waited.append(True)
                barrier.wait(BARRIER_TIMEOUT_S)
            return found

        SqlRetrainings.all = every  # type: ignore[method-assign]  # this racer's own
        started = platform.retraining.after_run(run, policy)
    return "started" if started else "none"
