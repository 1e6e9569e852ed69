"""How many CPUs this process may really use: its affinity, capped by a container's CPU quota.

`os.cpu_count()` reports the host's cores; in a container limited to 2 CPUs on a 64-core host,
llama.cpp would start 64 threads that fight over 2 CPUs. Used as the default thread count.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

CGROUP = Path("/sys/fs/cgroup")


def _quota(root: Path) -> float | None:
    """CPUs allowed by the cgroup (v2 `cpu.max`, else v1 `cfs_quota_us / cfs_period_us`); None if unlimited."""
    try:
        quota, period = (root / "cpu.max").read_text().split()[:2]
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        pass
    try:
        quota_us = int((root / "cpu" / "cpu.cfs_quota_us").read_text())
        period_us = int((root / "cpu" / "cpu.cfs_period_us").read_text())
        return None if quota_us <= 0 or period_us <= 0 else quota_us / period_us
    except (OSError, ValueError):
        return None


def available_cpus(root: Path = CGROUP) -> int:
    """CPUs this process may use: its CPU affinity, capped by the cgroup quota (rounded up), at least 1."""
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        n = os.cpu_count() or 1
    quota = _quota(root)
    if quota is not None:
        n = min(n, max(1, math.ceil(quota)))
    return max(1, n)


def threads(setting: int) -> int:
    """A thread-count setting: 0 means every CPU this process may use."""
    return setting if setting > 0 else available_cpus()
