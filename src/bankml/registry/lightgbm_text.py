"""LightGBM model text, parsed first where a crash cannot take the process down.

LightGBM's parser aborts the whole process (C++ `terminate`, signal 6) on many malformed
texts (a tree whose arrays disagree with its leaf count, wrong tree sizes, a child out of
range) instead of raising. A text is therefore parsed once in a child process; only text
that parsed cleanly there is parsed here. The verdict is kept per text for the life of
the process: the same bytes always parse the same way.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import threading

from bankml.core.errors import ArtifactFormatError

PARSE = "import sys, lightgbm; lightgbm.Booster(model_str=sys.stdin.read())"
PARSE_TIMEOUT_S = 300
_parsed: set[str] = set()  # sha256 of texts a child parsed cleanly
_lock = threading.Lock()


def check_parses(text: str, *, digest: str) -> None:
    """ArtifactFormatError unless LightGBM parses `text` (part of artifact `digest`)."""
    key = hashlib.sha256(text.encode("utf-8")).hexdigest()
    with _lock:
        if key in _parsed:
            return
    try:
        result = subprocess.run(  # noqa: S603 - fixed argv; the text goes to stdin
            [sys.executable, "-c", PARSE], input=text.encode("utf-8"), capture_output=True,
            timeout=PARSE_TIMEOUT_S, check=False,
            env={**os.environ, "OMP_NUM_THREADS": "1"})
    except subprocess.TimeoutExpired as exc:
        raise ArtifactFormatError(digest, f"LightGBM did not finish parsing its estimator "
                                  f"in {PARSE_TIMEOUT_S} s") from exc
    if result.returncode != 0:
        lines = result.stderr.decode("utf-8", "replace").strip().splitlines()
        how = (f"its parser aborted (signal {-result.returncode})" if result.returncode < 0
               else f"its parser failed: {lines[-1] if lines else 'no message'}")
        raise ArtifactFormatError(digest, f"its estimator is not LightGBM model text: {how}")
    with _lock:
        _parsed.add(key)
