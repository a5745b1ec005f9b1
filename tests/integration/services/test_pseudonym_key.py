"""One pseudonym key per installation, from settings: two homes on one database give one
customer one pseudonym."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from bankml import Platform
from bankml.core.errors import SettingsError
from support.served import tiny_endpoint

KEY = "k3y-0f-0ne-installat10n-shared-by-every-process"
APPLICANT = {"customer_id": "c-1", "x0": 0.2}


def _pseudonym(platform: Platform, home: Path, **keys: object) -> str:
    # another process of the installation: its own home, the same database and artifacts
    settings = platform.settings.model_copy(update={
        "home": home, "artifacts_uri": platform.settings.resolved_artifacts_uri, **keys})
    with Platform.from_settings(settings) as opened:
        [record] = opened.decisions.decide(opened.identity.user("ops"), "pd-decisions",
                                           [APPLICANT])
    return record.customer_pseudo_id


@pytest.fixture
def shared(platform: Platform) -> Platform:
    tiny_endpoint(platform)
    return platform


def test_homes_sharing_a_database_share_pseudonyms_by_setting(shared: Platform,
                                                              tmp_path: Path) -> None:
    """With BANKML_PSEUDONYM_KEY (or a key file) set, processes with different homes give
    one customer one pseudonym; each home's own key would not."""
    key_file = tmp_path / "pseudonym.key"
    key_file.write_text(KEY)

    by_value = [_pseudonym(shared, tmp_path / home, pseudonym_key=SecretStr(KEY))
                for home in ("a", "b")]
    by_file = _pseudonym(shared, tmp_path / "c", pseudonym_key_file=key_file)
    per_home = [_pseudonym(shared, tmp_path / home) for home in ("d", "e")]

    assert by_value[0] == by_value[1] == by_file
    assert per_home[0] != per_home[1]


def test_a_short_or_missing_key_is_named(shared: Platform, tmp_path: Path) -> None:
    """A key shorter than 32 bytes, or a key file that is not there, stops the platform
    naming the setting."""
    with pytest.raises(SettingsError, match="BANKML_PSEUDONYM_KEY: holds a key shorter"):
        _pseudonym(shared, tmp_path / "a", pseudonym_key=SecretStr("short"))
    with pytest.raises(SettingsError, match="BANKML_PSEUDONYM_KEY_FILE: .* does not exist"):
        _pseudonym(shared, tmp_path / "b", pseudonym_key_file=tmp_path / "none")
