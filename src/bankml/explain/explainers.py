"""Per-row contributions of a model's original inputs, reproducible bit for bit.

`explainer_for(model, background)` picks the explainer that fits the estimator:

- `tree` (default for LightGBM and scikit-learn trees and forests): `shap.TreeExplainer`,
  interventional over the background; baseline = mean raw output over the background.
- `lightgbm` (LightGBM, on request; the fast path for single decisions): LightGBM's
  `pred_contrib=True`, i.e. path-dependent TreeSHAP; baseline = mean raw output over the
  training rows, as the trees' node counts record it (the background is not used).
- `linear` (default for scikit-learn linear models): `shap.LinearExplainer`,
  interventional over the background; baseline = mean margin over the background.
- `lime` (default for anything else with `predict_proba`): LIME seeded anew for every row;
  contribution = surrogate weight x (value - background mean) / sd; baseline = mean event
  probability over the background.

Outputs are explained in the model's own space: log-odds for LightGBM, gradient boosting
and linear classifiers (the margin), the event probability for forests and LIME. For every
method but LIME, `expected_value + contributions.sum() == model output` to rounding; LIME's
contributions come from a local linear surrogate and add up only approximately.
"""

from __future__ import annotations

import importlib.metadata
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

import numpy as np
import pandas as pd

from bankml.arrays import FloatArray
from bankml.core.errors import InvalidInputError
from bankml.explain import treeshap
from bankml.explain.background import Background
from bankml.explain.inputs import Preparation, split_model

Direction = Literal["high", "low"]


class Method(StrEnum):
    """Which algorithm produced the contributions; recorded with every explanation."""

    TREE = "tree"
    LIGHTGBM = "lightgbm"
    LINEAR = "linear"
    LIME = "lime"


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Explanation:
    """Contributions of each original input for each explained row.

    `values[i, j]` is input j's push on row i's output, in `space`; positive values push
    towards the event (default), i.e. towards decline for a PD model.
    """

    method: Method
    space: str  # "log-odds" or "probability"
    features: tuple[str, ...]
    values: FloatArray  # rows x features
    expected_value: float  # the baseline the contributions are measured from
    inputs: pd.DataFrame  # the explained rows, original inputs
    reference: dict[str, float]  # background mean of each numeric input
    background_sha256: str
    seed: int
    explainer_version: str  # the package and version that computed the values

    @property
    def predictions(self) -> FloatArray:
        """`expected_value + sum of contributions` per row: the explained output."""
        return np.asarray(self.expected_value + self.values.sum(axis=1), dtype=np.float64)

    def contributions(self, row: int = 0) -> dict[str, float]:
        """One row's contributions by input name."""
        return dict(zip(self.features, self.values[row].tolist(), strict=True))

    def directions(self, row: int = 0) -> dict[str, Direction]:
        """For numeric inputs: "high" when the row's value is above the background mean."""
        values = self.inputs.iloc[row]
        return directions_of({str(name): values[name] for name in values.index}, self.reference)


def directions_of(values: Mapping[str, Any], reference: Mapping[str, float]
                  ) -> dict[str, Direction]:
    """For each numeric input of `reference`: "high" when its value is above the background
    mean, "low" otherwise (a gap included)."""
    return {name: "high" if values[name] is not None and float(values[name]) > mean
            else "low" for name, mean in reference.items()}


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Explainer:
    """A model bound to its background, method and seed; `explain` any rows with it."""

    method: Method
    space: str
    background: Background
    seed: int
    expected_value: float
    explainer_version: str
    preparation: Preparation
    reference: dict[str, float]
    _contributions: Callable[[FloatArray], FloatArray] = field(repr=False)

    @property
    def features(self) -> tuple[str, ...]:
        """The model's original inputs, in the order of the contributions."""
        return self.preparation.features

    def explain(self, frame: pd.DataFrame) -> Explanation:
        """Contributions of the original inputs for every row of `frame`."""
        values = self.contributions(self.preparation.transform(frame))
        return Explanation(method=self.method, space=self.space, features=self.features,
                           values=values, expected_value=self.expected_value,
                           inputs=frame, reference=self.reference,
                           background_sha256=self.background.sha256, seed=self.seed,
                           explainer_version=self.explainer_version)


    def contributions(self, columns: FloatArray) -> FloatArray:
        """Contributions of the original inputs (rows x inputs) for rows already prepared
        as the estimator sees them: the fast path of a decision that prepared them."""
        return self.preparation.to_inputs(self._contributions(columns))


def explainer_for(model: Any, background: Background, *, features: Sequence[str] | None = None,
                  method: Method | str | None = None, seed: int = 0,
                  lime_samples: int = 5_000) -> Explainer:
    """Bind `model` (an estimator or a fitted Pipeline) to `background`.

    Args:
        model: a fitted binary classifier or regressor, or a Pipeline ending in one.
        background: the versioned rows the baseline is measured on.
        features: the model's original inputs; by default the model's `feature_names_in_`
            or else the background's columns.
        method: force a method; by default `tree` for tree models, `linear` for linear
            models, `lime` otherwise. `lightgbm` must be asked for.
        seed: used by LIME (and recorded for every method).
        lime_samples: perturbed rows LIME draws per explained row.
    """
    names = list(features) if features else [str(c) for c in getattr(model, "feature_names_in_",
                                                 background.frame.columns)]
    preparation, estimator = split_model(model, names)
    chosen = Method(method) if method is not None else _default_method(estimator)
    rows = preparation.transform(background.frame)
    reference = {n: float(background.frame[n].mean()) for n in names
                 if pd.api.types.is_numeric_dtype(background.frame[n])}
    build = {Method.TREE: _tree, Method.LIGHTGBM: _lightgbm, Method.LINEAR: _linear,
             Method.LIME: _lime}[chosen]
    space, expected, contributions, version = build(estimator, rows, seed, lime_samples)
    return Explainer(method=chosen, space=space, background=background, seed=seed,
                     expected_value=expected, explainer_version=version,
                     preparation=preparation, reference=reference,
                     _contributions=contributions)


_Built = tuple[str, float, Callable[[FloatArray], FloatArray], str]


def _default_method(estimator: Any) -> Method:
    if _is_lightgbm(estimator) or _is_sklearn_tree(estimator):
        return Method.TREE
    if _is_linear(estimator):
        return Method.LINEAR
    return Method.LIME


def _is_lightgbm(estimator: Any) -> bool:
    return type(estimator).__module__.split(".")[0] == "lightgbm"


def _is_sklearn_tree(estimator: Any) -> bool:
    module = type(estimator).__module__
    return module.startswith(("sklearn.tree", "sklearn.ensemble._forest",
                              "sklearn.ensemble._gb"))


def _is_linear(estimator: Any) -> bool:
    coef = getattr(estimator, "coef_", None)
    return (type(estimator).__module__.startswith("sklearn.linear_model")
            and coef is not None and np.asarray(coef).reshape(-1, np.shape(coef)[-1]).shape[0]
            == 1)


def _version(package: str) -> str:
    return f"{package} {importlib.metadata.version(package)}"


def _shap() -> Any:
    """Import shap lazily (it is slow to import) and quietly (its plotting module warns)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        import shap  # noqa: PLC0415
    return shap


def _space(estimator: Any) -> str:
    return "log-odds" if _is_lightgbm(estimator) or hasattr(estimator, "decision_function") \
        else "probability"


def _event(values: Any) -> FloatArray:
    """shap gives one slice per class for some classifiers: keep the event class (1)."""
    array = np.asarray(values, dtype=np.float64)
    return np.ascontiguousarray(array[:, :, 1]) if array.ndim == 3 else array


def _event_base(expected: Any) -> float:
    base = np.ravel(np.asarray(expected, dtype=np.float64))
    return float(base[1] if base.size == 2 else base[0])


def _tree(estimator: Any, rows: FloatArray, seed: int, samples: int) -> _Built:
    if not (_is_lightgbm(estimator) or _is_sklearn_tree(estimator)):
        raise _unsupported(estimator, Method.TREE)
    shap = _shap()
    # an explicit masker keeps every background row (shap would subsample beyond 100)
    masker = shap.maskers.Independent(rows, max_samples=len(rows))
    explainer = shap.TreeExplainer(estimator, masker, feature_perturbation="interventional",
                                   model_output="raw")

    def contributions(columns: FloatArray) -> FloatArray:
        return _event(explainer(columns, check_additivity=False).values)
    return (_space(estimator), _event_base(explainer.expected_value), contributions,
            _version("shap"))


def _lightgbm(estimator: Any, rows: FloatArray, seed: int, samples: int) -> _Built:
    if not _is_lightgbm(estimator):
        raise _unsupported(estimator, Method.LIGHTGBM)
    booster = getattr(estimator, "booster_", estimator)
    if booster.num_model_per_iteration() != 1:
        raise InvalidInputError("model", "native contributions are supported for binary "
                                "and regression LightGBM models only",
                                rule="explain.method_fits")
    expected = float(booster.predict(rows[:1], pred_contrib=True)[0, -1])
    tables = treeshap.compile_booster(booster)
    if tables is not None:  # the same values, computed faster and off the interpreter
        treeshap.contributions(tables, rows[:1])  # compiled now, not on the first decision

        def compiled(columns: FloatArray) -> FloatArray:
            return treeshap.contributions(tables, columns)
        return ("log-odds", expected, compiled,
                f"bankml treeshap {treeshap.VERSION} on {_version('lightgbm')}")

    def contributions(columns: FloatArray) -> FloatArray:
        # one thread: for a single decision, starting OpenMP workers costs more than it saves
        return np.asarray(booster.predict(columns, pred_contrib=True, num_threads=1),
                          dtype=np.float64)[:, :-1]
    return "log-odds", expected, contributions, _version("lightgbm")


def _linear(estimator: Any, rows: FloatArray, seed: int, samples: int) -> _Built:
    if not _is_linear(estimator):
        raise _unsupported(estimator, Method.LINEAR)
    shap = _shap()
    masker = shap.maskers.Independent(rows, max_samples=len(rows))
    explainer = shap.LinearExplainer(estimator, masker)

    def contributions(columns: FloatArray) -> FloatArray:
        return np.asarray(explainer.shap_values(columns), dtype=np.float64)
    return (_space(estimator), _event_base(explainer.expected_value), contributions,
            _version("shap"))


def _lime(estimator: Any, rows: FloatArray, seed: int, samples: int) -> _Built:
    if not hasattr(estimator, "predict_proba"):
        raise _unsupported(estimator, Method.LIME)
    from lime.lime_tabular import LimeTabularExplainer  # noqa: PLC0415

    def explainer() -> Any:
        # a fresh explainer per row: LIME seeds once at construction, so reusing one
        # would give a different explanation each time the same row is explained
        return LimeTabularExplainer(rows, mode="classification", discretize_continuous=False,
                                    random_state=seed)

    def row_contributions(row: FloatArray) -> FloatArray:
        lime = explainer()
        explained = lime.explain_instance(row, estimator.predict_proba, labels=(1,),
                                          num_features=row.size, num_samples=samples)
        weights = np.zeros(row.size)
        for column, weight in explained.local_exp[1]:
            weights[column] = weight
        scaled = (row - lime.scaler.mean_) / lime.scaler.scale_
        return np.asarray(weights * scaled, dtype=np.float64)

    expected = float(np.mean(estimator.predict_proba(rows)[:, 1]))

    def contributions(columns: FloatArray) -> FloatArray:
        return np.vstack([row_contributions(row) for row in columns])
    return "probability", expected, contributions, _version("lime")


def _unsupported(estimator: Any, method: Method) -> InvalidInputError:
    return InvalidInputError("method", f"{method} cannot explain {type(estimator).__name__}; "
                             "leave the method unset to use the one that fits",
                             rule="explain.method_fits")
