"""Settings from `BANKML_*` environment variables and an optional `bankml.yaml`.

Precedence, highest first: arguments, environment, the YAML file (`BANKML_CONFIG`, else
`./bankml.yaml` when present), embedded defaults under `BANKML_HOME` (default `./.bankml`).
"""

from __future__ import annotations

import difflib
import os
import re
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from bankml.core.errors import InvalidInputError, SettingsError
from bankml.documents import load_yaml

ENV_PREFIX = "BANKML_"
# Variables that share the prefix but are not settings of a running platform.
NOT_SETTINGS = ("BANKML_CONFIG", "BANKML_TEST_")
SUPPORTED_DATABASES = ("sqlite", "postgresql")
SUPPORTED_ONLINE_STORES = ("sqlite:///", "redis://", "rediss://")
IMPORT_PATH = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+")


class Settings(BaseSettings):
    """Where bankml keeps things and how it behaves."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid", frozen=True)

    home: Path = Field(Path(".bankml"), description="Folder of the embedded stores.")
    metadata_url: str | None = Field(
        None, description="SQLAlchemy URL of the metadata database; default SQLite in home.")
    artifacts_uri: str | None = Field(
        None, description="Folder or fsspec URI of the artifact store; default in home.")
    online_url: str | None = Field(
        None, description="Online feature store: sqlite:///PATH or redis://HOST:PORT/DB; "
        "default SQLite in home.")
    offline_uri: Path | None = Field(
        None, description="Folder of offline feature data (pushed events); default in home.")
    datasets: Path | None = Field(
        None, description="Folder of the public datasets (german_credit/ ...); when unset "
        "the seeded synthetic data shipped with bankml is used.")
    actor: str = Field(
        default_factory=lambda: os.environ.get("USER") or "local-user",
        description="The first admin's name at `bankml init`, and the demo's actor.")
    policies: Path | None = Field(
        None, description="Folder of the bank's tier policies (tier-1.yaml ... tier-3.yaml); "
        "default: the policies shipped with bankml.")
    token: SecretStr | None = Field(
        None, description="The API token the CLI acts with (BANKML_TOKEN); shown once when "
        "created, never stored by bankml in plain text.")
    auto_migrate: bool = Field(
        True, description="Apply pending metadata migrations when the platform opens.")
    # NoDecode: the environment gives a comma-separated list, not JSON.
    estimator_allowlist: Annotated[tuple[str, ...], NoDecode] = Field(
        (), description="Import paths of classifier classes, beyond scikit-learn's own, that "
        "a pipeline spec's `estimator.class` may name; comma-separated. Add a class only "
        "after review: training, reproduction and validation import it (docs/security.md).")

    serve_host: str = Field(
        "127.0.0.1", description="Address `bankml serve` listens on; loopback by default, "
        "so nothing is exposed until an operator says so.")
    serve_port: int = Field(8080, ge=1, le=65535, description="Port of `bankml serve`.")
    serve_max_body_bytes: int = Field(
        1_048_576, ge=1_024, description="Largest request body `bankml serve` reads (413 "
        "beyond it).")
    serve_token_cache_s: float = Field(
        5.0, ge=0, le=300, description="How long `bankml serve` trusts an authenticated "
        "token before reading it again; a revoked token stops working within this time.")
    migration_url: str | None = Field(
        None, description="SQLAlchemy URL of the role that owns the metadata schema, used "
        "only to migrate; BANKML_METADATA_URL is then a role that may change rows but not "
        "the schema (docs/security.md). Default: migrate as BANKML_METADATA_URL.")
    lock_timeout_s: float = Field(
        5.0, gt=0, le=600, description="How long a write waits for a lock another writer "
        "holds before it fails as busy (rule store.busy).")
    pseudonym_key: SecretStr | None = Field(
        None, description="The HMAC key that pseudonymises customer ids (at least 32 "
        "characters); every process of one installation must share it.")
    pseudonym_key_file: Path | None = Field(
        None, description="A file holding the pseudonym key, when BANKML_PSEUDONYM_KEY is "
        "unset; default: secrets/pseudonym.key in the home, made on first use.")
    anchor_key: SecretStr | None = Field(
        None, description="The HMAC key that seals audit anchors (at least 32 characters); "
        "keep it where the database's administrators cannot read it.")
    anchor_key_file: Path | None = Field(
        None, description="A file holding the anchor key, when BANKML_ANCHOR_KEY is unset; "
        "default: secrets/anchor.key in the home, made on first use.")
    session_key: SecretStr | None = Field(
        None, description="The key that seals web UI session cookies (at least 32 "
        "characters); every worker of one server must share it.")
    session_key_file: Path | None = Field(
        None, description="A file holding the session key, when BANKML_SESSION_KEY is "
        "unset; default: secrets/session.key in the home, made on first use.")
    ui_session_hours: float = Field(
        8.0, gt=0, le=24, description="How long a web UI sign-in lasts before the token "
        "must be given again.")
    anchor_interval_s: float = Field(
        3600.0, ge=0, description="Anchor the audit chain's head at most this far apart, "
        "after a write; 0 anchors only on export and on `bankml audit anchor`.")
    statement_timeout_s: float = Field(
        60.0, ge=0, le=86_400, description="PostgreSQL: the longest one statement may run "
        "before it fails as busy; 0 for no limit.")

    alert_webhooks: list[str] = Field(
        default_factory=list, description="URLs that monitoring alerts are POSTed to as "
        "JSON (a JSON list in the environment).")
    alert_webhook_attempts: int = Field(
        4, ge=1, le=20, description="How many times an alert delivery is tried.")
    alert_webhook_backoff_s: float = Field(
        1.0, ge=0, le=600, description="The wait before the second try of a delivery; "
        "each further wait doubles it.")
    monitor_policy: Path | None = Field(
        None, description="The monitoring policy YAML runs use when none is given (its "
        "thresholds, maturity, retraining); default: the one bankml ships.")
    monitor_workers: int = Field(
        1, ge=1, le=64, description="How many worker processes a monitoring run measures "
        "endpoints in at once when none is given (`bankml monitor run`, `schedule` and the "
        "serve schedule); each holds one endpoint's window in memory. 1: in the process "
        "itself.")
    serve_monitor_cron: str | None = Field(
        None, description="Run monitoring inside `bankml serve` on this cron expression "
        "(UTC, e.g. '0 2 * * 1'); one process among workers and replicas fires it, the "
        "rollout controller's lease holder. Unset: no schedule inside serve.")
    serve_monitor_window_days: int = Field(
        7, ge=1, le=366, description="Window length of the runs the serve schedule fires.")
    automation_actor: str = Field(
        "automation", description="The name the retraining automation acts under (audit "
        "trail, registered versions, validation self-tests): never a person's user name.")
    shadow_worker: Literal["process", "thread"] = Field(
        "process", description="Where a rollout's shadow scoring runs: a process of its "
        "own beside each serving process, so the challenger never takes the champion's "
        "interpreter, or a thread of the serving process. A platform opened with its own "
        "clock or online store (simulations, tests) shadows on a thread.")
    rollout_interval_s: float = Field(
        5.0, gt=0, le=3600, description="How often the rollout controller inside `bankml "
        "serve` evaluates running rollouts.")
    rollout_lease_s: float = Field(
        15.0, gt=0, le=86_400, description="How long the controller's lease lasts without "
        "renewal: another worker or replica takes over this long after its holder died.")

    @field_validator("metadata_url", "migration_url")
    @classmethod
    def _known_database(cls, url: str | None) -> str | None:
        if url is not None and not url.startswith(SUPPORTED_DATABASES):
            raise ValueError(f"{url!r} is not a supported database URL; use sqlite:///PATH "
                             "or postgresql+psycopg://USER@HOST:PORT/DB")
        return url

    @field_validator("online_url")
    @classmethod
    def _known_online_store(cls, url: str | None) -> str | None:
        if url is not None and not url.startswith(SUPPORTED_ONLINE_STORES):
            raise ValueError(f"{url!r} is not a supported online store URL; use "
                             "sqlite:///PATH or redis://HOST:PORT/DB")
        return url

    @field_validator("estimator_allowlist", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("estimator_allowlist")
    @classmethod
    def _import_paths(cls, paths: tuple[str, ...]) -> tuple[str, ...]:
        for path in paths:
            if not IMPORT_PATH.fullmatch(path):
                raise ValueError(f"{path!r} is not an import path such as "
                                 "mybank.models.ScorecardClassifier")
        return paths

    @field_validator("actor")
    @classmethod
    def _named_actor(cls, actor: str) -> str:
        if not actor.strip():
            raise ValueError("must name a person or service")
        return actor

    @classmethod
    def settings_customise_sources(
        cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: tuple[PydanticBaseSettingsSource, ...] = (init_settings, env_settings)
        config_file = _config_file()
        if config_file is not None:
            sources += (_BoundedYamlSource(settings_cls, yaml_file=config_file),)
        return sources

    @property
    def resolved_metadata_url(self) -> str:
        return self.metadata_url or f"sqlite:///{(self.home / 'metadata.db').resolve()}"

    @property
    def resolved_artifacts_uri(self) -> str:
        return self.artifacts_uri or str((self.home / "artifacts").resolve())

    @property
    def resolved_online_url(self) -> str:
        return self.online_url or f"sqlite:///{(self.home / 'online.db').resolve()}"

    @property
    def resolved_offline_folder(self) -> Path:
        return (self.offline_uri or self.home / "offline").resolve()

    @property
    def pseudonym_key_path(self) -> Path:
        return self.pseudonym_key_file or self.home / "secrets" / "pseudonym.key"

    @property
    def anchor_key_path(self) -> Path:
        return self.anchor_key_file or self.home / "secrets" / "anchor.key"

    @property
    def session_key_path(self) -> Path:
        return self.session_key_file or self.home / "secrets" / "session.key"


class _BoundedYamlSource(YamlConfigSettingsSource):
    """bankml.yaml through bankml's one YAML loader (aliases bounded, no cycles)."""

    def _read_file(self, file_path: Path | Traversable) -> dict[str, Any]:
        text = file_path.read_text(encoding=self.yaml_file_encoding or "utf-8")
        try:
            data = load_yaml(text, source=str(file_path))
        except InvalidInputError as exc:
            raise SettingsError([(str(file_path), str(exc).split(": ", 1)[-1])],
                                rule=exc.rule) from exc
        if data is None:
            return {}
        if not isinstance(data, dict):
            raise SettingsError([(str(file_path), "must be a mapping of setting: value")])
        return data


def load_settings(**overrides: Any) -> Settings:
    """Settings from every source, or a SettingsError that names each wrong setting."""
    problems = _unknown_variables()
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        problems += [(_setting_name(error["loc"]), error["msg"]) for error in exc.errors()]
    if problems:
        raise SettingsError(problems)
    return settings


def _config_file() -> Path | None:
    explicit = os.environ.get("BANKML_CONFIG")
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise SettingsError([("BANKML_CONFIG", f"{path} does not exist")])
        return path
    local = Path("bankml.yaml")
    return local if local.is_file() else None


def _unknown_variables() -> list[tuple[str, str]]:
    known = {f"{ENV_PREFIX}{name.upper()}" for name in Settings.model_fields}
    problems = []
    for variable in sorted(os.environ):
        if not variable.startswith(ENV_PREFIX) or variable in known:
            continue
        if variable.startswith(NOT_SETTINGS):
            continue
        guess = difflib.get_close_matches(variable, known, n=1)
        hint = f"; did you mean {guess[0]}?" if guess else f"; known: {', '.join(sorted(known))}"
        problems.append((variable, f"is not a bankml setting{hint}"))
    return problems


def _setting_name(location: tuple[int | str, ...]) -> str:
    field = str(location[0]) if location else "settings"
    if field in Settings.model_fields:
        return f"{ENV_PREFIX}{field.upper()} ({field} in bankml.yaml)"
    return f"{field} (in bankml.yaml: not a bankml setting)"
