"""Hostile input fails as a BankmlError naming its field and rule, alike on SQLite and
PostgreSQL, and is audited; a malformed model cannot take the process down."""

from __future__ import annotations

import io
import pickle
import zipfile
from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from typer.testing import CliRunner

from bankml import Platform
from bankml.cli.main import app
from bankml.core.canonical import sha256_hex
from bankml.core.errors import (
    ArtifactFormatError,
    BankmlError,
    InvalidInputError,
    PermissionDeniedError,
)
from bankml.core.identity import Principal, Role
from bankml.core.oversight import Severity
from bankml.core.registry import Domain, Model, Signature
from bankml.registry import NewVersion
from bankml.registry.flavours import BUNDLE, SKLEARN, ScoringModel, check_format, dump_bundle
from support.models import register_tiny
from support.people import admins, staff
from support.trail import audit_events

HUGE = 10**20
MODEL = Model(name="odd", domain=Domain.CREDIT, risk_tier=3, owner="o", developer="d")


def lightgbm_bundle() -> bytes:
    rows = np.random.default_rng(0).normal(size=(200, 2))
    labels = (rows[:, 0] > 0).astype(int)
    booster = lgb.train({"objective": "binary", "verbose": -1, "num_leaves": 4},
                        lgb.Dataset(rows, labels), num_boost_round=2)
    return dump_bundle(ScoringModel(inputs=["a", "b"], preprocess=StandardScaler().fit(rows),
                                    estimator=booster))


def with_estimator_text(bundle: bytes, edit: Callable[[str], str]) -> bytes:
    source, target = zipfile.ZipFile(io.BytesIO(bundle)), io.BytesIO()
    with zipfile.ZipFile(target, "w") as rebuilt:
        for name in source.namelist():
            data = source.read(name)
            if name == "estimator.lgbm.txt":
                data = edit(data.decode()).encode()
            rebuilt.writestr(name, data)
    return target.getvalue()


def _refused(platform: Platform, call: Callable[[], object], field: str,
             rule: str) -> BankmlError:
    """`call` fails naming `field` and `rule`; the refusal is the one event it adds."""
    before = audit_events(platform)
    with pytest.raises(BankmlError) as caught:
        call()
    after = audit_events(platform)

    assert (caught.value.field, caught.value.rule) == (field, rule)
    assert after[:-1] == before
    assert (after[-1].action, after[-1].payload["rule"]) == ("input.refused", rule)
    return caught.value


def test_a_lightgbm_text_that_aborts_its_parser_is_refused(platform: Platform) -> None:
    """A tree whose arrays disagree with its leaf count makes LightGBM abort the process;
    registering it is refused, loading a stored copy is refused, and this process lives."""
    bad = with_estimator_text(lightgbm_bundle(),
                              lambda text: text.replace("num_leaves=", "num_leaves=3", 1))
    dev = staff(platform, "dev")

    error = _refused(platform, lambda: platform.registry.register(dev, MODEL, NewVersion(
        artifact=bad, flavour=BUNDLE, signature=Signature.of_names(["a", "b"]))),
        "artifact", "artifact.format")
    with pytest.raises(ArtifactFormatError, match="aborted"):
        check_format(BUNDLE, bad, sha256_hex(bad))

    assert "parser aborted (signal 6)" in str(error)


def test_a_sound_lightgbm_bundle_still_loads(platform: Platform) -> None:
    """The check parses good text once, in a child, and lets it through."""
    good = lightgbm_bundle()
    version = platform.registry.register(staff(platform, "dev"), MODEL, NewVersion(
        artifact=good, flavour=BUNDLE, signature=Signature.of_names(["a", "b"])))

    loaded = platform.registry.load(version)

    assert isinstance(loaded.estimator, lgb.Booster)


@pytest.mark.parametrize("flavour", [SKLEARN, BUNDLE])
def test_a_pickle_is_refused_for_either_flavour(platform: Platform, flavour: str) -> None:
    """A pickle registered as skops or as a bundle is refused by name, not a BadZipFile;
    a stored one is refused on loading too."""
    fitted = pickle.dumps(LogisticRegression())
    dev = staff(platform, "dev")
    _refused(platform, lambda: platform.registry.register(dev, MODEL, NewVersion(
        artifact=fitted, flavour=flavour, signature=Signature.of_names(["x"]))),
        "artifact", "artifact.format")
    version = register_tiny(platform, dev)
    stored = platform.artifacts.put(fitted)

    with pytest.raises(ArtifactFormatError, match="a pickle or any other format is refused"):
        platform.registry.load(replace(version, flavour=flavour, artifact_sha256=stored))


@pytest.fixture
def people(platform: Platform) -> dict[str, Principal]:
    cast = {name: staff(platform, name) for name in ("dev", "ops", "mira", "aude")}
    cast["admin"] = admins(platform)[0]
    register_tiny(platform, cast["dev"])
    return cast


LONG = "x" * 1_001
TOO_LONG: dict[str, tuple[str, Callable[[Platform, dict[str, Principal]], object]]] = {
    "display name": ("display_name", lambda p, c: p.identity.add_user(
        c["admin"], "newcomer", roles=frozenset({Role.AUDITOR}), display_name=LONG)),
    "service account name": ("display_name", lambda p, c: p.identity.add_service_account(
        c["admin"], "app", scopes=frozenset({"*"}), display_name=LONG)),
    "token description": ("description", lambda p, c: p.identity.create_token(
        c["dev"], description=LONG)),
    "finding title": ("title", lambda p, c: p.oversight.raise_finding(
        c["mira"], "pd", severity=Severity.LOW, title=LONG, owner="dev",
        due=date.today() + timedelta(days=30))),
    "alert title": ("title", lambda p, c: p.oversight.open_alert(
        c["ops"], "pd", severity="red", title=LONG)),
    "exception gate": ("gate", lambda p, c: p.oversight.grant_exception(
        c["mira"], "pd@1", gate=LONG, justification="j",
        expires=date.today() + timedelta(days=30))),
    "model owner": ("owner", lambda p, c: p.registry.define_model(
        c["dev"], Model(name="pd", domain=Domain.CREDIT, risk_tier=1, owner=LONG,
                        developer="dev"))),
}


@pytest.mark.parametrize("case", TOO_LONG)
def test_an_over_long_value_is_refused_alike_and_audited(
        platform: Platform, people: dict[str, Principal], case: str) -> None:
    """A value longer than its column is refused before writing, on both backends (SQLite
    would keep it, PostgreSQL would fail with a driver error), and the refusal is audited."""
    field, call = TOO_LONG[case]

    _refused(platform, lambda: call(platform, people), field, "input.text_length")


def test_a_refusal_naming_an_over_long_path_is_still_audited(
        platform: Platform, people: dict[str, Principal]) -> None:
    """Someone without the role asks to train from a 1,000-character path: the refusal's
    subject is shortened to fit, so it is recorded on both backends."""
    with pytest.raises(PermissionDeniedError):
        platform.training.train(people["aude"], Path(LONG + ".yaml"))

    last = audit_events(platform)[-1]
    assert (last.action, last.actor) == ("auth.forbidden", "aude")
    assert len(last.subject) == 500
    assert last.subject.endswith(f"(sha256 {sha256_hex('spec:' + LONG + '.yaml')})")


HUGE_NUMBERS: dict[str, tuple[str, Callable[[Platform, dict[str, Principal]], object]]] = {
    "audit log limit": ("limit", lambda p, c: p.audit.events(c["aude"], limit=HUGE)),
    "grant number": ("grant_id", lambda p, c: p.identity.confirm_grant(c["admin"], HUGE)),
    "request number": ("request_id", lambda p, c: p.oversight.approve(
        c["mira"], HUGE, role=Role.MODEL_RISK)),
    "finding number": ("finding_id", lambda p, c: p.oversight.close_finding(
        c["mira"], HUGE, note="")),
    "alert number": ("alert_id", lambda p, c: p.alerts.resolve(c["ops"], HUGE,
                                                                comment="fixed")),
}


@pytest.mark.parametrize("case", HUGE_NUMBERS)
def test_a_number_beyond_the_store_is_refused_and_audited(
        platform: Platform, people: dict[str, Principal], case: str) -> None:
    """An id or limit beyond what an INTEGER column holds is refused, not an OverflowError."""
    field, call = HUGE_NUMBERS[case]

    _refused(platform, lambda: call(platform, people), field, "input.integer_range")


def test_a_version_number_beyond_the_store_is_invalid_input(platform: Platform) -> None:
    """`NAME@99999999999999999999` is a refusal naming the reference, on both backends."""
    with pytest.raises(InvalidInputError, match="outside 1..2147483647") as caught:
        platform.registry.get(f"pd@{HUGE}")

    assert (caught.value.field, caught.value.rule) == ("model", "input.integer_range")


def test_the_cli_names_a_huge_limit(platform: Platform, people: dict[str, Principal],
                                    tmp_path: Path) -> None:
    """`bankml audit log --limit 10**20` ends in the refusal naming its rule (which the
    entry point prints, exit 1), not an OverflowError."""
    token = platform.identity.create_token(people["aude"]).plaintext
    settings = {"BANKML_METADATA_URL": platform.settings.resolved_metadata_url}

    result = CliRunner().invoke(app, ["audit", "log", "--limit", str(HUGE), "--home",
                                      str(tmp_path / "home"), "--token", token], env=settings)

    assert isinstance(result.exception, InvalidInputError)
    assert result.exception.rule == "input.integer_range"


def test_a_huge_number_no_service_checks_still_fails_as_input(platform: Platform) -> None:
    """A path that passes an integer beyond 64 bits straight to the store (the feature
    store's NAME@N) fails as store.value_fits, not as an OverflowError."""
    with pytest.raises(BankmlError) as caught:
        platform.features.version(f"balances@{HUGE}")

    assert (caught.value.field, caught.value.rule) == ("value", "store.value_fits")
