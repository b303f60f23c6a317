"""Helpers shared by the benchmark scripts (not a benchmark itself: `make bench` skips `_*.py`)."""

from __future__ import annotations

import os


def rss_mb() -> float:
    """This process's resident set size now, in MB (from /proc; NaN where there is none)."""
    try:
        with open(f"/proc/{os.getpid()}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return float("nan")
