"""A scripted abuse run against the real server (issue 11): start `zhijian serve` on loopback with a temporary data
folder and citations off, then run each attack while a poller asks /healthz every 0.2 s, and print per attack what
the attacker got and the worst /healthz latency. Bounded: every request has a timeout, every loop a count.

    .venv/bin/python benchmarks/abuse.py [--skip-audio]

Attacks: a ReDoS rule pack uploaded and evaluated; a 60 MB chunked body; an 80,000-character turn; a poison job
(the ReDoS pack) followed by kill -9 and a restart; an agent dismissing their own ticket; a 3-hour silent Ogg
(18.9 MB) uploaded as a recording.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from proctree import tree_memory_mb

ROOT = Path(__file__).resolve().parents[1]
ZHIJIAN = [sys.executable, "-c", "from api.cli import app; app()"]
REDOS_PACK = """name: redos_probe
version: "1"
title: ReDoS probe
dimensions:
  compliance: {weight: 0.4}
  attitude: {weight: 0.2}
  competence: {weight: 0.2}
  experience: {weight: 0.2}
rules:
  - id: RD-LAUGH
    name: 不得连续大笑
    code: S01
    deduction: 5
    severity: low
    check:
      type: forbidden
      patterns: ['(哈+)+$']
    examples:
      - expect: fail
        transcript: |
          坐席：哈哈哈
      - expect: pass
        transcript: |
          坐席：您好，请问有什么可以帮您？
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """`zhijian serve` in a subprocess, with its peak memory read from /proc."""

    def __init__(self, data_dir: Path, port: int) -> None:
        self.data_dir, self.port = data_dir, port
        self.env = {
            **os.environ,
            "ZHIJIAN_DATA_DIR": str(data_dir),
            "ZHIJIAN_CITATIONS": "false",
            "PYTHONPATH": str(ROOT),
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.peak_pss = 0.0
        self.log = (data_dir / "server.log").open("ab")

    def start(self, wait_s: float = 120) -> float:
        started = time.perf_counter()
        self.process = subprocess.Popen(
            [*ZHIJIAN, "serve", "--port", str(self.port)], cwd=ROOT, env=self.env, stdout=self.log, stderr=self.log
        )
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(
                    f"the server exited with {self.process.returncode}; see {self.data_dir / 'server.log'}"
                )
            try:
                if request("GET", self.port, "/healthz", timeout=1)[0] == 200:
                    return time.perf_counter() - started
            except OSError:
                pass
            time.sleep(0.2)
        raise SystemExit("the server did not answer /healthz in time")

    def memory_mb(self) -> tuple[float, float]:
        """(current PSS, peak of the PSS seen so far) of the server's whole process tree in MB: with `serve --workers`
        the evaluations run in worker processes, which the server process's own figures leave out."""
        if self.process is None:
            return 0.0, 0.0
        now = tree_memory_mb(self.process.pid)[0]
        self.peak_pss = max(self.peak_pss, now)
        return now, self.peak_pss

    def kill9(self) -> None:
        if self.process is not None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill9()
        self.log.close()


def request(
    method: str,
    port: int,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 60,
) -> tuple[int, bytes, dict[str, str]]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read(), dict(response.getheaders())
    finally:
        connection.close()


def chunked_post(port: int, path: str, headers: dict[str, str], total: int, timeout: float = 120) -> tuple[int, bytes]:
    """POST `total` bytes with Transfer-Encoding: chunked (no Content-Length), 64 KiB at a time, on a raw socket so
    the server's early answer can be read even when it closes the connection before the body is through."""
    head = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Transfer-Encoding: chunked"]
    head += [f"{k}: {v}" for k, v in {**headers, "Content-Type": "application/json"}.items()]
    piece = b"a" * 65536
    chunk = f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    opening = b'{"id": "big", "turns": [{"role": "agent", "text": "'
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + f"{len(opening):x}\r\n".encode() + opening + b"\r\n")
        try:
            for _ in range(total // len(piece)):
                sock.sendall(chunk)
            closing = b'"}]}'
            sock.sendall(f"{len(closing):x}\r\n".encode() + closing + b"\r\n0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server stopped reading: its answer is already on the way
        answer = b""
        try:
            while b"\r\n\r\n" not in answer or len(answer) < 20:
                data = sock.recv(65536)
                if not data:
                    break
                answer += data
        except (ConnectionResetError, TimeoutError):
            pass
    if not answer.startswith(b"HTTP/1.1 "):
        return 0, b"connection closed without an answer"
    status = int(answer.split(b" ", 2)[1])
    return status, answer.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in answer else b""


class HealthPoller:
    """GET /healthz every 0.2 s; the worst latency (and failures) per attack label."""

    def __init__(self, port: int) -> None:
        self.port, self.label = port, "startup"
        self.worst: dict[str, float] = {}
        self.failures: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            label, started = self.label, time.perf_counter()
            try:
                ok = request("GET", self.port, "/healthz", timeout=5)[0] == 200
            except OSError:
                ok = False
            elapsed = time.perf_counter() - started
            if ok:
                self.worst[label] = max(self.worst.get(label, 0.0), elapsed)
            else:
                self.failures[label] = self.failures.get(label, 0) + 1
            self._stop.wait(max(0.0, 0.2 - elapsed))

    @contextmanager
    def attack(self, label: str) -> Iterator[None]:
        self.label = label
        yield
        time.sleep(0.5)  # let the poller see the aftermath

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


def create_key(server: Server, *args: str) -> str:
    result = subprocess.run(
        [*ZHIJIAN, "admin", "create-key", *args, "--data-dir", str(server.data_dir)],
        cwd=ROOT,
        env=server.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    found = re.search(r"zj_\S+", result.stdout)
    if found is None:
        raise SystemExit(f"no key printed: {result.stdout} {result.stderr}")
    return found.group(0)


def conversation(cid: str, agent_text: str, agent_id: str = "A101") -> bytes:
    return json.dumps(
        {
            "id": cid,
            "branch": "上海分行",
            "agent_id": agent_id,
            "scenario": "wealth_sales",
            "turns": [{"role": "customer", "text": "这个会亏吗？"}, {"role": "agent", "text": agent_text}],
        },
        ensure_ascii=False,
    ).encode()


def summary(status: int, body: bytes) -> str:
    try:
        detail = json.loads(body).get("detail", "")
    except (ValueError, AttributeError):
        detail = body[:120].decode("utf-8", "replace")
    return f"{status} {str(detail)[:140]}"


def run(skip_audio: bool) -> dict[str, str]:
    outcomes: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="zhijian-abuse-") as folder:
        data_dir = Path(folder) / "data"
        data_dir.mkdir()
        server = Server(data_dir, free_port())
        admin = create_key(server, "abuse admin", "--tenant", "bank-a", "--role", "admin")
        qa = create_key(server, "abuse qa", "--tenant", "bank-a", "--role", "qa_lead", "--branch", "上海分行")
        agent = create_key(
            server, "abuse agent", "--tenant", "bank-a", "--role", "agent", "--branch", "上海分行", "--agent-id", "A101"
        )
        boot = server.start()
        pss = server.memory_mb()[0]
        print(f"server up on 127.0.0.1:{server.port} in {boot:.1f} s; PSS of its processes {pss:.0f} MB")
        poller = HealthPoller(server.port)
        poller.start()
        json_h = {"Content-Type": "application/json"}
        try:
            with poller.attack("redos pack + evaluate"):
                status, body, _ = request(
                    "POST",
                    server.port,
                    "/scorecards",
                    REDOS_PACK.encode(),
                    {"X-API-Key": admin, "Content-Type": "application/yaml"},
                )
                outcomes["redos upload"] = summary(status, body)
                started = time.perf_counter()
                try:
                    status, body, _ = request(
                        "POST",
                        server.port,
                        "/evaluate?scorecard=redos_probe&dry_run=true",
                        conversation("redos-1", "哈" * 40 + "！"),
                        {"X-API-Key": qa, **json_h},
                        timeout=60,
                    )
                    outcomes["redos evaluate"] = f"{summary(status, body)} in {time.perf_counter() - started:.2f} s"
                except TimeoutError:
                    outcomes["redos evaluate"] = "no answer within 60 s"
            with poller.attack("chunked 60 MB body"):
                before = server.memory_mb()[0]
                status, body = chunked_post(server.port, "/evaluate", {"X-API-Key": qa}, 60 * 1024 * 1024)
                outcomes["chunked 60 MB"] = (
                    f"{summary(status, body)}; PSS of the server's processes "
                    f"{before:.0f} → {server.memory_mb()[0]:.0f} MB"
                )
            with poller.attack("80k-char turn"):
                started = time.perf_counter()
                status, body, _ = request(
                    "POST",
                    server.port,
                    "/evaluate",
                    conversation("long-turn", "保本稳赚" * 20000),
                    {"X-API-Key": qa, **json_h},
                    timeout=300,
                )
                outcomes["80k-char turn"] = f"{summary(status, body)} in {time.perf_counter() - started:.2f} s"
            with poller.attack("agent dismisses own ticket"):
                status, body, _ = request(
                    "POST",
                    server.port,
                    "/evaluate",
                    conversation("ticketed", "这款理财保本保收益，稳赚不赔。"),
                    {"X-API-Key": qa, **json_h},
                )
                tickets = json.loads(body).get("tickets", []) if status == 200 else []
                if tickets:
                    status, body, _ = request(
                        "PATCH",
                        server.port,
                        f"/tickets/{tickets[0]['id']}",
                        json.dumps({"status": "dismissed"}).encode(),
                        {"X-API-Key": agent, **json_h},
                    )
                    outcomes["agent dismisses own ticket"] = summary(status, body)
                else:
                    outcomes["agent dismisses own ticket"] = f"no ticket to try ({summary(status, body)})"
            if not skip_audio:
                with poller.attack("3 h silent ogg upload"):
                    outcomes["3 h silent ogg"] = silent_ogg(server, qa)
            with poller.attack("poison job, kill -9, restart"):
                status, body, _ = request(
                    "POST",
                    server.port,
                    "/jobs?scorecard=redos_probe",
                    conversation("poison-1", "哈" * 40 + "！"),
                    {"X-API-Key": qa, "Content-Type": "application/x-ndjson"},
                )
                job = json.loads(body).get("job_id") if status == 202 else None
                time.sleep(2)
                server.kill9()
                restart = server.start()
                progress = "no job"
                for _ in range(60):
                    if job is None:
                        break
                    status, body, _ = request("GET", server.port, f"/jobs/{job}", headers={"X-API-Key": qa})
                    progress = summary(status, body) if status != 200 else json.dumps(json.loads(body)["counts"])
                    if status != 200 or json.loads(body)["finished"]:
                        break
                    time.sleep(1)
                queued = f"queued {job}" if job else f"not queued ({summary(status, body)})"
                outcomes["poison job"] = f"{queued}; restarted in {restart:.1f} s; then {progress}"
        finally:
            poller.stop()
            server.stop()
        print()
        print(f"{'attack':34} {'worst /healthz':>15} {'failed polls':>13}")
        for label in dict.fromkeys([*poller.worst, *poller.failures]):
            print(f"{label:34} {poller.worst.get(label, float('nan')):>13.3f} s {poller.failures.get(label, 0):>13}")
        print()
        for name, outcome in outcomes.items():
            print(f"{name:28} {outcome}")
    return outcomes


def silent_ogg(server: Server, key: str) -> str:
    """An 18.9 MB Ogg of 10,500 s of silence (sox), uploaded as a recording: the answer and the server's peak RSS."""
    path = server.data_dir / "long.ogg"
    subprocess.run(["sox", "-n", "-r", "8000", "-c", "1", str(path), "trim", "0", "10500"], check=True, timeout=300)
    boundary = "zhijianabuse"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="recording"; filename="long.ogg"\r\n'
            "Content-Type: audio/ogg\r\n\r\n"
        ).encode()
        + path.read_bytes()
        + f"\r\n--{boundary}--\r\n".encode()
    )
    before = server.memory_mb()[0]
    started = time.perf_counter()
    status, answer, _ = request(
        "POST",
        server.port,
        "/evaluate/recording?dry_run=true",
        body,
        {"X-API-Key": key, "Content-Type": f"multipart/form-data; boundary={boundary}"},
        timeout=600,
    )
    elapsed = time.perf_counter() - started
    after = server.memory_mb()[0]
    return f"{summary(status, answer)} in {elapsed:.1f} s; PSS of the server's processes {before:.0f} → {after:.0f} MB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--skip-audio", action="store_true", help="Skip the 3 h silent Ogg (needs sox and Whisper).")
    run(parser.parse_args().skip_audio)


if __name__ == "__main__":
    main()
