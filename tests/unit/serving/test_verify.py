"""Re-scoring in bulk decides and reads inputs exactly as one decision at a time does."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from bankml.core.decisions import AlertPolicy, CutoffPolicy, policy_from_description
from bankml.serving.verify import decided_again, inputs_frame


def test_bands_decide_as_the_policy_does_at_and_around_its_cutoffs() -> None:
    """Each score's outcome is `policy.decide`'s, under each record's own policy (a human
    review mode sends every case to review)."""
    credit = CutoffPolicy(version="c", approve_below=0.1, decline_from=0.4)
    aml = AlertPolicy(version="a", alert_from=0.5)
    described = [json.dumps(credit.describe() | {"kind": credit.kind}),
                 json.dumps(aml.describe() | {"kind": aml.kind}),
                 json.dumps(credit.describe() | {"kind": credit.kind, "review": True})]
    scores = np.array([0.0, 0.1, np.nextafter(0.1, 0), 0.4, 0.5, np.nextafter(0.5, 0), 1.0])
    policies = [described[i % 3] for i in range(len(scores))]

    again = decided_again(policies, scores)

    expected = [
        policy_from_description(json.loads(p)).review if json.loads(p).get("review")
        else policy_from_description(json.loads(p)).decide(float(s))
        for p, s in zip(policies, scores, strict=True)]
    assert list(again) == [str(e) for e in expected]


def test_parsed_inputs_make_the_frame_of_the_rows_values() -> None:
    """Numbers, gaps, a missing name and text give the frame the rows themselves give."""
    rows = [{"x": 1.5, "n": 3, "k": "a"}, {"x": None, "n": 4, "k": "b"},
            {"x": 0.1 + 0.2, "n": 5}]
    names = ["x", "n", "k", "absent"]

    frame = inputs_frame([json.dumps(r) for r in rows], names)

    pd.testing.assert_frame_equal(frame, pd.DataFrame(
        {name: [row.get(name) for row in rows] for name in names}, columns=names))
