"""Housekeeping of the Prometheus multiprocess folder (PROMETHEUS_MULTIPROC_DIR), for the
gunicorn master: it imports neither Django nor the metrics themselves.

prometheus_client keeps one set of files per process that ever counted, and every scrape reads
them all (docs/benchmarks/metrics.md: 0.3-0.9 s per scrape with 100 processes' sets). gunicorn
restarts workers every few thousand requests, so at start the master folds the counters,
histograms and summaries of processes that no longer run into one archive file per type (the
totals are unchanged) and drops their live gauges. Only the master does this, before its workers
exist: nothing reads the folder meanwhile (Celery workers only write their own files).
"""

from __future__ import annotations

import os
from pathlib import Path

from prometheus_client import multiprocess
from prometheus_client.mmap_dict import MmapedDict

# File types whose values add up across processes (what the collector itself sums).
_SUMMED = ("counter", "histogram", "summary")


def running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: it runs
        return True
    return True


def _dead_pid(file: Path) -> int | None:
    """The process id in ``<type>[_<mode>]_<pid>.db`` when that process no longer runs."""
    last = file.stem.rsplit("_", 1)[-1]
    if not last.isdigit():
        return None
    pid = int(last)
    return None if running(pid) else pid


def drop_stale_live_gauges(path: Path) -> None:
    """Removes the live gauges (open WebSockets) of processes that no longer run."""
    for file in path.glob("gauge_live*_*.db"):
        pid = _dead_pid(file)
        if pid is not None:
            multiprocess.mark_process_dead(pid, str(path))


def compact_dead_processes(path: Path) -> int:
    """Adds the summed values of processes that no longer run into ``<type>_archive.db`` and
    removes their files; returns how many files went."""
    removed = 0
    for kind in _SUMMED:
        dead = [f for f in path.glob(f"{kind}_*.db") if _dead_pid(f) is not None]
        if not dead:
            continue
        archive = path / f"{kind}_archive.db"
        # Built beside the archive under a name the collector does not read (*.db only), then
        # put in place at once. A crash between that and the removals below would count the dead
        # files twice at the next start; the other order would lose them instead.
        temporary = path / f".{kind}_archive.partial"
        temporary.unlink(missing_ok=True)
        if archive.exists():
            temporary.write_bytes(archive.read_bytes())
        merged = MmapedDict(str(temporary))
        try:
            for file in dead:
                for key, value, timestamp, _ in MmapedDict.read_all_values_from_file(str(file)):
                    current, _ = merged.read_value(key)
                    merged.write_value(key, current + value, timestamp)
        finally:
            merged.close()
        os.replace(temporary, archive)
        for file in dead:
            file.unlink()
        removed += len(dead)
    return removed


def prepare(path: str) -> None:
    """What the gunicorn master does with the folder before it starts its workers."""
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    drop_stale_live_gauges(folder)
    compact_dead_processes(folder)
