"""Settings: sources, precedence and errors that name the setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from bankml.core.errors import SettingsError
from bankml.settings import load_settings


def test_defaults_live_under_home(tmp_path: Path) -> None:
    """With nothing set, every store sits under ./.bankml."""
    settings = load_settings()

    assert settings.home == Path(".bankml")
    assert settings.resolved_metadata_url == f"sqlite:///{tmp_path / '.bankml' / 'metadata.db'}"
    assert settings.resolved_artifacts_uri == str(tmp_path / ".bankml" / "artifacts")


def test_environment_sets_values(monkeypatch: pytest.MonkeyPatch) -> None:
    """BANKML_* variables set the settings of the same name."""
    monkeypatch.setenv("BANKML_HOME", "/srv/bankml")
    monkeypatch.setenv("BANKML_AUTO_MIGRATE", "false")

    settings = load_settings()

    assert settings.home == Path("/srv/bankml")
    assert settings.auto_migrate is False


def test_yaml_file_is_read_and_environment_wins(monkeypatch: pytest.MonkeyPatch,
                                                tmp_path: Path) -> None:
    """./bankml.yaml sets values; an environment variable overrides the file."""
    (tmp_path / "bankml.yaml").write_text("home: /from/yaml\nactor: yaml-user\n")
    monkeypatch.setenv("BANKML_ACTOR", "env-user")

    settings = load_settings()

    assert settings.home == Path("/from/yaml")
    assert settings.actor == "env-user"


def test_arguments_win_over_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    """Explicit arguments (Platform.open, --home) override the environment."""
    monkeypatch.setenv("BANKML_HOME", "/env")

    assert load_settings(home=Path("/arg")).home == Path("/arg")


def test_config_variable_points_at_another_file(monkeypatch: pytest.MonkeyPatch,
                                                tmp_path: Path) -> None:
    """BANKML_CONFIG names the YAML file to read."""
    config = tmp_path / "elsewhere.yaml"
    config.write_text("actor: configured\n")
    monkeypatch.setenv("BANKML_CONFIG", str(config))

    assert load_settings().actor == "configured"


def test_missing_config_file_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    """A BANKML_CONFIG that points nowhere is an error naming the variable."""
    monkeypatch.setenv("BANKML_CONFIG", "/no/such/bankml.yaml")

    with pytest.raises(SettingsError, match="BANKML_CONFIG: /no/such/bankml.yaml does not exist"):
        load_settings()


def test_misspelt_variable_is_named_with_a_suggestion(monkeypatch: pytest.MonkeyPatch) -> None:
    """A BANKML_ variable that is no setting is an error that suggests the likely one."""
    monkeypatch.setenv("BANKML_METADTA_URL", "sqlite:///x.db")

    with pytest.raises(SettingsError, match="BANKML_METADTA_URL: is not a bankml setting; "
                                            "did you mean BANKML_METADATA_URL"):
        load_settings()


def test_wrong_value_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    """A value of the wrong type names the variable and the problem."""
    monkeypatch.setenv("BANKML_AUTO_MIGRATE", "perhaps")

    with pytest.raises(SettingsError, match="BANKML_AUTO_MIGRATE .*valid boolean"):
        load_settings()


def test_unsupported_database_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only SQLite and PostgreSQL URLs are accepted for the metadata store."""
    monkeypatch.setenv("BANKML_METADATA_URL", "mysql://root@localhost/db")

    with pytest.raises(SettingsError, match="BANKML_METADATA_URL .*not a supported database"):
        load_settings()


def test_unknown_yaml_key_is_named(tmp_path: Path) -> None:
    """A key in bankml.yaml that is no setting is an error naming the key."""
    (tmp_path / "bankml.yaml").write_text("homee: /x\n")

    with pytest.raises(SettingsError, match=r"homee \(in bankml.yaml: not a bankml setting\)"):
        load_settings()


def test_every_problem_is_reported_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Several wrong settings are listed together, not one per attempt."""
    monkeypatch.setenv("BANKML_AUTO_MIGRATE", "perhaps")
    monkeypatch.setenv("BANKML_HOMEE", "/x")

    with pytest.raises(SettingsError) as caught:
        load_settings()

    assert [name.split()[0] for name, _ in caught.value.problems] == [
        "BANKML_HOMEE", "BANKML_AUTO_MIGRATE"]


def test_estimator_allowlist_is_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    """BANKML_ESTIMATOR_ALLOWLIST lists import paths separated by commas."""
    monkeypatch.setenv("BANKML_ESTIMATOR_ALLOWLIST",
                       "mybank.models.ScorecardClassifier, mybank.models.Other,")

    assert load_settings().estimator_allowlist == ("mybank.models.ScorecardClassifier",
                                                   "mybank.models.Other")


def test_estimator_allowlist_reads_a_yaml_list(tmp_path: Path) -> None:
    """In bankml.yaml the allowlist may be a list."""
    (tmp_path / "bankml.yaml").write_text("estimator_allowlist: [mybank.models.Scorecard]\n")

    assert load_settings().estimator_allowlist == ("mybank.models.Scorecard",)


def test_estimator_allowlist_entry_must_be_an_import_path(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """An entry that is no dotted import path is named, with an example of one."""
    monkeypatch.setenv("BANKML_ESTIMATOR_ALLOWLIST", "mybank.models.Scorecard,os system")

    with pytest.raises(SettingsError, match="BANKML_ESTIMATOR_ALLOWLIST .*'os system' is not "
                                            "an import path"):
        load_settings()
