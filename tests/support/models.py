"""A tiny registered model for tests about governance, decisions or inventory."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from bankml import Platform
from bankml.core.identity import Principal
from bankml.core.registry import Domain, Model, ModelVersion


def register_tiny(platform: Platform, by: Principal, name: str = "pd", *, tier: int = 1,
                  domain: Domain = Domain.CREDIT, developer: str | None = None,
                  owner: str = "retail") -> ModelVersion:
    """A logistic regression on one input `x0`, registered by `by` as `name`'s next
    version; the model's declared developer is `developer` (default: `by`)."""
    platform.registry.define_model(by, Model(name=name, domain=domain, risk_tier=tier,
                                             owner=owner, developer=developer or by.name))
    rows = pd.DataFrame({"x0": np.random.default_rng(0).normal(size=40)})
    fitted = LogisticRegression().fit(rows, (rows["x0"] > 0).astype(int))
    return platform.registry.register_sklearn(by, name, fitted, inputs=["x0"], metrics={})
