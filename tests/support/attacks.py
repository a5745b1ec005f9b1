"""Estimator blocks a hostile spec could declare: each writes a marker file if anything runs it.

`attack(name, folder)` gives the `estimator` block and prepares what it needs in `folder`
(a pickle, a module); `folder / MARKER` appears only if the declared code runs. Tests put
`folder` on sys.path, so the module attacks would import if the allowlist let them.
"""

from __future__ import annotations

import hashlib
import pickle
from pathlib import Path
from typing import Any

import yaml

MARKER = "marker"
ATTACKS = ("os.system", "subprocess.Popen", "builtins.exec", "joblib.load", "pickle.loads",
           "importlib.import_module", "module-on-import",
           # not classifiers: nothing for them to run, but they must be refused all the same
           "sklearn.preprocessing.StandardScaler", "sklearn.linear_model.LinearRegression")
LOGISTIC_BLOCK = "estimator:\n  kind: logistic_regression\n  params: {C: 0.5, max_iter: 1000}\n"


class _TouchOnLoad:
    """Unpickling this creates a file: what an attacker's pickle does, harmlessly."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Any, ...]:
        return (Path.touch, (self.path,))


def attack(name: str, folder: Path) -> dict[str, Any]:
    """The `estimator` block for `name`; running it would create `folder / MARKER`."""
    marker = folder / MARKER
    module = _marker_module(folder)
    payload = pickle.dumps(_TouchOnLoad(marker))
    (folder / "payload.pkl").write_bytes(payload)
    paths = {"module-on-import": f"{module}.Classifier"}
    params: dict[str, dict[str, Any]] = {
        "os.system": {"command": f"touch {marker}"},
        "subprocess.Popen": {"args": ["touch", str(marker)]},
        "builtins.exec": {"source": f"open({str(marker)!r}, 'w').close()"},
        "joblib.load": {"filename": str(folder / "payload.pkl")},
        "pickle.loads": {"data": payload},
        "importlib.import_module": {"name": module},
        "module-on-import": {},
        "sklearn.preprocessing.StandardScaler": {"copy": True},
        "sklearn.linear_model.LinearRegression": {"fit_intercept": True},
    }
    return {"kind": "sklearn", "class": paths.get(name, name), "params": params[name]}


def with_estimator(spec_text: str, block: dict[str, Any]) -> str:
    """`spec_text` (the German credit example) declaring `block` as its estimator."""
    assert LOGISTIC_BLOCK in spec_text
    lines = yaml.safe_dump(block, sort_keys=False).splitlines()
    return spec_text.replace(LOGISTIC_BLOCK,
                             "estimator:\n" + "".join(f"  {line}\n" for line in lines))


def _marker_module(folder: Path) -> str:
    """A module in `folder` whose import creates the marker; its name is unique to `folder`
    (an imported module is cached, so a shared name would run once per process)."""
    name = "bankml_marker_" + hashlib.sha256(str(folder).encode()).hexdigest()[:12]
    (folder / f"{name}.py").write_text(
        "from pathlib import Path\n\n"
        f"Path(__file__).with_name({MARKER!r}).touch()\n\n\n"
        "class Classifier:\n    pass\n")
    return name
