"""People, tokens and the audit export from the command line."""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from pathlib import Path

import pytest

from support.cli import bankml


@pytest.fixture
def home_and_admin_token(tmp_path: Path) -> tuple[str, str]:
    home = str(tmp_path / "home")
    result = bankml("init", "--home", home, "--admin", "ada")
    assert result.returncode == 0, result.stderr
    match = re.search(r"BANKML_TOKEN=(bml_\S+)", result.stdout)
    assert match is not None, result.stdout
    return home, match.group(1)


def test_init_prints_the_first_admin_token_once(home_and_admin_token: tuple[str, str]) -> None:
    """A second init creates no second admin and shows no token."""
    home, _ = home_and_admin_token

    again = bankml("init", "--home", home)

    assert again.returncode == 0, again.stderr
    assert "BANKML_TOKEN=" not in again.stdout
    assert "first admin" not in again.stdout


def test_admin_adds_a_person_who_then_acts_with_their_token(
        home_and_admin_token: tuple[str, str]) -> None:
    """The admin adds an auditor and mints their token; the auditor can list people."""
    home, admin_token = home_and_admin_token
    added = bankml("users", "add", "aude", "--role", "auditor", "--home", home,
                   token=admin_token)
    minted = bankml("tokens", "create", "--user", "aude", "--home", home, token=admin_token)
    aude_token = minted.stdout.strip().splitlines()[-1]

    listed = bankml("users", "list", "--home", home, token=aude_token)

    assert added.returncode == minted.returncode == listed.returncode == 0, listed.stderr
    assert "aude" in listed.stdout
    assert "auditor" in listed.stdout


def test_a_validator_role_waits_for_a_second_admin(
        home_and_admin_token: tuple[str, str]) -> None:
    """Granting validator asks for a second admin; the first cannot confirm it themselves,
    a second admin can, and then the role holds."""
    home, ada = home_and_admin_token
    bankml("users", "add", "otto", "--role", "admin", "--home", home, token=ada)
    otto = bankml("tokens", "create", "--user", "otto", "--home", home,
                  token=ada).stdout.strip().splitlines()[-1]
    added = bankml("users", "add", "vera", "--role", "validator", "--home", home, token=ada)
    grant = re.search(r"bankml users confirm (\d+)", added.stdout)
    assert grant is not None, added.stdout

    own = bankml("users", "confirm", grant.group(1), "--home", home, token=ada)
    confirmed = bankml("users", "confirm", grant.group(1), "--home", home, token=otto)
    listed = bankml("users", "list", "--home", home, token=otto)

    assert own.returncode == 1
    assert "rule: access.second_admin" in own.stderr
    assert confirmed.returncode == 0, confirmed.stderr
    assert "vera now holds validator" in confirmed.stdout
    [vera] = [line for line in listed.stdout.splitlines() if "vera" in line]
    assert "validator" in vera


def test_no_token_is_refused_with_the_rule(home_and_admin_token: tuple[str, str]) -> None:
    """A mutating command without a token exits 1 and names the rule."""
    home, _ = home_and_admin_token

    result = bankml("users", "add", "vera", "--role", "validator", "--home", home)

    assert result.returncode == 1
    assert "No API token was given" in result.stderr
    assert "rule: auth.token_valid" in result.stderr


def test_missing_role_is_refused_with_the_rule(home_and_admin_token: tuple[str, str]) -> None:
    """A person without the role gets exit 1 and the permission they lack."""
    home, admin_token = home_and_admin_token
    bankml("users", "add", "dana", "--role", "data_scientist", "--home", home, token=admin_token)
    dana_token = bankml("tokens", "create", "--user", "dana", "--home", home,
                        token=admin_token).stdout.strip().splitlines()[-1]

    result = bankml("users", "add", "xavier", "--role", "admin", "--home", home,
                    token=dana_token)

    assert result.returncode == 1
    assert "may not users.manage" in " ".join(result.stderr.split())
    assert "rule: auth.role_grants" in result.stderr


def test_revoked_token_stops_working(home_and_admin_token: tuple[str, str]) -> None:
    """After `tokens revoke`, the token is refused."""
    home, admin_token = home_and_admin_token
    minted = bankml("tokens", "create", "--home", home, token=admin_token)
    second = minted.stdout.strip().splitlines()[-1]
    token_id = second.split("_")[1]

    bankml("tokens", "revoke", token_id, "--home", home, token=admin_token)
    result = bankml("users", "list", "--home", home, token=second)

    assert result.returncode == 1
    assert "revoked" in result.stderr


def test_export_verifies_with_sha256_alone(home_and_admin_token: tuple[str, str],
                                           tmp_path: Path) -> None:
    """Every exported event's hash is sha256(prev_hash + hashed_text), linked line to line."""
    home, admin_token = home_and_admin_token
    bankml("users", "add", "aud", "--role", "auditor", "--home", home, token=admin_token)
    output = tmp_path / "audit.jsonl"

    result = bankml("audit", "export", "-o", str(output), "--home", home, token=admin_token)

    assert result.returncode == 0, result.stderr
    header, *events = [json.loads(line) for line in output.read_text().splitlines()]
    assert header["format"] == "bankml-audit-export/1"
    previous = "0" * 64
    for event in events:
        assert event["prev_hash"] == previous
        digest = hashlib.sha256((previous + event["hashed_text"]).encode()).hexdigest()
        assert digest == event["hash"]
        previous = event["hash"]
    assert len(events) >= 4


def test_verify_with_anchors_names_the_anchor_a_wipe_fails(
        home_and_admin_token: tuple[str, str]) -> None:
    """`bankml audit anchor`, then a wipe of the chain with its head reset: plain `verify`
    passes, `verify --anchors` exits 1 naming the anchor and what is missing."""
    home, admin_token = home_and_admin_token
    anchored = bankml("audit", "anchor", "--home", home, token=admin_token)
    assert anchored.returncode == 0, anchored.stderr
    digest = anchored.stdout.split(" as ")[-1].strip().rstrip(".")
    with sqlite3.connect(Path(home) / "metadata.db") as database:
        for trigger in ("audit_events_no_delete", "audit_head_forward_only"):
            database.execute(f"DROP TRIGGER {trigger}")
        database.execute("DELETE FROM audit_events")
        database.execute(f"UPDATE audit_head SET sequence = 0, hash = '{'0' * 64}'")

    plain = bankml("audit", "verify", "--home", home, token=admin_token)
    result = bankml("audit", "verify", "--anchors", "--home", home, token=admin_token)

    assert plain.returncode == 0, plain.stderr
    assert result.returncode == 1
    message = " ".join(result.stderr.split())
    assert f"anchor {digest[:12]} (requested," in message
    assert "the chain ends at event 0" in message


def test_verify_deep_names_a_role_given_in_its_row(home_and_admin_token: tuple[str, str]) -> None:
    """A role written into users.roles_json by hand: `verify` passes, `verify --deep` exits
    1 naming the row, the column and what the events give."""
    home, admin_token = home_and_admin_token
    with sqlite3.connect(Path(home) / "metadata.db") as database:
        database.execute("""UPDATE users SET roles_json = '["admin","validator"]'""")

    plain = bankml("audit", "verify", "--home", home, token=admin_token)
    result = bankml("audit", "verify", "--deep", "--home", home, token=admin_token)

    assert plain.returncode == 0, plain.stderr
    assert result.returncode == 1
    assert ("users.roles_json of ada: stored admin, validator, but the events that made it "
            "(event #1) give: admin.") in " ".join(result.stderr.split())
