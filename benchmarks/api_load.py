"""The HTTP service under load on loopback, and a kill -9 in the middle of a batch job.

The server runs as `zhijian serve --workers W` in a subprocess (W evaluating processes, 0: one per core); the clients
are httpx in this process, on the same machine (their CPU counts against the server's). Each line also gives the CPU
time per request of the server's processes and of the clients, which the machine's other load does not inflate.

1. POST /evaluate (text, no LLM, no citations) at 1, 8 and 32 concurrent clients: requests/s, p50/p95. Every request
   is a distinct conversation (new id, so no stored evaluation is reused), after a warm-up that is not counted.
2. POST /jobs with N conversations, SIGKILL the server while it works, restart it, wait, and count
   lost and duplicated evaluations (with several workers, the whole process group is killed).
Usage: python benchmarks/api_load.py [--requests 300] [--job 300] [--workers 0] [--skip-job]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from itertools import cycle, islice
from pathlib import Path

import httpx

from core.access import AccessRole
from core.accounts import create_api_key
from core.models import Conversation
from core.settings import Settings
from core.store import Store
from knowledge.samples import SAMPLE_CONVERSATIONS
from tools.transcripts import read_path

ZHIJIAN = Path(sys.executable).parent / "zhijian"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(data_dir: Path, port: int, workers: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "ZHIJIAN_CITATIONS": "false", "ZHIJIAN_LLM_PROVIDER": "none"}
    process = subprocess.Popen(
        [str(ZHIJIAN), "serve", "--port", str(port), "--data-dir", str(data_dir), "--workers", str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: a kill reaches every worker
    )
    for _ in range(1200):
        try:
            response = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1)
            # ready once the evaluator processes are (before that the server process evaluates alone)
            if response.status_code == 200 and "meanwhile" not in response.json().get("evaluators", ""):
                return process
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    kill(process)
    raise RuntimeError("the server did not become ready")


def kill(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the server and all its workers."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def payloads(n: int, prefix: str) -> list[dict[str, object]]:
    base = [c for c in read_path(SAMPLE_CONVERSATIONS, max_bytes=10**8) if isinstance(c, Conversation)]
    return [
        {**c.model_dump(mode="json", exclude={"tenant"}), "id": f"{prefix}-{i}"}
        for i, c in enumerate(islice(cycle(base), n))
    ]


async def load(port: int, key: str, bodies: list[dict[str, object]], concurrency: int) -> tuple[float, list[float]]:
    queue: asyncio.Queue[dict[str, object]] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    latencies: list[float] = []
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", headers={"X-API-Key": key}, timeout=120
    ) as client:

        async def worker() -> None:
            while not queue.empty():
                body = queue.get_nowait()
                started = time.perf_counter()
                response = await client.post("/evaluate", json=body)
                response.raise_for_status()
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - started, latencies


def group_cpu_s(group: int) -> float:
    """CPU seconds (user + system) used so far by the live processes of a process group (Linux /proc)."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group:  # pgrp; utime and stime follow at 11 and 12 (after the command name)
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def measure(port: int, key: str, requests: int, concurrency: int, server: int) -> None:
    asyncio.run(load(port, key, payloads(min(requests, 40), f"warm{concurrency}"), concurrency))  # not counted
    server_cpu, client_cpu = group_cpu_s(server), time.process_time()
    elapsed, latencies = asyncio.run(load(port, key, payloads(requests, f"c{concurrency}"), concurrency))
    server_cpu, client_cpu = group_cpu_s(server) - server_cpu, time.process_time() - client_cpu
    q = statistics.quantiles(latencies, n=20)
    print(
        f"/evaluate, {concurrency:>2} concurrent clients: {len(latencies) / elapsed:6.1f} requests/s, "
        f"p50 {statistics.median(latencies) * 1000:6.1f} ms, p95 {q[18] * 1000:6.1f} ms; CPU per request: "
        f"server {server_cpu * 1000 / len(latencies):5.1f} ms, clients {client_cpu * 1000 / len(latencies):4.1f} ms",
        flush=True,
    )


def main(requests: int, job_size: int, workers: int, skip_job: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        settings = Settings(data_dir=data_dir)
        store = Store.from_url(settings.resolved_database_url)
        key = create_api_key(store, name="bench", tenant="bank-demo", role=AccessRole.ADMIN)[1]
        store.engine.dispose()
        port = free_port()
        print(f"zhijian serve --workers {workers} ({workers or os.cpu_count()} processes), {os.cpu_count()} cores")
        server = start_server(data_dir, port, workers)
        try:
            for concurrency in (1, 8, 32):
                measure(port, key, requests, concurrency, server.pid)
            if skip_job:
                return
            body = "\n".join(json.dumps(p, ensure_ascii=False) for p in payloads(job_size, "job")).encode("utf-8")
            headers = {"X-API-Key": key, "Content-Type": "application/x-ndjson"}
            job = httpx.post(f"http://127.0.0.1:{port}/jobs", content=body, headers=headers, timeout=120).json()
            job_id = job["job_id"]
            while True:
                status = httpx.get(f"http://127.0.0.1:{port}/jobs/{job_id}", headers=headers, timeout=30).json()
                if status["counts"]["done"] >= job_size // 3:
                    break
                time.sleep(0.05)
            kill(server)
            print(f"killed the server (SIGKILL) with {status['counts']} of a {job_size}-conversation job")
            server = start_server(data_dir, port, workers)
            while not (status := httpx.get(f"http://127.0.0.1:{port}/jobs/{job_id}", headers=headers).json())[
                "finished"
            ]:
                time.sleep(0.1)
            results = httpx.get(f"http://127.0.0.1:{port}/jobs/{job_id}/results", headers=headers, timeout=120)
            ids = [json.loads(line)["conversation_id"] for line in results.text.splitlines()]
        finally:
            kill(server)
        with sqlite3.connect(data_dir / "zhijian.db") as db:
            stored = db.execute(
                "select count(*), count(distinct conversation_id) from evaluations where conversation_id like 'job-%'"
            ).fetchone()
        lost = job_size - len(set(ids))
        duplicated = (len(ids) - len(set(ids))) + (stored[0] - stored[1])
        print(
            f"after restart: {status['counts']}; results {len(ids)} lines, {len(set(ids))} distinct; "
            f"stored evaluations {stored[0]} ({stored[1]} distinct) — lost {lost}, duplicated {duplicated}"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=300, help="requests per concurrency level")
    parser.add_argument("--job", type=int, default=300, help="conversations in the killed job")
    parser.add_argument("--workers", type=int, default=0, help="server processes (0: one per core)")
    parser.add_argument("--skip-job", action="store_true", help="only the /evaluate load")
    options = parser.parse_args()
    main(options.requests, options.job, options.workers, options.skip_job)
