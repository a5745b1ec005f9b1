"""The numpy array types that statistics and explanations pass between them.

Both `bankml.validation` and `bankml.explain` take and return these arrays; they live here,
below both, so that neither package has to import the other for a type. Core stays free
of numpy, so they cannot live there.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

__all__ = ["BoolArray", "FloatArray", "IntArray"]
