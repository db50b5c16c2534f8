"""The HTTP service under load on loopback, and a kill -9 in the middle of a batch job.

1. POST /evaluate (text, no LLM, no citations) at 1, 8 and 32 concurrent clients: requests/s, p50/p95.
2. POST /jobs with N conversations, SIGKILL the server while it works, restart it, wait, and count
   lost and duplicated evaluations. Usage: python benchmarks/api_load.py [--requests 200] [--job 300]
"""

from __future__ import annotations

import asyncio
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


def start_server(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "ZHIJIAN_CITATIONS": "false", "ZHIJIAN_LLM_PROVIDER": "none"}
    process = subprocess.Popen(
        [str(ZHIJIAN), "serve", "--port", str(port), "--data-dir", str(data_dir)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the server did not become ready")


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


def main(requests: int, job_size: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        settings = Settings(data_dir=data_dir)
        store = Store.from_url(settings.resolved_database_url)
        key = create_api_key(store, name="bench", tenant="bank-demo", role=AccessRole.ADMIN)[1]
        store.engine.dispose()
        port = free_port()
        server = start_server(data_dir, port)
        try:
            for concurrency in (1, 8, 32):
                elapsed, latencies = asyncio.run(load(port, key, payloads(requests, f"c{concurrency}"), concurrency))
                q = statistics.quantiles(latencies, n=20)
                print(
                    f"/evaluate, {concurrency:>2} concurrent clients: {len(latencies) / elapsed:6.1f} requests/s, "
                    f"p50 {statistics.median(latencies) * 1000:6.1f} ms, p95 {q[18] * 1000:6.1f} ms"
                )
            body = "\n".join(json.dumps(p, ensure_ascii=False) for p in payloads(job_size, "job")).encode("utf-8")
            headers = {"X-API-Key": key, "Content-Type": "application/x-ndjson"}
            job = httpx.post(f"http://127.0.0.1:{port}/jobs", content=body, headers=headers, timeout=120).json()
            job_id = job["job_id"]
            while True:
                status = httpx.get(f"http://127.0.0.1:{port}/jobs/{job_id}", headers=headers, timeout=30).json()
                if status["counts"]["done"] >= job_size // 3:
                    break
                time.sleep(0.05)
            server.send_signal(signal.SIGKILL)
            server.wait()
            print(f"killed the server (SIGKILL) with {status['counts']} of a {job_size}-conversation job")
            server = start_server(data_dir, port)
            while not (status := httpx.get(f"http://127.0.0.1:{port}/jobs/{job_id}", headers=headers).json())[
                "finished"
            ]:
                time.sleep(0.1)
            results = httpx.get(f"http://127.0.0.1:{port}/jobs/{job_id}/results", headers=headers, timeout=120)
            ids = [json.loads(line)["conversation_id"] for line in results.text.splitlines()]
        finally:
            server.kill()
            server.wait()
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
    args = sys.argv
    main(
        int(args[args.index("--requests") + 1]) if "--requests" in args else 200,
        int(args[args.index("--job") + 1]) if "--job" in args else 300,
    )
