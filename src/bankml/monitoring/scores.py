"""Score histograms: scores are probabilities, counted on ten bins of 0.1 (the outer bins
closed, a score outside [0, 1] counted in the nearest), the bins the rollout comparison
draws both routes on too."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

SCORE_EDGES = np.linspace(0.0, 1.0, 11)


def score_counts(scores: npt.ArrayLike) -> tuple[int, ...]:
    """How many of `scores` fall in each bin of SCORE_EDGES."""
    counted, _ = np.histogram(np.clip(np.asarray(scores, dtype=np.float64), 0.0, 1.0),
                              bins=SCORE_EDGES)
    return tuple(int(c) for c in counted)


def score_edges() -> tuple[float, ...]:
    return tuple(float(e) for e in SCORE_EDGES.round(2))


__all__ = ["SCORE_EDGES", "score_counts", "score_edges"]
