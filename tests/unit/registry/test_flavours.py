"""Artifacts: byte-reproducible, and refused when they name untrusted types."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import FunctionTransformer

from bankml.core.canonical import sha256_hex
from bankml.core.errors import UntrustedArtifactError
from bankml.registry.flavours import dump_sklearn, load_sklearn

FIT = """
import numpy as np
from sklearn.linear_model import LogisticRegression
from bankml.core.canonical import sha256_hex
from bankml.registry.flavours import dump_sklearn
x = np.arange(20.0).reshape(10, 2)
print(sha256_hex(dump_sklearn(LogisticRegression().fit(x, [0, 1] * 5))))
"""


def test_same_model_gives_same_bytes_across_processes() -> None:
    """skops' object ids and zip times are normalised away: two processes, one digest."""
    digests = {subprocess.run([sys.executable, "-c", FIT], capture_output=True, text=True,
                              check=True).stdout for _ in range(2)}

    assert len(digests) == 1


def test_stable_bytes_load_back_to_the_same_model() -> None:
    """Normalising the archive keeps it loadable and the predictions equal."""
    x = np.arange(20.0).reshape(10, 2)
    model = LogisticRegression().fit(x, [0, 1] * 5)

    loaded = load_sklearn(dump_sklearn(model), "digest")

    assert np.array_equal(loaded.predict_proba(x), model.predict_proba(x))


def test_untrusted_type_is_refused() -> None:
    """An artifact that would call an arbitrary function is refused, naming the type."""
    content = dump_sklearn(FunctionTransformer(func=print))

    with pytest.raises(UntrustedArtifactError, match=rf"{sha256_hex(content)[:8]}.*builtins"
                                                     r"\.print") as caught:
        load_sklearn(content, sha256_hex(content))
    assert caught.value.rule == "artifact.trusted_types"
