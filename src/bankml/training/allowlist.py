"""The estimators a spec may name, checked before anything the spec names is imported.

A spec's `estimator.class` is an import path and its `params` are passed to what that
path names, so an unchecked spec, or a manifest recorded from one, could run any callable
(`os.system`, `joblib.load`) as whoever trains, reproduces or validates it. Every path from
a spec to an estimator therefore goes through `check_estimator`: the class must be on the
allowlist (scikit-learn's classifiers and the classes a bank has reviewed), be a
probabilistic scikit-learn classifier, and take params that are plain data its constructor
names. See docs/security.md.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
import os
import re
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bankml.training.spec import Estimator, LoadedSpec

ALLOWED_RULE = "pipeline.estimator_allowed"
PARAMS_RULE = "pipeline.estimator_params"
BUILD_RULE = "pipeline.estimator"
# Files that unpickle on load, compressed or not (`model.pkl.gz`); an estimator is built
# from its params and never needs one.
PICKLE_LIKE = re.compile(r"\.(?:pkl|pickle|joblib|sav|dill|cloudpickle)\b", re.IGNORECASE)
MAX_NESTING = 10  # YAML anchors can make a list contain itself
PLAIN_SCALARS = (bool, int, float, str, type(None))
PLAIN_DATA = "numbers, strings, booleans, null, and lists or mappings of those"
# The kinds that name no class: their classes are `_kind_factory`'s.
KINDS = ("lightgbm", "logistic_regression")


@dataclass(frozen=True, slots=True)
class EstimatorAllowlist:
    """The classes `estimator.class` may name: scikit-learn's classifiers, and `extra`,
    import paths of classes a bank has reviewed (BANKML_ESTIMATOR_ALLOWLIST)."""

    extra: frozenset[str] = frozenset()

    def allows(self, path: str) -> bool:
        """Whether `path` is on the list; decided from the name alone, importing nothing."""
        return path in self.extra or path in _scikit_learn_classifiers()

    def resolve(self, path: str) -> object:
        """What an allowed `path` names. Raises ImportError, or ValueError if not allowed."""
        if not self.allows(path):
            raise ValueError(f"{path!r} is not on the estimator allowlist")
        known = _scikit_learn_classifiers().get(path)
        if known is not None:
            return known
        module_name, _, name = path.rpartition(".")
        try:
            return getattr(importlib.import_module(module_name), name)
        except (AttributeError, ValueError) as exc:  # ValueError: no module part at all
            raise ImportError(f"{path!r} names no attribute of an importable module"
                              ) from exc


SCIKIT_LEARN_CLASSIFIERS = EstimatorAllowlist()  # no bank additions


@dataclass(frozen=True, slots=True)
class AllowedEstimator:
    """A declared estimator that passed `check_estimator`: what `fit_estimator` builds."""

    declared: Estimator
    factory: type[Any] | None  # the classifier class; None for LightGBM's own `train`


def check_estimator(loaded: LoadedSpec, allowlist: EstimatorAllowlist) -> AllowedEstimator:
    """The one gate between a spec (from a file or a manifest) and an estimator.

    Raises a SpecError naming `estimator.class` (rule `pipeline.estimator_allowed`) or the
    param (rule `pipeline.estimator_params`); nothing the spec names is imported unless it
    is on the allowlist, and nothing is called or instantiated.
    """
    declared = loaded.spec.estimator
    factory = _factory(loaded, declared, allowlist)
    _check_params(loaded, declared, factory)
    return AllowedEstimator(declared=declared, factory=factory)


def _factory(loaded: LoadedSpec, declared: Estimator,
             allowlist: EstimatorAllowlist) -> type[Any] | None:
    if declared.kind in KINDS:
        return _kind_factory(declared.kind)
    path, where = str(declared.class_path), ("estimator", "class")
    if not allowlist.allows(path):
        raise loaded.error(where, f"{path!r} is not on the estimator allowlist, so nothing "
                           "was imported; name a scikit-learn classifier (e.g. "
                           "sklearn.ensemble.RandomForestClassifier), or have the class "
                           "reviewed and added to BANKML_ESTIMATOR_ALLOWLIST",
                           rule=ALLOWED_RULE)
    try:
        found = allowlist.resolve(path)
    except ImportError as exc:
        raise loaded.error(where, f"cannot import {path!r}: {exc}", rule=BUILD_RULE) from None
    from sklearn.base import ClassifierMixin  # noqa: PLC0415 - loads on first use
    # A bank's entry is checked as strictly as the spec: a reviewed name can still be wrong.
    if not inspect.isclass(found) or not issubclass(found, ClassifierMixin):
        raise loaded.error(where, f"{path!r} is not a scikit-learn classifier class (a "
                           "subclass of sklearn.base.ClassifierMixin); nothing was called",
                           rule=ALLOWED_RULE)
    if not callable(getattr(found, "predict_proba", None)):
        raise loaded.error(where, f"{path} has no predict_proba; the pipeline needs a "
                           "probabilistic classifier", rule=ALLOWED_RULE)
    return found


def _kind_factory(kind: str) -> type[Any] | None:
    """The class a kind stands for; None is LightGBM's own `train`."""
    if kind == "lightgbm":
        return None
    from sklearn.linear_model import LogisticRegression  # noqa: PLC0415 - loads on first use
    factory: type[Any] = LogisticRegression
    return factory


def _check_params(loaded: LoadedSpec, declared: Estimator, factory: type[Any] | None) -> None:
    for name, value in declared.params.items():
        where = ("estimator", "params", name)
        if factory is not None:  # LightGBM's `train` takes a dict whose names it checks
            accepted = _parameter_names(factory)
            if name not in accepted:
                close = difflib.get_close_matches(name, accepted, n=1)
                hint = (f"did you mean {close[0]}?" if close
                        else f"it takes {', '.join(sorted(accepted)) or 'none'}")
                raise loaded.error(where, f"{name!r} is not a parameter of "
                                   f"{factory.__name__}; {hint}", rule=PARAMS_RULE)
        problem = _data_problem(value, loaded.folder, depth=0)
        if problem is not None:
            raise loaded.error(where, f"{name!r} {problem}", rule=PARAMS_RULE)


def _parameter_names(factory: type[Any]) -> set[str]:
    """Names the constructor declares; a `**kwargs` catch-all admits none of its own."""
    try:
        parameters = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):  # no signature to check against: take no params
        return set()
    return {p.name for p in parameters
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}


def _data_problem(value: object, folder: Path, *, depth: int) -> str | None:
    """Why `value` is not plain data, or None. Exact types: a subclass of str or int could
    run code from its methods when the estimator compares or hashes it."""
    if depth > MAX_NESTING:
        return f"nests deeper than {MAX_NESTING} levels"
    if type(value) is str:
        return _file_problem(value, folder)
    if type(value) in PLAIN_SCALARS:
        return None
    if type(value) is list or type(value) is dict:
        return _items_problem(value, folder, depth=depth)
    kind = type(value)
    return (f"holds a {kind.__module__}.{kind.__qualname__}; params are plain data: "
            f"{PLAIN_DATA}")


def _items_problem(value: list[Any] | dict[Any, Any], folder: Path, *,
                   depth: int) -> str | None:
    items: list[Any] = value if isinstance(value, list) else [*value, *value.values()]
    if isinstance(value, dict) and any(type(key) not in (str, int) for key in value):
        return "has a mapping key that is neither a string nor an integer"
    return next((problem for item in items
                 if (problem := _data_problem(item, folder, depth=depth + 1)) is not None),
                None)


def _file_problem(text: str, folder: Path) -> str | None:
    if PICKLE_LIKE.search(text):
        return (f"holds {text!r}, which looks like a pickle file; an estimator is built from "
                "its params, never loaded from a file")
    # Relative names as the process would open them, and as the spec's folder holds them.
    if text.strip() and any(os.path.lexists(candidate) for candidate in (text, folder / text)):
        return (f"holds {text!r}, which names an existing file; estimator params may not "
                "point at files")
    return None


@cache
def _scikit_learn_classifiers() -> dict[str, type[Any]]:
    """Every scikit-learn classifier by its public import path and by its defining module's.

    Built on first use: `all_estimators` imports every scikit-learn module (under a second).
    """
    from sklearn.utils import all_estimators  # noqa: PLC0415 - loads on first use
    found: dict[str, type[Any]] = {}
    classifiers: list[tuple[str, type[Any]]] = all_estimators(type_filter="classifier")
    for name, cls in classifiers:
        found[f"{cls.__module__}.{name}"] = cls
        public = _public_module(cls.__module__)
        if getattr(sys.modules.get(public), name, None) is cls:
            found[f"{public}.{name}"] = cls
    return found


def _public_module(module: str) -> str:
    """`sklearn.ensemble._forest` -> `sklearn.ensemble`: where the class is documented."""
    parts = module.split(".")
    cut = next((i for i, part in enumerate(parts) if part.startswith("_")), len(parts))
    return ".".join(parts[:cut])


__all__ = ["SCIKIT_LEARN_CLASSIFIERS", "AllowedEstimator", "EstimatorAllowlist",
           "check_estimator"]
