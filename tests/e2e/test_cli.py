"""The CLI as a user runs it: a real process, real exit codes, real files."""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from bankml import Platform
from bankml.core.identity import Role
from support.cli import bankml, demo_quick
from support.once import copy_of
from support.people import staff

TokenFor = Callable[[Path, Role], str]  # the token_for fixture (tests/e2e/conftest.py)



@pytest.fixture(scope="module")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A copy of the run's one demo (--quick: every step, on less data and fewer weeks)
    for the tests that read its results, and what it printed."""
    home, printed = demo_quick(tmp_path_factory)
    return copy_of(home, tmp_path_factory, "demo"), printed


def test_init_says_what_is_where(tmp_path: Path) -> None:
    """`bankml init` creates the home and prints each store's location."""
    home = tmp_path / "home"
    result = bankml("init", "--home", str(home))

    assert result.returncode == 0, result.stderr
    assert (home / "metadata.db").is_file()
    assert (home / "secrets" / "pseudonym.key").stat().st_mode & 0o777 == 0o600
    for label in ("metadata", "artifacts", "pseudonym key", "datasets"):
        assert label in result.stdout


def test_demo_ends_with_its_summary(demo_home: tuple[Path, str]) -> None:
    """The demo trains, registers, reproduces, decides, replays and verifies, then summarises."""
    _, output = demo_home

    assert "bankml demo: summary" in output
    assert "rebuilt: identical." in output
    assert re.search(r"Made 100 logged decisions over HTTP with bankml serve \(ready in "
                     r"[\d.]+ s\) and replayed one: identical\.", output)
    assert re.search(r"Audit trail: \d+ events, intact\.", output)
    assert re.search(r"Web UI: bankml serve --home \S+, then http://[\d.]+:\d+/ui", output)
    # every failure mode of the seed is shown caught, each where the narrative shows it
    assert "Not shown this run" not in output
    assert "Caught: unchecked bias" in output
    assert "registry.protected_not_input" in output


def test_demo_monitors_weeks_and_the_drift_turns_red(demo_home: tuple[Path, str],
                                                    token_for: TokenFor) -> None:
    """The simulated weeks are green until the inputs drift, then red; the runs and the
    alerts they opened are stored, so `bankml alerts`-style views see them afterwards."""
    home, output = demo_home
    weeks = re.search(r"red metrics per week \[(.*?)\], (\d+) alerts open", output)

    assert weeks is not None
    reds = [int(n) for n in weeks.group(1).split(",")]
    assert reds[:2] == [0, 0]
    assert all(n > 0 for n in reds[2:])
    status = bankml("monitor", "status", "--endpoint", "credit-pd", "--home", str(home),
                    token=token_for(home, Role.MODEL_RISK))
    assert status.returncode == 0, status.stderr
    assert "feature.psi[credit_amount]" in status.stdout
    assert "red" in status.stdout


def test_demo_gives_the_declined_applicants_reasons(demo_home: tuple[Path, str]) -> None:
    """The replayed decline is explained with up to four catalogue reason codes."""
    _, output = demo_home
    reasons = re.findall(r"^  R\d\d  ", output, flags=re.MULTILINE)

    assert "catalogue german-credit-pd-reasons" in output
    assert 1 <= len(reasons) <= 4


def test_audit_verify_passes_on_an_untouched_home(demo_home: tuple[Path, str],
                                                  token_for: TokenFor) -> None:
    """Verification of the demo's trail by an auditor succeeds with exit code 0."""
    result = bankml("audit", "verify", "--home", str(demo_home[0]),
                    token=token_for(demo_home[0], Role.AUDITOR))

    assert result.returncode == 0, result.stderr
    assert re.search(r"Audit trail intact: \d+ events", result.stdout)


def test_reading_the_audit_trail_needs_a_role(demo_home: tuple[Path, str],
                                              token_for: TokenFor) -> None:
    """The trail with its hashes is evidence: no token, or a data scientist's, is refused."""
    anonymous = bankml("audit", "log", "--json", "--home", str(demo_home[0]))
    scientist = bankml("audit", "log", "--json", "--home", str(demo_home[0]),
                       token=token_for(demo_home[0], Role.DATA_SCIENTIST))

    assert (anonymous.returncode, scientist.returncode) == (1, 1)
    assert "rule: auth.token_valid" in anonymous.stderr
    assert "rule: auth.role_grants" in scientist.stderr


def test_audit_log_filters_by_subject(demo_home: tuple[Path, str], token_for: TokenFor) -> None:
    """`audit log --subject` lists the events about one subject, as JSON lines on request."""
    result = bankml("audit", "log", "--home", str(demo_home[0]),
                    "--subject", "model:german-credit-pd@1", "--json",
                    token=token_for(demo_home[0], Role.AUDITOR))

    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert [event["action"] for event in events] == [
        "model.registered", "validation.run", "validation.recorded", "model.transitioned",
        "governance.refused",
        "model.transitioned", "validation.baseline_set",
        "model.transitioned"]  # archived when the demo's rollout made @2 champion
    assert events[0]["sequence"] > 1  # after the people and model.defined


@pytest.mark.slow
def test_audit_log_filters_by_action_and_actor(tmp_path: Path, token_for: TokenFor) -> None:
    """`audit log --action PREFIX. --actor NAME` lists only that actor's events under the
    prefix: the ones the audit service gives for the same filter."""
    home = tmp_path / "home"
    token = token_for(home, Role.AUDITOR)
    with Platform.open(home) as platform:
        staff(platform, "ops")
        expected = [e.sequence for e in platform.audit.events(
            staff(platform, "aude"), action="user.", actor="ada")]

    result = bankml("audit", "log", "--home", str(home), "--action", "user.",
                    "--actor", "ada", "--json", token=token)

    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert [e["sequence"] for e in events] == expected
    assert {e["action"] for e in events} == {"user.created", "user.granted"}
    # the first admin's own creation is the system's, and tokens are not user events
    assert {e["actor"] for e in events} == {"ada"}


def test_demo_features_agree(demo_home: tuple[Path, str]) -> None:
    """The demo's feature step ends with a skew check of zero mismatches."""
    assert "Feature skew check: 0 mismatches between offline and online." in demo_home[1]


def test_features_cli_applies_materializes_and_checks(tmp_path: Path,
                                                      token_for: TokenFor) -> None:
    """apply, materialize, get and skew-check work from the command line on one home."""
    home = str(tmp_path / "home")
    engineer = {"BANKML_TOKEN": token_for(tmp_path / "home", Role.ML_ENGINEER)}
    definitions = tmp_path / "features.py"
    data = tmp_path / "balances.csv"
    data.write_text("customer_id,event_timestamp,balance\n1,2020-01-01T00:00:00Z,5.5\n")
    definitions.write_text(
        "from bankml import Entity, FeatureView, Field, FileSource, Float64, Int64\n"
        "balances = FeatureView(name='balances', entities=(Entity(name='customer', "
        "join_keys=('customer_id',), dtype=Int64),), source=FileSource(path="
        f"{str(data)!r}, file_format='csv'), schema=(Field(name='balance', dtype=Float64),))\n")

    applied = bankml("features", "apply", str(definitions), "--home", home, env=engineer)
    loaded = bankml("features", "materialize", "--incremental", "--home", home, env=engineer)
    looked_up = bankml("features", "get", "--entity", "customer_id=1", "--feature",
                       "balances:balance", "--home", home, env=engineer)
    checked = bankml("features", "skew-check", "balances", "--home", home, env=engineer)

    assert "balances@1" in applied.stdout, applied.stderr
    assert "1 entities" in loaded.stdout, loaded.stderr
    assert "5.5" in looked_up.stdout, looked_up.stderr
    assert checked.returncode == 0, checked.stderr
    assert "0 mismatches." in checked.stdout


def test_unknown_feature_version_is_an_error(tmp_path: Path) -> None:
    """`features show` of a version that does not exist exits 1 with the rule."""
    result = bankml("features", "show", "nothing@2", "--home", str(tmp_path))

    assert result.returncode == 1
    assert "rule: reference.exists" in result.stderr


def test_models_list_shows_the_version(demo_home: tuple[Path, str]) -> None:
    """The registered demo model is listed with its stage and alias."""
    result = bankml("models", "list", "--home", str(demo_home[0]))

    assert "german-credit-pd@1" in result.stdout
    assert "prod" in result.stdout
    assert "champion" in result.stdout


def test_replay_from_the_command_line(demo_home: tuple[Path, str],
                                     token_for: TokenFor) -> None:
    """The decision the demo points to replays identically, for an auditor."""
    home, output = demo_home
    decision_id = re.search(r"decisions replay ([0-9a-f]{32})", output)
    assert decision_id is not None

    result = bankml("decisions", "replay", decision_id.group(1), "--home", str(home),
                    token=token_for(home, Role.AUDITOR))

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Identical")


def test_tampering_makes_verify_fail(tmp_path_factory: pytest.TempPathFactory,
                                     token_for: TokenFor) -> None:
    """An edited audit row makes `bankml audit verify` exit 1 and name the event."""
    home = copy_of(demo_quick(tmp_path_factory)[0], tmp_path_factory, "tampered")
    token = token_for(home, Role.AUDITOR)
    with sqlite3.connect(home / "metadata.db") as database:
        database.execute("DROP TRIGGER audit_events_no_update")
        database.execute("UPDATE audit_events SET actor = 'mallory' WHERE sequence = 7")

    result = bankml("audit", "verify", "--home", str(home), token=token)

    assert result.returncode == 1
    assert "broken at event 7 (edited)" in " ".join(result.stderr.split())


def test_wrong_setting_is_named(tmp_path: Path) -> None:
    """A bad BANKML_ variable stops the command with its name, the rule and exit code 1."""
    result = bankml("init", "--home", str(tmp_path), env={"BANKML_AUTO_MIGRATE": "perhaps"})

    assert result.returncode == 1
    assert "BANKML_AUTO_MIGRATE" in result.stderr
    assert "rule: settings.valid" in result.stderr
    assert "Traceback" not in result.stderr


def test_debug_shows_the_traceback(tmp_path: Path, token_for: TokenFor) -> None:
    """--debug adds the traceback for whoever must dig deeper."""
    token = token_for(tmp_path, Role.AUDITOR)
    result = bankml("--debug", "decisions", "show", "nope", "--home", str(tmp_path),
                    token=token)

    assert result.returncode == 1
    assert "Traceback" in result.stderr
    assert "No decision 'nope'" in result.stderr


def test_inventory_lists_the_demo_model(demo_home: tuple[Path, str],
                                        token_for: TokenFor) -> None:
    """`bankml inventory --format json` shows the four use cases' models, the credit one in
    prod with its validator, and none overdue."""
    token = token_for(demo_home[0], Role.MODEL_RISK)
    result = bankml("inventory", "--format", "json", "--home", str(demo_home[0]), token=token)
    overdue = bankml("inventory", "--overdue", "--format", "json", "--home", str(demo_home[0]),
                     token=token)

    rows = {row["model"]: row for row in json.loads(result.stdout)}
    assert set(rows) == {"german-credit-pd", "card-payment-fraud", "aml-alerts",
                         "term-deposit-propensity"}
    row = rows["german-credit-pd"]
    assert (row["model"], row["status"], row["validator"]) == ("german-credit-pd", "prod",
                                                                "vera")
    assert row["production_version"] == "german-credit-pd@2"  # the demo's rollout made it so
    assert json.loads(overdue.stdout) == []


def test_inventory_shows_who_granted_what(demo_home: tuple[Path, str],
                                         token_for: TokenFor) -> None:
    """`bankml inventory --access` lists every role grant with who asked and who confirmed."""
    result = bankml("inventory", "--access", "--home", str(demo_home[0]),
                    token=token_for(demo_home[0], Role.AUDITOR))

    assert result.returncode == 0, result.stderr
    [mira] = [line for line in result.stdout.splitlines() if " mira " in line]
    assert "model_risk" in mira
    assert "otto" in mira  # the second admin who confirmed it


def test_demo_writes_the_weekly_review_and_the_cli_writes_one_too(
        demo_home: tuple[Path, str], token_for: TokenFor, tmp_path: Path) -> None:
    """The demo's summary names its weekly review; `bankml report weekly --out` writes the
    file and prints its path and sha256, the digest of the bytes written."""
    home, output = demo_home
    named = re.search(r"Weekly review: (\S+weekly-(\d{4}-W\d\d)\.pdf)", output)
    assert named is not None
    assert Path(named.group(1)).read_bytes().startswith(b"%PDF")
    out = tmp_path / "minutes" / "review.html"

    result = bankml("report", "weekly", "--week", named.group(2), "--out", str(out),
                    "--home", str(home), token=token_for(home, Role.AUDITOR))

    assert result.returncode == 0, result.stderr
    digest = re.search(r"sha256 ([0-9a-f]{64})", result.stdout)
    assert digest is not None
    assert str(out) in result.stdout.replace("\n", "")
    assert hashlib.sha256(out.read_bytes()).hexdigest() == digest.group(1)


def test_a_week_that_is_no_iso_week_is_named(demo_home: tuple[Path, str],
                                             token_for: TokenFor) -> None:
    """`--week 2026-49` exits 1 naming the field and the rule."""
    result = bankml("report", "weekly", "--week", "2026-49", "--home", str(demo_home[0]),
                    token=token_for(demo_home[0], Role.AUDITOR))

    assert result.returncode == 1
    assert "week: '2026-49' is not an ISO week" in result.stderr
    assert "week.iso_format" in result.stderr
