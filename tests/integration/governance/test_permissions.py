"""The permission matrix: every operation of every service, every role, allowed exactly
per GRANTS, called from Python; and the CLI's commands, which pass their token's principal.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from typer.testing import CliRunner

from bankml import Platform
from bankml.cli.main import app
from bankml.core.decisions import PolicyKind
from bankml.core.endpoints import Endpoint
from bankml.core.errors import AuthenticationError, BankmlError, PermissionDeniedError
from bankml.core.identity import GRANTS, Permission, Principal, Role, RoleDeniedError
from bankml.core.oversight import Severity
from bankml.core.registry import Domain, Model, Stage
from bankml.core.rollouts import plan_for
from support.people import admins
from support.trail import audit_events


@dataclass(frozen=True)
class Operation:
    name: str
    permission: Permission
    call: Callable[[Platform, Principal], object]


TARGET = "target"  # a person every people-managing operation acts on
MODEL = "pd@1"  # a tier-1 version developed by someone outside the matrix
SPEC = Path(__file__).parent / "no-such-spec.yaml"  # allowed callers then meet a SpecError


def _request(platform: Platform) -> int:
    with platform.metadata.reading() as tx:
        return tx.oversight.requests()[0].request_id


def _tiny(seed: int = 0) -> LogisticRegression:
    rows = pd.DataFrame({"x0": np.random.default_rng(seed).normal(size=40)})
    return LogisticRegression().fit(rows, (rows["x0"] > 0).astype(int))


ROWS = pd.DataFrame({"customer_id": ["c1"], "x0": [0.3]})
ENDPOINT = Endpoint(name="pd-decisions", model="pd", entity=("customer_id",),
                    policy_kind=PolicyKind.APPROVE_REFER_DECLINE,
                    cutoffs={"approve_below": 0.2, "decline_from": 0.8})
PD = Model(name="pd", domain=Domain.CREDIT, risk_tier=1, owner="retail", developer="outsider")

OPERATIONS = [
    # identity
    Operation("add a user", Permission.USERS_MANAGE,
              lambda p, by: p.identity.add_user(by, "newcomer", roles=frozenset({Role.AUDITOR}))),
    Operation("add a service account", Permission.USERS_MANAGE,
              lambda p, by: p.identity.add_service_account(by, "app", scopes=frozenset({"*"}))),
    Operation("grant a role", Permission.USERS_MANAGE,
              lambda p, by: p.identity.grant(by, TARGET, Role.MODEL_RISK)),
    Operation("confirm a grant", Permission.USERS_MANAGE,
              lambda p, by: p.identity.confirm_grant(by, 1)),
    Operation("revoke a role", Permission.USERS_MANAGE,
              lambda p, by: p.identity.revoke(by, TARGET, Role.VALIDATOR)),
    Operation("deactivate a user", Permission.USERS_MANAGE,
              lambda p, by: p.identity.deactivate(by, TARGET)),
    Operation("create a token for someone else", Permission.USERS_MANAGE,
              lambda p, by: p.identity.create_token(by, TARGET)),
    Operation("list someone else's tokens", Permission.USERS_MANAGE,
              lambda p, by: p.identity.tokens(by, TARGET)),
    Operation("create one's own token", Permission.TOKENS_MANAGE_OWN,
              lambda p, by: p.identity.create_token(by)),
    Operation("list people", Permission.USERS_READ, lambda p, by: p.identity.users(by)),
    Operation("list role grants", Permission.USERS_READ, lambda p, by: p.identity.grants(by)),
    # features
    Operation("apply feature definitions", Permission.FEATURES_APPLY,
              lambda p, by: p.features.apply(by, SPEC.with_suffix(".py"))),
    Operation("materialise features", Permission.FEATURES_MATERIALIZE,
              lambda p, by: p.features.materialize_incremental(by)),
    Operation("push feature rows", Permission.FEATURES_MATERIALIZE,
              lambda p, by: p.features.push(by, "nothing", ROWS)),
    Operation("read online features", Permission.FEATURES_READ,
              lambda p, by: p.features.get_online_features(by, [{"customer_id": 1}],
                                                           ["nothing:x"])),
    Operation("check feature skew", Permission.FEATURES_READ,
              lambda p, by: p.features.skew_check(by, "nothing")),
    # registry and training
    Operation("define a model", Permission.MODEL_REGISTER,
              lambda p, by: p.registry.define_model(by, replace(PD, limitations="new"))),
    Operation("register a version", Permission.MODEL_REGISTER,
              lambda p, by: p.registry.register_sklearn(by, "pd", _tiny(1), inputs=["x0"],
                                                        metrics={})),
    Operation("train from a spec", Permission.MODEL_REGISTER,
              lambda p, by: p.training.train(by, SPEC)),
    Operation("set an alias", Permission.MODEL_ALIAS,
              lambda p, by: p.registry.set_alias(by, "pd", "champion", 1)),
    Operation("reproduce a version", Permission.EVIDENCE_READ,
              lambda p, by: p.training.reproduce(by, MODEL)),
    # validation and oversight
    Operation("run a validation", Permission.VALIDATION_RUN,
              lambda p, by: p.validation.run(by, MODEL)),
    Operation("record a validation", Permission.VALIDATION_RECORD,
              lambda p, by: p.oversight.record_validation(by, MODEL, passed=False,
                                                          summary="not yet")),
    Operation("raise a finding", Permission.FINDING_RECORD,
              lambda p, by: p.oversight.raise_finding(by, MODEL, severity=Severity.LOW,
                                                      title="t", owner=TARGET,
                                                      due=date(2030, 1, 1))),
    Operation("close a finding", Permission.FINDING_CLOSE,
              lambda p, by: p.oversight.close_finding(by, 1, note="done")),
    Operation("grant an exception", Permission.EXCEPTION_GRANT,
              lambda p, by: p.oversight.grant_exception(
                  by, MODEL, gate="gate.fairness", justification="why",
                  expires=date.today() + timedelta(days=7))),
    Operation("open an alert", Permission.ALERT_MANAGE,
              lambda p, by: p.oversight.open_alert(by, "pd", severity="red", title="drift")),
    Operation("acknowledge an alert", Permission.ALERT_MANAGE,
              lambda p, by: p.alerts.acknowledge(by, 1, comment="looking")),
    Operation("resolve an alert", Permission.ALERT_MANAGE,
              lambda p, by: p.alerts.resolve(by, 1, comment="fixed")),
    Operation("read alerts", Permission.EVIDENCE_READ,
              lambda p, by: p.alerts.alerts(by)),
    Operation("request a transition", Permission.TRANSITION_REQUEST,
              lambda p, by: p.oversight.request_transition(by, MODEL, Stage.ARCHIVED,
                                                           reason="retire")),
    Operation("approve a transition", Permission.TRANSITION_APPROVE,
              lambda p, by: p.oversight.approve(by, _request(p), role=next(iter(by.roles)))),
    Operation("reject a transition", Permission.TRANSITION_APPROVE,
              lambda p, by: p.oversight.reject(by, _request(p), role=next(iter(by.roles)),
                                               comment="no")),
    Operation("read the gates", Permission.EVIDENCE_READ,
              lambda p, by: p.oversight.gates(by, MODEL, Stage.PROD)),
    Operation("read requests", Permission.EVIDENCE_READ,
              lambda p, by: p.oversight.requests(by)),
    Operation("read findings", Permission.EVIDENCE_READ,
              lambda p, by: p.oversight.findings(by)),
    # decisions
    Operation("apply an endpoint", Permission.ENDPOINT_APPLY,
              lambda p, by: p.endpoints.apply(by, ENDPOINT)),
    Operation("make a decision", Permission.DECISION_MAKE,
              lambda p, by: p.decisions.decide(by, "pd-decisions", [{"customer_id": "c1",
                                                                     "x0": 0.3}])),
    Operation("read a decision", Permission.DECISION_READ,
              lambda p, by: p.decisions.get(by, "unknown")),
    Operation("replay a decision", Permission.DECISION_REPLAY,
              lambda p, by: p.decisions.replay(by, "unknown")),
    Operation("verify the decisions", Permission.DECISION_REPLAY,
              lambda p, by: p.decisions.verify(by, endpoint="pd-decisions")),
    Operation("override a decision", Permission.DECISION_OVERRIDE,
              lambda p, by: p.decisions.override(by, "unknown", outcome="approve",
                                                 reason_code="R1", comment="known")),
    # rollouts
    Operation("deploy a rollout", Permission.ROLLOUT_DEPLOY,
              lambda p, by: p.rollouts.deploy(by, "pd-decisions", "pd@1",
                                              plan=plan_for("shadow"))),
    Operation("pause a rollout", Permission.ROLLOUT_PAUSE,
              lambda p, by: p.rollouts.pause(by, "pd-decisions")),
    Operation("resume a rollout", Permission.ROLLOUT_PAUSE,
              lambda p, by: p.rollouts.resume(by, "pd-decisions")),
    Operation("promote a rollout", Permission.ROLLOUT_PROMOTE,
              lambda p, by: p.rollouts.promote(by, "pd-decisions")),
    Operation("roll back a rollout", Permission.ROLLOUT_ROLLBACK,
              lambda p, by: p.rollouts.rollback(by, "pd-decisions")),
    Operation("read a rollout", Permission.EVIDENCE_READ,
              lambda p, by: p.rollouts.status(by, "pd-decisions")),
    # monitoring
    Operation("ingest outcomes", Permission.LABELS_INGEST,
              lambda p, by: p.labels.ingest(by, [{"decision_id": "unknown", "outcome": 1,
                                                  "observed_at": "2026-01-01T00:00:00Z"}],
                                            endpoint="pd-decisions")),
    Operation("run monitoring", Permission.MONITORING_RUN,
              lambda p, by: p.monitor.run(by, endpoint="pd-decisions")),
    # audit
    Operation("read the audit trail", Permission.AUDIT_READ,
              lambda p, by: p.audit.events(by, limit=1)),
    Operation("verify the audit trail", Permission.AUDIT_READ,
              lambda p, by: p.audit.verify(by)),
    Operation("export the audit trail", Permission.AUDIT_EXPORT,
              lambda p, by: list(p.audit.export(by))),
    # housekeeping
    Operation("collect unreferenced artifacts", Permission.ARTIFACTS_COLLECT,
              lambda p, by: p.artifact_gc.gc(by, dry_run=True)),
]


@pytest.fixture(params=["sqlite"])
def metadata_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The matrix runs on SQLite; the check is the same code on both backends, and a sample
    of it runs on PostgreSQL below."""
    path = tmp_path / "metadata.db"
    shutil.copyfile(request.getfixturevalue("migrated_sqlite"), path)
    return f"sqlite:///{path}"


@pytest.fixture
def people(platform: Platform) -> dict[Role, Principal]:
    return _cast(platform)


def _cast(platform: Platform) -> dict[Role, Principal]:
    """One person per role, a target, a model version, a finding, an alert, a pending grant
    and an open request: something for every operation to act on."""
    ada, _otto = admins(platform)
    with platform.metadata.transaction() as tx:  # the cast, written directly: fast
        for name, roles in [(TARGET, {Role.VALIDATOR}), ("outsider", {Role.DATA_SCIENTIST}),
                            *[(f"has-{r.replace('_', '-')}", {r}) for r in Role]]:
            tx.users.add(Principal(name=name, roles=frozenset(roles)), "2026-01-01T00:00:00Z")
    cast = {role: platform.identity.user(f"has-{role.replace('_', '-')}") for role in Role}
    outsider = platform.identity.user("outsider")
    platform.registry.define_model(outsider, PD)
    platform.registry.register_sklearn(outsider, "pd", _tiny(), inputs=["x0"], metrics={})
    platform.identity.grant(ada, "outsider", Role.BUSINESS_OWNER)  # grant #1, pending
    mira = platform.identity.user("has-model-risk")
    platform.oversight.raise_finding(mira, MODEL, severity=Severity.LOW, title="seed",
                                     owner=TARGET, due=date(2030, 1, 1))
    platform.oversight.open_alert(mira, "pd", severity="amber", title="seed")
    platform.oversight.request_transition(outsider, MODEL, Stage.STAGING, reason="ready")
    return cast


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda o: o.name)
@pytest.mark.parametrize("role", list(Role))
def test_roles_get_exactly_their_grants(platform: Platform, people: dict[Role, Principal],
                                        operation: Operation, role: Role) -> None:
    """Each role may do an operation if and only if the grants say so; a refusal changes
    nothing and adds only its own audit event.

    An allowed call may still meet a later rule (four eyes, a spec that does not exist):
    what matters here is that the permission check lets it through.
    """
    _check(platform, people, operation, role)


def _check(platform: Platform, people: dict[Role, Principal], operation: Operation,
           role: Role) -> None:
    user = people[role]
    before = audit_events(platform)

    if role in GRANTS[operation.permission]:
        try:
            operation.call(platform, user)
        except RoleDeniedError:  # pragma: no cover - the failure this test is for
            pytest.fail(f"{role} was refused {operation.permission}")
        except BankmlError:
            pass
        return
    with pytest.raises(RoleDeniedError, match=str(operation.permission)):
        operation.call(platform, user)
    after = audit_events(platform)
    assert after[:-1] == before  # nothing else was written
    assert (after[-1].action, after[-1].actor) == ("auth.forbidden", user.name)


SAMPLE = ("approve a transition", "register a version", "read a decision")


@pytest.mark.parametrize("role", list(Role))
def test_refusals_hold_on_postgresql(tmp_path: Path, postgres_url: str, role: Role) -> None:
    """A sample of the matrix on PostgreSQL: same grants, same single audit event."""
    with Platform.open(tmp_path / "pg-home", metadata_url=postgres_url) as platform:
        cast = _cast(platform)
        for operation in (o for o in OPERATIONS if o.name in SAMPLE):
            _check(platform, cast, operation, role)


def test_the_matrix_covers_every_permission() -> None:
    """No permission is left out of the matrix."""
    assert {o.permission for o in OPERATIONS} == set(Permission)


CLI_GUARDED = {  # CLI commands whose services trust their caller: the CLI checks the role
    Permission.MODEL_REGISTER: ["train", "{spec}"],
    Permission.MODEL_ALIAS: ["models", "alias", "pd", "champion", "1"],
    Permission.FEATURES_APPLY: ["features", "apply", "{definitions}"],
    Permission.FEATURES_MATERIALIZE: ["features", "materialize", "--incremental"],
}


@pytest.mark.parametrize("permission", list(CLI_GUARDED), ids=str)
@pytest.mark.parametrize("role", [*Role, None], ids=lambda r: str(r) if r else "no-token")
def test_cli_commands_check_the_role(platform: Platform, people: dict[Role, Principal],
                                     tmp_path: Path, permission: Permission,
                                     role: Role | None) -> None:
    """train, alias and the feature commands refuse a missing token or role, allow the rest."""
    token = (platform.identity.create_token(people[role]).plaintext if role else "")
    definitions = tmp_path / "none.py"
    definitions.write_text("")
    args = [a.format(spec=tmp_path / "missing.yaml", definitions=definitions)
            for a in CLI_GUARDED[permission]]

    same_store = {"BANKML_METADATA_URL": platform.settings.resolved_metadata_url}
    result = CliRunner().invoke(app, [*args, "--home", str(tmp_path / "home"), "--token", token],
                                env=same_store)

    if role is None:
        assert isinstance(result.exception, AuthenticationError)
    elif role in GRANTS[permission]:
        assert not isinstance(result.exception, PermissionDeniedError)
    else:
        assert isinstance(result.exception, PermissionDeniedError)
