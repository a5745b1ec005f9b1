"""Training, reproduction and validation refuse an estimator off the allowlist, running nothing.

The tampered manifests stand for a version registered before the allowlist by a hostile
spec, or edited in the database since: a validator who reproduces or validates it must not
run what it names.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, text

from bankml import Platform
from bankml.core.errors import SpecError
from bankml.core.registry import ModelVersion
from bankml.training.spec import LoadedSpec, PipelineSpec, load_spec
from support.attacks import ATTACKS, MARKER, attack, with_estimator
from support.people import staff

EXAMPLES = Path(__file__).parents[3] / "src" / "bankml" / "examples"
LOGISTIC = EXAMPLES / "german_credit_pd.yaml"
REVIEWED = "lightgbm.LGBMClassifier"  # a classifier outside scikit-learn, for the setting


@pytest.fixture(autouse=True)
def _importable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The marker modules in tmp_path could be imported, had the allowlist let them."""
    monkeypatch.syspath_prepend(str(tmp_path))


@pytest.fixture
def bankml(tmp_path: Path) -> Iterator[Platform]:
    with Platform.open(tmp_path / "home") as opened:
        yield opened


def tamper(dba: Connection, version: ModelVersion, estimator: dict[str, Any]) -> None:
    """Rewrite the version's recorded spec in the database to declare `estimator`."""
    stored = dba.execute(text("SELECT manifest_json FROM model_versions "
                              "WHERE name = :name AND number = :number"),
                         {"name": version.name, "number": version.number}).scalar_one()
    manifest = json.loads(stored)
    manifest["spec"]["estimator"] = estimator
    dba.execute(text("UPDATE model_versions SET manifest_json = :manifest "
                     "WHERE name = :name AND number = :number"),
                {"manifest": json.dumps(manifest), "name": version.name,
                 "number": version.number})
    dba.commit()


@pytest.fixture
def tampered(platform: Platform, dba: Connection, tmp_path: Path) -> ModelVersion:
    """A version registered normally whose manifest now names os.system."""
    version = platform.training.train(staff(platform, "dana"), LOGISTIC)
    tamper(dba, version, attack("os.system", tmp_path))
    return version


@pytest.mark.parametrize("name", ATTACKS)
def test_training_a_spec_naming_a_non_classifier_runs_nothing(
        bankml: Platform, tmp_path: Path, name: str) -> None:
    """`train` refuses before reading data: no marker, nothing registered or stored."""
    spec = tmp_path / "spec.yaml"
    spec.write_text(with_estimator(LOGISTIC.read_text(), attack(name, tmp_path)))

    with pytest.raises(SpecError, match="estimator.class: .* is not on the estimator "
                                        "allowlist") as caught:
        bankml.training.train(staff(bankml, "dana"), spec)
    assert caught.value.rule == "pipeline.estimator_allowed"
    assert not (tmp_path / MARKER).exists()
    assert bankml.registry.versions() == []


def test_build_checks_a_spec_that_skipped_load_spec(bankml: Platform, tmp_path: Path) -> None:
    """A LoadedSpec made in Python, never checked at load, is refused by the build itself."""
    described = load_spec(LOGISTIC).spec.described()
    described["estimator"] = attack("os.system", tmp_path)
    unchecked = LoadedSpec(PipelineSpec.model_validate(described), "notebook", tmp_path, {})

    with pytest.raises(SpecError, match="'os.system' is not on the estimator allowlist"):
        bankml.training.train(staff(bankml, "dana"), unchecked)
    assert not (tmp_path / MARKER).exists()


def test_reproduce_refuses_a_tampered_manifest(platform: Platform, tampered: ModelVersion,
                                               tmp_path: Path) -> None:
    """Reproducing names the recorded field and the rule, and runs nothing."""
    with pytest.raises(SpecError, match=rf"manifest of {tampered.ref} cannot be used .*\n"
                                        "  estimator.class: 'os.system' is not on the "
                                        "estimator allowlist") as caught:
        platform.training.reproduce(staff(platform, "vera"), tampered.ref)
    assert caught.value.rule == "pipeline.estimator_allowed"
    assert not (tmp_path / MARKER).exists()


def test_validation_refuses_a_tampered_manifest(platform: Platform, tampered: ModelVersion,
                                                tmp_path: Path) -> None:
    """Validating names the recorded field and the rule, scores nothing and stores no run."""
    with pytest.raises(SpecError, match=rf"manifest of {tampered.ref} cannot be used .*\n"
                                        "  estimator.class: 'os.system' is not on the "
                                        "estimator allowlist") as caught:
        platform.validation.run(staff(platform, "vera"), tampered.ref)
    assert caught.value.rule == "pipeline.estimator_allowed"
    assert not (tmp_path / MARKER).exists()
    assert platform.validation.runs(tampered.ref) == []


@pytest.mark.parametrize("metadata_url", ["sqlite"], indirect=True)  # a setting, not a store
def test_bank_allowlist_setting_reaches_validation(platform: Platform, dba: Connection,
                                                   metadata_url: str, tmp_path: Path) -> None:
    """A recorded class outside scikit-learn is validated once the bank's setting names it."""
    version = platform.training.train(staff(platform, "dana"), LOGISTIC)
    tamper(dba, version, {"kind": "sklearn", "class": REVIEWED, "params": {}})

    with pytest.raises(SpecError, match=f"'{REVIEWED}' is not on the estimator allowlist"):
        platform.validation.run(staff(platform, "vera"), version.ref)
    with Platform.open(tmp_path / "home", metadata_url=metadata_url,
                       estimator_allowlist=(REVIEWED,)) as reviewed:
        assert reviewed.validation.run(staff(reviewed, "vera"), version.ref).model == version.name


def test_bank_allowlist_setting_reaches_training(tmp_path: Path) -> None:
    """With the setting, training gets past the allowlist to the fit; the fitted LightGBM
    classifier then meets the artifact's own allowlist, which is reviewed separately."""
    spec = tmp_path / "spec.yaml"
    spec.write_text(with_estimator(LOGISTIC.read_text(), {
        "kind": "sklearn", "class": REVIEWED, "params": {"n_estimators": 5}}))

    with Platform.open(tmp_path / "home", estimator_allowlist=(REVIEWED,)) as platform, \
            pytest.raises(SpecError, match="outside the trusted allowlist") as caught:
        platform.training.train(staff(platform, "dana"), spec)
    assert caught.value.rule == "artifact.trusted_types"
