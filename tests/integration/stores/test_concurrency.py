"""Several writers at once: no "database is locked", no forked chain."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bankml import Platform
from support.trail import verify as verify_trail

WRITERS = 4
EVENTS_EACH = 40

WRITER_SCRIPT = textwrap.dedent("""
    import sys
    from bankml import Platform

    home, url, writer, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    with Platform.open(home, metadata_url=url) as platform:
        for index in range(count):
            with platform.metadata.transaction() as tx:
                tx.audit.record(f"writer-{writer}", "test.written", f"item:{writer}:{index}", {})
""")


def test_processes_append_to_one_chain(platform: Platform, metadata_url: str,
                                       tmp_path: Path) -> None:
    """Separate processes writing at the same time all succeed and leave one intact chain."""
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER_SCRIPT, str(tmp_path / "home"),
                          metadata_url, str(writer), str(EVENTS_EACH)],
                         stderr=subprocess.PIPE, text=True)
        for writer in range(WRITERS)
    ]
    errors = [writer.communicate()[1] for writer in writers]
    failures = [error for writer, error in zip(writers, errors, strict=True) if writer.returncode]

    assert failures == []
    report = verify_trail(platform)
    assert report.is_intact
    assert report.events_checked == WRITERS * EVENTS_EACH


def test_threads_append_to_one_chain(platform: Platform) -> None:
    """Threads sharing one platform interleave their appends without losing any."""
    def write(writer: int) -> None:
        for index in range(EVENTS_EACH):
            with platform.metadata.transaction() as tx:
                tx.audit.record(f"thread-{writer}", "test.written", f"item:{writer}:{index}", {})

    with ThreadPoolExecutor(WRITERS) as pool:
        list(pool.map(write, range(WRITERS)))

    report = verify_trail(platform)
    assert report.is_intact
    assert report.events_checked == WRITERS * EVENTS_EACH
