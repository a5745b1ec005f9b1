"""What a build ran on: code version, dependency versions, platform, thread settings."""

from __future__ import annotations

import os
import platform
import subprocess
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from bankml.core.manifest import CodeVersion, Environment

DEPENDENCIES = ("numpy", "pandas", "pyarrow", "scikit-learn", "scipy", "lightgbm", "skops",
                "threadpoolctl")
GIT_TIMEOUT_S = 5


def code_version() -> CodeVersion:
    """bankml's version and, when it runs from a git checkout, the commit."""
    try:
        installed = version("bankml")
    except PackageNotFoundError:  # a source tree that was not installed
        installed = "0.0.0"
    return CodeVersion(bankml=installed, git_commit=_git_commit())


def environment() -> Environment:
    """The dependency versions and the platform a build runs on."""
    described = platform_description()
    return Environment(dependencies=dependency_versions(), python=described["python"],
                       implementation=described["implementation"],
                       system=described["system"], machine=described["machine"])


def describe_code() -> str:
    """bankml's version, and its commit when known: `0.1.0+3f2a9c1`."""
    found = code_version()
    return f"{found.bankml}+{found.git_commit[:12]}" if found.git_commit else found.bankml


def dependency_versions() -> dict[str, str]:
    found = {}
    for name in DEPENDENCIES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "absent"
    return found


def platform_description() -> dict[str, str]:
    return {"python": platform.python_version(), "implementation":
            platform.python_implementation(), "system": platform.system(),
            "machine": platform.machine()}


def available_cores() -> int:
    """The cores this process may run on (its affinity, which containers narrow)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _git_commit() -> str | None:
    folder = Path(__file__).resolve().parent
    try:
        result = subprocess.run(["git", "rev-parse", "HEAD"],  # noqa: S607 - git from PATH
                                cwd=folder, capture_output=True, text=True,
                                timeout=GIT_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    commit = result.stdout.strip()
    return commit if result.returncode == 0 and len(commit) == 40 else None
