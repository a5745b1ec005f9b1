"""Markers by folder, and the servers integration tests talk to."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from bankml import Platform
from bankml.stores.sql import SqlMetadataStore
from bankml.stores.sql.roles import runtime_grants

POSTGRES_URL = os.environ.get("BANKML_TEST_POSTGRES_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("BANKML_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
TESTS = Path(__file__).parent
# Read before tests clear the environment: tests on the real public data run when it is set.
REAL_DATASETS = os.environ.get("BANKML_DATASETS")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        folder = Path(str(item.fspath)).relative_to(TESTS).parts[0]
        if folder in ("integration", "e2e"):
            item.add_marker(getattr(pytest.mark, folder))


def unavailable(service: str, reason: object) -> None:
    """Absent servers skip a local run and fail under CI, where they must be there."""
    message = f"{service} is not reachable: {reason}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A URL whose search_path is a fresh schema, dropped after the test."""
    yield from _fresh_schema()


@pytest.fixture(scope="module")
def postgres_module_url() -> Iterator[str]:
    """As `postgres_url`, shared by the tests of one module (for costly set-ups)."""
    yield from _fresh_schema()


def _fresh_schema() -> Iterator[str]:
    engine = create_engine(POSTGRES_URL)
    schema = f"bankml_test_{uuid.uuid4().hex[:12]}"
    try:
        with engine.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except OperationalError as exc:
        engine.dispose()
        unavailable("PostgreSQL", exc.orig)
    url = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    yield url.render_as_string(hide_password=False)
    with engine.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


@pytest.fixture
def runtime_url(postgres_url: str) -> Iterator[str]:
    """`postgres_url`'s schema as a role of its own that may change rows but owns nothing,
    as docs/security.md sets one up; the owner (`postgres_url`) migrates."""
    owner = make_url(postgres_url)
    schema = str(owner.query["options"]).removeprefix("-csearch_path=")
    role = f"bankml_runtime_{uuid.uuid4().hex[:12]}"
    engine = create_engine(POSTGRES_URL)
    with engine.begin() as connection:
        connection.execute(text(f'CREATE ROLE "{role}" LOGIN'))
        for statement in runtime_grants(schema, role):
            connection.execute(text(statement))
    yield owner.set(username=role).render_as_string(hide_password=False)
    with engine.begin() as connection:
        connection.execute(text(f'DROP OWNED BY "{role}"'))
        connection.execute(text(f'DROP ROLE "{role}"'))
    engine.dispose()


@pytest.fixture
def redis_url() -> Iterator[str]:
    """The test Redis URL; the test's keys live under `redis_prefix` and are deleted after."""
    import redis  # noqa: PLC0415 - only Redis tests need the client

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError as exc:
        client.close()
        unavailable("Redis", exc)
    yield REDIS_URL
    client.close()


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[str]:
    """A key prefix of this test alone; every key under it is deleted afterwards."""
    import redis  # noqa: PLC0415 - only Redis tests need the client

    prefix = f"bankml_test_{uuid.uuid4().hex[:12]}:"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite store migrated once per session; tests start from a copy of it, which is
    what migrating a fresh file gives, for a fraction of the time."""
    path = tmp_path_factory.mktemp("template") / "metadata.db"
    store = SqlMetadataStore(f"sqlite:///{path}")
    store.migrate()
    store.close()
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def metadata_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each metadata test runs once on SQLite and once on PostgreSQL (migrated stores)."""
    if request.param == "sqlite":
        path = tmp_path / "metadata.db"
        shutil.copyfile(request.getfixturevalue("migrated_sqlite"), path)
        return f"sqlite:///{path}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_metadata_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty store on each backend, for tests of the migrations themselves."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'metadata.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def platform_settings() -> dict[str, Any]:
    """Settings the `platform` fixture opens with; a test changes them by parametrizing
    this name."""
    return {}


@pytest.fixture
def platform(request: pytest.FixtureRequest, tmp_path: Path, metadata_url: str,
             platform_settings: dict[str, Any]) -> Iterator[Platform]:
    """A platform on each backend; on PostgreSQL it runs as a role without DDL rights, and
    the schema's owner migrates, as in production (docs/security.md)."""
    urls = {"metadata_url": metadata_url}
    if metadata_url.startswith("postgresql"):
        urls = {"metadata_url": request.getfixturevalue("runtime_url"),
                "migration_url": metadata_url}
    with Platform.open(tmp_path / "home", **urls, **platform_settings) as opened:
        yield opened


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test sees the developer's BANKML_* settings or a bankml.yaml in the cwd."""
    for variable in list(os.environ):
        if variable.startswith("BANKML_") and not variable.startswith("BANKML_TEST_"):
            monkeypatch.delenv(variable)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def real_datasets() -> Path:
    """The folder of public datasets; tests that need it skip when BANKML_DATASETS is unset."""
    if not REAL_DATASETS:
        pytest.skip("BANKML_DATASETS is not set; the real public datasets are optional")
    return Path(REAL_DATASETS)
