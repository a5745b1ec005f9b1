"""On-demand views: the same function over the training frame and the online request."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from bankml.core.errors import InvalidInputError
from bankml.core.features import OnDemandFeatureView


def run_on_demand(view: OnDemandFeatureView, frame: pd.DataFrame) -> pd.DataFrame:
    """The view's function over a copy of `frame`; its result must hold the view's schema."""
    result = view.function(frame.copy())
    missing = [n for n in view.feature_names if n not in result]
    if not isinstance(result, pd.DataFrame) or missing:
        raise InvalidInputError(f"on-demand feature view {view.name}", "its function must "
                                f"return a DataFrame with columns {list(view.feature_names)}; "
                                f"missing {missing}", rule="features.on_demand_output")
    return result


def check_request_fields(view: OnDemandFeatureView, columns: Iterable[str]) -> None:
    missing = [f.name for f in view.request_fields if f.name not in set(columns)]
    if missing:
        raise InvalidInputError("entity_rows", f"lack request fields {missing} of "
                                f"{view.name}", rule="features.request_fields")

