"""Inference throughput with one inference server process versus two behind nginx.

Starts real inference servers (``python -m inference --gunicorn``, one gunicorn worker each, so
"processes" counts the processes that run models) on loopback ports 8661 and 8662, and Debian's
nginx with ``deploy/nginx/cdss-inference.conf`` rendered into a temporary prefix (``nginx -p -c``,
listening on 8660, upstreams and log path rewritten, nothing else changed). Then the same fixed
number of single-sequence predictions (a real 600-residue protein, ``POST /api/v1/predict``) is sent
by ``--clients`` concurrent keep-alive clients to each topology:

- ``1 process, direct``: one server, no nginx (the default single-machine set-up);
- ``1 process, nginx``: the same server behind nginx (what the proxy itself costs);
- ``2 processes, nginx``: two servers behind the nginx upstream (the scale-out set-up);
- ``2 workers, direct``: one server with two gunicorn workers (scaling inside one server).

Requests per second and p50 / p95 / p99 latency per topology, and which upstream answered (from
nginx's access log). The clients run on the same cores as the servers, as Django and Celery would;
on a 2-core machine two processes can at best double the throughput of one.

    .venv/bin/python bench/scale_out.py                        # 8 clients, 1,200 requests each way
    .venv/bin/python bench/scale_out.py --clients 16 --requests 2000
    .venv/bin/python bench/scale_out.py --rounds 2 --nice -10  # as root, on a shared machine

Every server's CPU time is read from /proc during the timed part (``server_cores_used``): on a
machine others share, it shows how many cores the servers actually got.

Writes bench/out/scale_out.json; recorded in docs/scale-out.md and docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import http.client
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# Imports from the repository root (bench.*, cdss.*).
sys.path[0] = str(ROOT)

from bench._proc import percentile  # noqa: E402
from bench.inference_latency import protein_of_length  # noqa: E402
from inference.testing import ServerHandle, start_server  # noqa: E402

CONF = ROOT / "deploy" / "nginx" / "cdss-inference.conf"
NGINX_PORT, SERVER_PORTS = 8660, (8661, 8662)


def render_nginx(prefix: Path, servers: int) -> Path:
    """The repository's config with loopback test ports, inside a minimal nginx.conf."""
    text = CONF.read_text()
    for name, old, new in (
        ("listen", "listen 127.0.0.1:9000;", f"listen 127.0.0.1:{NGINX_PORT};"),
        ("server 1", "server 127.0.0.1:9001 ", f"server 127.0.0.1:{SERVER_PORTS[0]} "),
        ("server 2", "server 127.0.0.1:9002 ", f"server 127.0.0.1:{SERVER_PORTS[1]} "),
        (
            "log",
            "/var/log/nginx/cdss-inference.access.log",
            str(prefix / "access.log"),
        ),
    ):
        if old not in text:
            raise SystemExit(f"{CONF}: cannot render it, no {name} line {old!r}")
        text = text.replace(old, new)
    if servers == 1:
        text = re.sub(rf"\n\s*server 127\.0\.0\.1:{SERVER_PORTS[1]} [^\n]*", "", text)
    (prefix / "cdss-inference.conf").write_text(text)
    main_conf = prefix / "nginx.conf"
    temp_paths = "\n".join(
        f"    {kind}_temp_path {prefix / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    main_conf.write_text(
        f"""worker_processes auto;
pid {prefix / "nginx.pid"};
error_log {prefix / "error.log"} warn;
events {{ worker_connections 512; }}
http {{
{temp_paths}
    include {prefix / "cdss-inference.conf"};
}}
"""
    )
    return main_conf


@contextlib.contextmanager
def nginx(servers: int) -> Iterator[Path]:
    """Debian's nginx in the foreground, in a temporary prefix; yields the access log's path."""
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    with tempfile.TemporaryDirectory(prefix="cdss-bench-nginx-") as tmp:
        prefix = Path(tmp)
        # nginx's workers drop root to nobody and still read and write here.
        os.chmod(prefix, 0o755)  # noqa: S103
        conf = render_nginx(prefix, servers)
        argv = [binary, "-p", str(prefix), "-e", str(prefix / "error.log"), "-c", str(conf)]
        subprocess.run([*argv, "-t", "-q"], check=True)
        process = subprocess.Popen([*argv, "-g", "daemon off;"])
        try:
            deadline = time.monotonic() + 20
            while not answers(NGINX_PORT):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"nginx did not start: {(prefix / 'error.log').read_text()}")
                time.sleep(0.05)  # poll interval while nginx binds
            yield prefix / "access.log"
        finally:
            process.terminate()
            process.wait(15)


def answers(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        connection.request("GET", "/health")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def client(port: int, body: bytes, count: int, out: list[float], errors: list[str]) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Content-Type": "application/json"}
    try:
        for _ in range(count):
            start = time.perf_counter()
            connection.request("POST", "/api/v1/predict", body=body, headers=headers)
            response = connection.getresponse()
            payload = response.read()
            out.append((time.perf_counter() - start) * 1000)
            if response.status != 200:
                errors.append(f"{response.status}: {payload[:200]!r}")
    finally:
        connection.close()


def drive(port: int, body: bytes, clients: int, requests: int) -> dict[str, Any]:
    per_client = max(1, requests // clients)
    buckets: list[list[float]] = [[] for _ in range(clients)]
    errors: list[str] = []
    threads = [
        threading.Thread(target=client, args=(port, body, per_client, buckets[i], errors))
        for i in range(clients)
    ]
    load_before = os.getloadavg()[0]
    wall = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - wall
    latencies = [x for bucket in buckets for x in bucket]
    return {
        "clients": clients,
        "requests": len(latencies),
        "errors": len(errors),
        "first_error": errors[0] if errors else None,
        "wall_s": round(wall, 2),
        "throughput_rps": round(len(latencies) / wall, 1),
        "p50_ms": round(percentile(latencies, 50), 1),
        "p95_ms": round(percentile(latencies, 95), 1),
        "p99_ms": round(percentile(latencies, 99), 1),
        "max_ms": round(max(latencies), 1),
        "load_average_1m_before": round(load_before, 2),
        "load_average_1m_after": round(os.getloadavg()[0], 2),
    }


def server_pids(handles: list[ServerHandle]) -> list[int]:
    """Each gunicorn master and its workers."""
    pids = []
    for handle in handles:
        pids.append(handle.process.pid)
        children = Path(f"/proc/{handle.process.pid}/task/{handle.process.pid}/children")
        pids += [int(pid) for pid in children.read_text().split()]
    return pids


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes so far (from /proc/<pid>/stat)."""
    ticks = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def read_autogroup() -> str:
    try:
        return Path("/proc/self/autogroup").read_text().strip()
    except OSError:
        return ""


def upstream_counts(access_log: Path) -> dict[str, int]:
    """How many predictions each upstream answered, from the rendered config's access log."""
    counts: collections.Counter[str] = collections.Counter()
    for line in access_log.read_text().splitlines():
        found = re.search(r'"POST /api/v1/predict" \d+ .* upstream=(\S+)', line)
        if found:
            counts[found.group(1)] += 1
    return dict(counts)


def servers(count: int, workers: int, env: dict[str, str]) -> list[ServerHandle]:
    started = []
    try:
        for port in SERVER_PORTS[:count]:
            started.append(
                start_server(
                    port=port,
                    env={**env, "CDSS_INFERENCE_WORKERS": str(workers)},
                    gunicorn=True,
                    startup_timeout=180,
                )
            )
    except BaseException:
        for handle in started:
            handle.stop()
        raise
    return started


def topology(
    name: str, count: int, workers: int, via_nginx: bool, args: argparse.Namespace, body: bytes
) -> dict[str, Any]:
    env = {
        "CDSS_INFERENCE_ENGINES": args.engines,
        "CDSS_INFERENCE_LOG_LEVEL": "warning",
        # Shared by every server, as docs/scale-out.md requires (retraining state lives there).
        "CDSS_RUNTIME_MODELS_DIR": args.runtime_dir,
    }
    handles = servers(count, workers, env)
    try:
        with contextlib.ExitStack() as stack:
            port = SERVER_PORTS[0]
            access_log = None
            if via_nginx:
                access_log = stack.enter_context(nginx(count))
                port = NGINX_PORT
            # Warm-up: every worker of every server has loaded and answered once before timing.
            drive(port, body, 4 * count * workers, 8 * count * workers)
            result: dict[str, Any] = {"topology": name, "processes": count * workers}
            pids = server_pids(handles)
            cpu_before, wall_before = cpu_seconds(pids), time.perf_counter()
            result |= drive(port, body, args.clients, args.requests)
            # Cores the servers actually got: on a shared machine, what limits the throughput.
            result["server_cores_used"] = round(
                (cpu_seconds(pids) - cpu_before) / (time.perf_counter() - wall_before), 2
            )
            if access_log is not None:
                result["answered_by"] = upstream_counts(access_log)
    finally:
        for handle in handles:
            handle.stop()
    print(json.dumps(result), flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=1200, help="timed requests per topology")
    parser.add_argument("--engines", default="sequence", help="CDSS_INFERENCE_ENGINES")
    parser.add_argument("--rounds", type=int, default=1, help="repeat every topology")
    parser.add_argument(
        "--nice",
        type=int,
        default=0,
        help="niceness for this process and every server, nginx and client it starts (negative "
        "needs root): on a machine others share, -10 gives the measurement the cores first",
    )
    args = parser.parse_args()
    previous_group = read_autogroup().rsplit(" ", 1)[-1]
    if args.nice:
        os.nice(args.nice)  # inherited by every process started below
        # With the kernel's autogroups (Debian's default) niceness only ranks processes within one
        # session; other sessions' work shares the cores by session. The session's own weight is
        # this file (its processes, servers included, are all in this session); put back below,
        # since the session outlives this script.
        with contextlib.suppress(OSError):
            Path("/proc/self/autogroup").write_text(str(args.nice))
    try:
        measure(args)
    finally:
        if args.nice and previous_group.lstrip("-").isdigit():
            with contextlib.suppress(OSError):
                Path("/proc/self/autogroup").write_text(previous_group)


def measure(args: argparse.Namespace) -> None:
    args.runtime_dir = tempfile.mkdtemp(prefix="cdss-bench-runtime-")

    header, protein = protein_of_length(600)
    body = json.dumps({"sequence": protein, "seq_type": "protein"}).encode()
    plan = [
        ("1 process, direct", 1, 1, False),
        ("1 process, nginx", 1, 1, True),
        ("2 processes, nginx", 2, 1, True),
        ("2 workers, direct", 1, 2, False),
    ]
    results = []
    for _ in range(args.rounds):
        for name, count, workers, via_nginx in plan:
            results.append(topology(name, count, workers, via_nginx, args, body))
    shutil.rmtree(args.runtime_dir, ignore_errors=True)
    failed = [r for r in results if r["errors"]]
    if failed:
        raise SystemExit(f"requests failed, results not written: {failed[0]['first_error']}")
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    path = out / "scale_out.json"
    path.write_text(
        json.dumps(
            {
                "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, "
                f"{platform.python_version()}",
                "nginx": subprocess.run(
                    ["nginx", "-v"], capture_output=True, text=True
                ).stderr.strip(),
                "engines": args.engines,
                "niceness": os.nice(0),
                "autogroup": read_autogroup(),
                "protein": {"source": header.split()[0], "length": len(protein)},
                "results": results,
            },
            indent=2,
        )
    )
    print(f"wrote {path}")
    print("| topology | processes | requests | req/s | cores | p50 ms | p95 ms | p99 ms | load |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in results:
        print(
            f"| {r['topology']} | {r['processes']} | {r['requests']} | {r['throughput_rps']} "
            f"| {r['server_cores_used']} "
            f"| {r['p50_ms']} | {r['p95_ms']} | {r['p99_ms']} "
            f"| {r['load_average_1m_before']} -> {r['load_average_1m_after']} |"
        )


if __name__ == "__main__":
    main()
