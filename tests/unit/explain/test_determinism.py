"""Same model, background, seed and rows give bit-equal explanations in fresh processes."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pandas as pd
import pytest

from bankml.core.errors import InvalidInputError
from bankml.explain import frame_sha256, sample_background

SCRIPT = textwrap.dedent("""
    import hashlib
    import lightgbm as lgb
    from bankml.datasets import german_credit
    from bankml.explain import explainer_for, sample_background
    from bankml.training import train_pd_model

    frame = german_credit.synthesize_german_credit()
    trained = train_pd_model(frame, target="default",
                             exclude=("row_id", *german_credit.PROTECTED))
    background = sample_background(frame[trained.inputs], rows=100, seed=4)
    rows = trained.holdout[trained.inputs].head(20)
    numeric = frame[["duration_months", "credit_amount", "installment_rate_pct"]]
    booster = lgb.LGBMClassifier(n_estimators=30, deterministic=True, num_threads=1,
                                 verbose=-1, random_state=0).fit(numeric, frame["default"])
    tree_background = sample_background(numeric, rows=80, seed=4)
    for model, data, method, bg in [
            (trained.pipeline, rows, None, background),
            (booster, numeric.head(20), None, tree_background),
            (booster, numeric.head(20), "lightgbm", tree_background)]:
        e = explainer_for(model, bg, method=method, seed=9).explain(data)
        digest = hashlib.sha256(e.values.tobytes() + repr(e.expected_value).encode())
        print(e.method, e.background_sha256, e.seed, e.explainer_version, digest.hexdigest())
""")


def _run() -> str:
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.slow
def test_explanations_replay_bit_equal_in_a_fresh_process() -> None:
    """Two fresh interpreters print identical digests of every method's contributions."""
    first, second = _run(), _run()

    assert len(first.splitlines()) == 3
    assert first == second


def test_the_same_seed_draws_the_same_background() -> None:
    """A background is a function of the frame and the seed, digest included."""
    frame = pd.DataFrame({"x": range(1_000), "y": [str(i % 7) for i in range(1_000)]})

    first = sample_background(frame, rows=50, seed=1)
    again = sample_background(frame, rows=50, seed=1)
    other = sample_background(frame, rows=50, seed=2)

    assert first.frame.equals(again.frame)
    assert first.sha256 == again.sha256
    assert first.sha256 != other.sha256


def test_the_digest_sees_every_value_but_not_the_index() -> None:
    """Changing one value changes the digest; re-indexing does not."""
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": ["a", "b", "c"]})
    changed = frame.assign(x=[1.0, 2.0, 3.0000000001])

    assert frame_sha256(frame) == frame_sha256(frame.set_axis([7, 8, 9]))
    assert frame_sha256(frame) != frame_sha256(changed)
    assert frame_sha256(frame) != frame_sha256(frame.assign(y=["a", "b", "d"]))


def test_a_small_frame_is_used_whole() -> None:
    """With fewer rows than asked for, every row is the background, in order."""
    frame = pd.DataFrame({"x": [3, 1, 2]})

    background = sample_background(frame, rows=10)

    assert background.frame["x"].tolist() == [3, 1, 2]
    assert background.source_rows == 3


def test_an_empty_background_is_refused() -> None:
    """A baseline needs rows."""
    with pytest.raises(InvalidInputError, match=r"frame: is empty"):
        sample_background(pd.DataFrame({"x": []}))
