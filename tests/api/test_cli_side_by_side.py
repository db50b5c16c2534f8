"""Two CLIs on one batch, and the CLI beside a process that holds the embedded regulation index."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import EXIT_FAILED, app
from knowledge.samples import SAMPLE_CONVERSATIONS

ZHIJIAN = Path(sys.executable).parent / "zhijian"


def _batch(tmp_path: Path, copies: int) -> Path:
    lines = [line for line in SAMPLE_CONVERSATIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
    path = tmp_path / "batch.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for n in range(copies):
            for line in lines:
                record = json.loads(line)
                record["id"] = f"{record['id']}-{n}"
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path


@pytest.mark.slow
def test_two_clis_on_one_batch_report_the_same_evaluations_and_tickets(tmp_path: Path) -> None:
    """Before: the second CLI found the first one's evaluation before its ticket was stored and printed none."""
    batch = _batch(tmp_path, 3)
    args = [
        str(ZHIJIAN),
        "evaluate",
        str(batch),
        "--format",
        "json",
        "--no-citations",
        "--data-dir",
        str(tmp_path / "d"),
    ]
    runs = [subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    outputs = [run.communicate(timeout=600) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], [o[1].decode()[-2000:] for o in outputs]
    seen = []
    for stdout, _ in outputs:
        lines = [json.loads(line) for line in stdout.decode().splitlines()]
        seen.append({e["conversation_id"]: (e["id"], e["total"], [t["id"] for t in e["tickets"]]) for e in lines})
    assert len(seen[0]) == 90 and seen[0] == seen[1]
    assert sum(1 for _, _, tickets in seen[0].values() if tickets) > 30


@pytest.mark.slow
def test_the_cli_says_how_to_go_on_when_a_server_holds_the_regulation_index(tmp_path: Path) -> None:
    """Before: a 146-line RuntimeError traceback ('Storage folder … is already accessed')."""
    data = tmp_path / "d"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from qdrant_client import QdrantClient; "
            "c = QdrantClient(path=sys.argv[1]); print('ready', flush=True); time.sleep(120)",
            str(data / "qdrant"),
        ],
        stdout=subprocess.PIPE,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == b"ready"
        source = tmp_path / "c.txt"
        source.write_text("坐席：这款理财保本保收益。\n客户：好的。", encoding="utf-8")
        result = CliRunner().invoke(app, ["evaluate", str(source), "--data-dir", str(data)])
        assert result.exit_code == EXIT_FAILED, result.output
        assert "--no-citations" in result.output and "ZHIJIAN_QDRANT_URL" in result.output
        assert "Traceback" not in result.output and len(result.output.strip().splitlines()) <= 3
        search = CliRunner().invoke(app, ["kb", "search", "保本", "--data-dir", str(data)])
        assert search.exit_code != 0 and "Traceback" not in search.output, search.output
        without = CliRunner().invoke(app, ["evaluate", str(source), "--no-citations", "--data-dir", str(data)])
        assert without.exit_code == 0, without.output
    finally:
        holder.kill()
        holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()
