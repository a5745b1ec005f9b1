"""The skew check: a sample of entities read offline and online at one time, compared."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from bankml.core.canonical import utc_timestamp
from bankml.core.errors import InvalidInputError
from bankml.core.features import EVENT_TIMESTAMP, FeatureView
from bankml.core.ports import OfflineEngine
from bankml.features.catalog import FeatureCatalog, split_view_ref
from bankml.features.historical import HistoricalRetrieval
from bankml.features.online import OnlineServing
from bankml.features.payloads import entity_key, python_value
from bankml.features.results import Mismatch, SkewReport


class SkewCheck:
    """Compares the two paths through the same definitions, feature by feature."""

    def __init__(self, catalog: FeatureCatalog, offline: OfflineEngine,
                 historical: HistoricalRetrieval, serving: OnlineServing,
                 clock: Callable[[], datetime]) -> None:
        self._catalog, self._offline = catalog, offline
        self._historical, self._serving, self._clock = historical, serving, clock

    def skew_check(self, view_name: str, *, sample: int = 100, at: datetime | None = None,
                   seed: int = 0) -> SkewReport:
        """Compute a sample of entities offline and online at the same time; list mismatches."""
        moment = at or self._clock()
        loaded = self._catalog.load(*split_view_ref(view_name))
        version, definition = loaded.version, loaded.definition
        if not isinstance(definition, FeatureView):
            raise InvalidInputError("view", f"{view_name} is an on-demand view; check the "
                                    "views it reads", rule="features.skew_check")
        refs = [f"{version.ref}:{name}" for name in definition.feature_names]
        keys = self._offline.sample_keys(definition, sample, seed).to_pandas()
        report = SkewReport(view=version.ref, at=utc_timestamp(moment), entities=len(keys),
                            features=list(definition.feature_names))
        if keys.empty:
            return report
        entity_df = keys.assign(**{EVENT_TIMESTAMP: pd.Timestamp(moment)})
        offline = self._historical.get_historical_features(entity_df, refs)
        assert isinstance(offline, pd.DataFrame)  # noqa: S101 - output="pandas"
        online = self._serving.get_online_features(keys.to_dict(orient="records"), refs,
                                                   at=moment)
        for index, online_row in enumerate(online.rows):
            label = entity_key(definition, online_row)
            for name in definition.feature_names:
                expected, served = python_value(offline[name].iloc[index]), online_row[name]
                if not _same(expected, served):
                    report.mismatches.append(Mismatch(entity=label, feature=name,
                                                      offline=expected, online=served))
        return report


def _same(offline: Any, online: Any) -> bool:
    if offline is None or online is None:
        return offline is None and online is None
    if isinstance(offline, bool | np.bool_) or isinstance(online, bool):
        return bool(offline) == bool(online)
    if isinstance(offline, int | float) and isinstance(online, int | float):
        return float(offline) == float(online)
    return bool(offline == online)
