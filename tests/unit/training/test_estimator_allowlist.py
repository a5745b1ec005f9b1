"""Estimators come from an allowlist: a spec or manifest naming anything else runs nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bankml.core.errors import SpecError
from bankml.training.allowlist import EstimatorAllowlist, check_estimator
from bankml.training.spec import LoadedSpec, load_spec, parse_spec, spec_from_recorded
from support.attacks import ATTACKS, MARKER, attack, with_estimator

EXAMPLES = Path(__file__).parents[3] / "src" / "bankml" / "examples"
BASE = (EXAMPLES / "german_credit_pd.yaml").read_text()
FOREST = "sklearn.ensemble.RandomForestClassifier"


@pytest.fixture(autouse=True)
def _importable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The marker modules in tmp_path could be imported, had the allowlist let them."""
    monkeypatch.syspath_prepend(str(tmp_path))


def parse(text: str, folder: Path, *, extra: tuple[str, ...] = ()) -> LoadedSpec:
    return parse_spec(text, source="spec.yaml", folder=folder,
                      allowlist=EstimatorAllowlist(frozenset(extra)))


def declaring(block: dict[str, Any]) -> str:
    return with_estimator(BASE, block)


def forest(**params: Any) -> str:
    return declaring({"kind": "sklearn", "class": FOREST, "params": params})


def line_of(text: str, fragment: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if fragment in line)


def manifest_naming(block: dict[str, Any], folder: Path) -> dict[str, Any]:
    """A recorded spec (as a manifest holds it) whose estimator is `block`."""
    described = parse_spec(BASE, source="spec.yaml", folder=folder).spec.described()
    return {**described, "estimator": block}


@pytest.mark.parametrize("name", ATTACKS)
def test_spec_naming_a_non_classifier_is_refused_unrun(tmp_path: Path, name: str) -> None:
    """A callable or a non-classifier class is refused at its line, and nothing runs."""
    block = attack(name, tmp_path)
    text = declaring(block)

    with pytest.raises(SpecError, match=rf"line {line_of(text, 'class:')}, estimator.class: "
                                        rf"'{block['class']}' is not on the estimator "
                                        "allowlist, so nothing was imported") as caught:
        parse(text, tmp_path)
    assert caught.value.rule == "pipeline.estimator_allowed"
    assert not (tmp_path / MARKER).exists()


@pytest.mark.parametrize("name", ATTACKS)
def test_manifest_naming_a_non_classifier_is_refused_unrun(tmp_path: Path, name: str) -> None:
    """A recorded spec is checked as a file is: refused by field and rule, nothing runs."""
    block = attack(name, tmp_path)

    with pytest.raises(SpecError, match=rf"manifest of pd@1 cannot be used .*\n  "
                                        rf"estimator.class: '{block['class']}' is not on "
                                        "the estimator allowlist") as caught:
        spec_from_recorded(manifest_naming(block, tmp_path), source="manifest of pd@1",
                           folder=tmp_path)
    assert caught.value.rule == "pipeline.estimator_allowed"
    assert not (tmp_path / MARKER).exists()


@pytest.mark.parametrize("name", ["os.system", "subprocess.Popen", "builtins.exec",
                                  "sklearn.preprocessing.StandardScaler"])
def test_bank_allowlisted_path_must_still_be_a_classifier_class(tmp_path: Path,
                                                                name: str) -> None:
    """A path the bank allowlisted is imported, but refused uncalled unless a classifier."""
    block = attack(name, tmp_path)

    with pytest.raises(SpecError, match=rf"estimator.class: '{block['class']}' is not a "
                                        "scikit-learn classifier class") as caught:
        parse(declaring(block), tmp_path, extra=(name,))
    assert caught.value.rule == "pipeline.estimator_allowed"
    assert not (tmp_path / MARKER).exists()


@pytest.mark.parametrize("path", ["mybank_absent.models.Scorecard",
                                  "sklearn.ensemble.NoSuchClassifier", "Scorecard"])
def test_bank_allowlisted_path_that_cannot_be_imported_is_named(tmp_path: Path,
                                                                path: str) -> None:
    """A reviewed entry that names nothing importable is an estimator that cannot be built."""
    text = declaring({"kind": "sklearn", "class": path})

    with pytest.raises(SpecError, match=rf"estimator.class: cannot import '{path}'") as caught:
        parse(text, tmp_path, extra=(path,))
    assert caught.value.rule == "pipeline.estimator"


def test_bank_allowlist_admits_a_reviewed_classifier(tmp_path: Path) -> None:
    """A classifier outside scikit-learn is refused until the bank's allowlist names it."""
    text = declaring({"kind": "sklearn", "class": "lightgbm.LGBMClassifier",
                      "params": {"n_estimators": 10}})

    with pytest.raises(SpecError, match="is not on the estimator allowlist"):
        parse(text, tmp_path)
    reviewed = EstimatorAllowlist(frozenset({"lightgbm.LGBMClassifier"}))
    allowed = check_estimator(parse(text, tmp_path, extra=tuple(reviewed.extra)), reviewed)
    assert allowed.factory is not None
    assert allowed.factory.__name__ == "LGBMClassifier"


@pytest.mark.parametrize("path", [FOREST, "sklearn.ensemble._forest.RandomForestClassifier"])
def test_scikit_learn_classifier_is_allowed_by_public_or_module_path(tmp_path: Path,
                                                                    path: str) -> None:
    """Where scikit-learn documents a classifier and where it is defined both resolve."""
    text = declaring({"kind": "sklearn", "class": path, "params": {"n_estimators": 20}})

    allowed = check_estimator(parse(text, tmp_path), EstimatorAllowlist())

    assert allowed.factory is not None
    assert allowed.factory.__name__ == "RandomForestClassifier"


def test_classifier_without_predict_proba_is_refused(tmp_path: Path) -> None:
    """A classifier that gives no probabilities cannot score; it is refused at load."""
    text = declaring({"kind": "sklearn", "class": "sklearn.linear_model.RidgeClassifier"})

    with pytest.raises(SpecError, match="RidgeClassifier has no predict_proba") as caught:
        parse(text, tmp_path)
    assert caught.value.rule == "pipeline.estimator_allowed"


def test_unknown_param_is_refused_with_the_likely_name(tmp_path: Path) -> None:
    """A param the constructor does not name is refused at its line, with a suggestion."""
    text = forest(n_estimator=20)

    with pytest.raises(SpecError, match=rf"line {line_of(text, 'n_estimator:')}, "
                                        r"estimator.params.n_estimator: 'n_estimator' is not "
                                        "a parameter of RandomForestClassifier; did you mean "
                                        "n_estimators") as caught:
        parse(text, tmp_path)
    assert caught.value.rule == "pipeline.estimator_params"


def test_logistic_regression_params_are_checked_too(tmp_path: Path) -> None:
    """The logistic_regression kind takes only LogisticRegression's params."""
    text = BASE.replace("max_iter: 1000", "max_iters: 1000")

    with pytest.raises(SpecError, match="'max_iters' is not a parameter of "
                                        "LogisticRegression") as caught:
        parse(text, tmp_path)
    assert caught.value.rule == "pipeline.estimator_params"


@pytest.mark.parametrize("value", ["model.pkl", "MODEL.PICKLE", "m.joblib", "s3://b/m.sav",
                                   "m.dill", "m.cloudpickle", "m.pkl.gz"])
def test_param_naming_a_pickle_is_refused(tmp_path: Path, value: str) -> None:
    """A string that looks like a pickle file is refused, whether or not the file exists."""
    with pytest.raises(SpecError, match=r"estimator.params.criterion: .* looks like a pickle "
                                        "file") as caught:
        parse(forest(criterion=value), tmp_path)
    assert caught.value.rule == "pipeline.estimator_params"


@pytest.mark.parametrize("relative", [True, False], ids=["beside-the-spec", "absolute"])
def test_param_naming_an_existing_file_is_refused(tmp_path: Path, relative: bool) -> None:
    """A value naming a file, by its path or relative to the spec's folder, is refused."""
    folder = tmp_path / "specs"  # not the working directory
    folder.mkdir()
    (folder / "weights.bin").write_bytes(b"\x80")
    value = "weights.bin" if relative else str(folder / "weights.bin")

    with pytest.raises(SpecError, match=rf"'criterion' holds '{value}', which names an "
                                        "existing file") as caught:
        parse(forest(criterion=value), folder)
    assert caught.value.rule == "pipeline.estimator_params"


def test_lightgbm_params_are_checked_for_files(tmp_path: Path) -> None:
    """LightGBM's free-form params may not name files either."""
    spec = load_spec(EXAMPLES / "german_credit_pd_lightgbm.yaml").spec
    described = spec.described()
    described["estimator"]["params"] = {"forcedsplits_filename": "splits.joblib"}

    with pytest.raises(SpecError, match="forcedsplits_filename.*looks like a pickle file"):
        spec_from_recorded(described, source="manifest of gbm@1", folder=tmp_path)


@pytest.mark.parametrize(("value", "kind"), [
    (b"\x80\x04", "builtins.bytes"), (print, "builtins.builtin_function_or_method"),
    (Path("x"), "pathlib.PosixPath"), (type("Text", (str,), {})("gini"), "Text"),
    ({"nested": [1, {"deeper": object()}]}, "builtins.object")],
    ids=["bytes", "callable", "object", "str-subclass", "nested-object"])
def test_param_that_is_not_plain_data_is_refused(tmp_path: Path, value: object,
                                                 kind: str) -> None:
    """Only numbers, strings, booleans, null, and lists or mappings of those pass."""
    block = {"kind": "sklearn", "class": FOREST, "params": {"criterion": value}}

    with pytest.raises(SpecError, match=rf"'criterion' holds a .*{kind}; params are plain "
                                        "data") as caught:
        spec_from_recorded(manifest_naming(block, tmp_path), source="manifest of pd@1",
                           folder=tmp_path)
    assert caught.value.rule == "pipeline.estimator_params"


def test_param_that_contains_itself_is_refused(tmp_path: Path) -> None:
    """A list that holds itself is refused by its depth instead of looping."""
    looping: list[object] = [1]
    looping.append(looping)
    block = {"kind": "sklearn", "class": FOREST, "params": {"class_weight": looping}}

    with pytest.raises(SpecError, match="nests deeper than 10 levels"):
        spec_from_recorded(manifest_naming(block, tmp_path), source="manifest of pd@1",
                           folder=tmp_path)


def test_plain_params_are_accepted(tmp_path: Path) -> None:
    """Numbers, strings, booleans, null and nested lists and mappings pass unchanged."""
    text = forest(n_estimators=20, max_depth=None, bootstrap=True, criterion="entropy",
                  class_weight={0: 1, 1: 5}, max_features=0.5)

    allowed = check_estimator(parse(text, tmp_path), EstimatorAllowlist())

    assert allowed.declared.params["class_weight"] == {0: 1, 1: 5}


@pytest.mark.parametrize("name", ["german_credit_pd.yaml", "german_credit_pd_lightgbm.yaml",
                                  "card_fraud.yaml"])
def test_shipped_examples_pass_the_check(name: str) -> None:
    """The examples declare allowed estimators with plain params."""
    loaded = load_spec(EXAMPLES / name)

    assert check_estimator(loaded, EstimatorAllowlist()).declared == loaded.spec.estimator
