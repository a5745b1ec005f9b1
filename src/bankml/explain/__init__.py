"""Explanations and adverse-action reason codes.

`background` samples and fingerprints the versioned background data; `explainers` turns a
fitted model (or scikit-learn Pipeline) into per-row contributions of its ORIGINAL inputs
(shap's Tree and Linear explainers, LightGBM's native contributions, seeded LIME);
`summaries` gives global importance and dependence data; `reasons` holds the governed
reason-code catalogue and the Regulation B adverse-reason selection. See
docs/explanations.md.
"""

from bankml.explain.background import Background, frame_sha256, sample_background
from bankml.explain.explainers import (
    Explainer,
    Explanation,
    Method,
    directions_of,
    explainer_for,
)
from bankml.explain.reasons import (
    AdverseReason,
    Reason,
    ReasonCatalogue,
    adverse_reasons,
    example_catalogue_text,
    load_catalogue,
)
from bankml.explain.summaries import Dependence, FeatureImportance, dependence, global_importance

__all__ = [
    "AdverseReason",
    "Background",
    "Dependence",
    "Explainer",
    "Explanation",
    "FeatureImportance",
    "Method",
    "Reason",
    "ReasonCatalogue",
    "adverse_reasons",
    "dependence",
    "directions_of",
    "example_catalogue_text",
    "explainer_for",
    "frame_sha256",
    "global_importance",
    "load_catalogue",
    "sample_background",
]
