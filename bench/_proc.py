"""Helpers shared by the benchmark scripts (not a benchmark itself: `make bench` skips `_*.py`)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import httpx


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank ``q``-th percentile (0-100) of ``values``; NaN for none."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = max(0, min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


def postgres_database(url: str, *, create: bool) -> None:
    """Drops the PostgreSQL database ``url`` names (connections forced off); then creates it anew
    when ``create``. A benchmark's own database: never point it at one that matters."""
    import psycopg  # only the PostgreSQL runs need it

    base, name = url.rsplit("/", 1)
    admin = base.replace("postgres://", "postgresql://", 1) + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[arg-type]
        if create:
            conn.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]


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


ROOT = Path(__file__).resolve().parent.parent


def demo_password(username: str) -> str:
    """The password `make run` generated for a demo user (``var/demo-credentials.txt``)."""
    text = (ROOT / "var" / "demo-credentials.txt").read_text()
    found = re.search(rf"username={re.escape(username)} password=(\S+)", text)
    if not found:
        raise SystemExit(f"no password for {username} in var/demo-credentials.txt")
    return found.group(1)


def log_in(client: httpx.Client, username: str, password: str = "") -> None:
    """Signs ``client`` in as ``username`` (the demo password unless one is given)."""
    token = client.post(
        "/api/v1/auth/token/",
        json={"username": username, "password": password or demo_password(username)},
    )
    token.raise_for_status()
    client.headers["Authorization"] = f"Bearer {token.json()['access']}"
