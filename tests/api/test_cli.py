from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app

runner = CliRunner()

CALL = {
    "id": "cli-1",
    "tenant": "bank-x",
    "branch": "上海分行",
    "team": "财富一组",
    "agent_id": "A001",
    "scenario": "wealth_sales",
    "channel": "phone",
    "outcome": {"converted": True, "csat": 4},
    "turns": [
        {"role": "agent", "text": "您好，我是安和银行理财经理。", "start": 0.0, "end": 3.0},
        {"role": "customer", "text": "这个产品会亏吗？", "start": 3.5, "end": 5.0},
        {"role": "agent", "text": "放心，这款产品保本，稳赚不赔。", "start": 5.5, "end": 9.0},
    ],
    "labels": [{"code": "C03"}],
}


@pytest.fixture
def batch(tmp_path: Path) -> Path:
    path = tmp_path / "batch.jsonl"
    path.write_text(
        json.dumps(CALL, ensure_ascii=False)
        + "\n"
        + '{"id": "oops", "turns": "nope"}\n'
        + json.dumps({**CALL, "id": "cli-2"}, ensure_ascii=False)
        + "\n",
        encoding="utf-8",
    )
    return path


def test_json_output_is_the_documented_contract_and_bad_records_do_not_stop_the_batch(
    batch: Path, tmp_path: Path, small_corpus: Path
) -> None:
    env = {"ZHIJIAN_REGULATIONS_DIR": str(small_corpus)}
    args = ["evaluate", str(batch), "--format", "json", "--data-dir", str(tmp_path / "d")]
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 1  # one record was rejected
    assert f"{batch}:2: conversation 'oops': turns" in result.stderr
    assert "2 evaluated, 1 rejected" in result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["conversation_id"] for line in lines] == ["cli-1", "cli-2"]
    first = lines[0]
    assert {
        "conversation_id",
        "scores",
        "total",
        "risk_level",
        "findings",
        "tickets",
        "rule_pack_version",
    } <= set(first)
    assert set(first["scores"]) == {"compliance", "attitude", "competence", "experience"}
    c03 = next(f for f in first["findings"] if f["code"] == "C03" and f["verdict"] == "fail")
    assert c03["evidence"][0]["turn"] == 2 and "保本" in c03["evidence"][0]["quote"]
    # The rule's own clauses (证券法) are not in this small corpus, so the clauses come from retrieval.
    assert c03["citations"] and {c["source"] for c in c03["citations"]} == {"retrieval"}
    assert {"clause_id", "title", "article", "text"} <= set(c03["citations"][0])
    assert first["tickets"][0]["conversation_id"] == "cli-1"


def test_table_output_and_missing_path(batch: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["evaluate", str(batch), "--dry-run", "--no-citations", str(tmp_path / "nope.json")])
    assert result.exit_code == 1
    assert "no such file or folder" in result.stderr
    assert "cli-1" in result.stdout and "WS-NO-GUARANTEE" in result.stdout and "质检汇总" in result.stdout


def test_bad_rule_pack_is_a_clear_error(batch: Path, tmp_path: Path) -> None:
    pack = tmp_path / "pack.yaml"
    pack.write_text("name: x\nversion: '1'\nrules: []\n", encoding="utf-8")
    result = runner.invoke(app, ["evaluate", str(batch), "--dry-run", "--no-citations", "--rule-pack", str(pack)])
    assert result.exit_code == 2 and "error:" in result.stderr and "dimensions" in result.stderr


def test_demo_evaluates_the_sample_corpus_with_citations(tmp_path: Path, small_corpus: Path) -> None:
    env = {"ZHIJIAN_REGULATIONS_DIR": str(small_corpus)}
    result = runner.invoke(app, ["demo", "--data-dir", str(tmp_path)], env=env)
    assert result.exit_code == 0, result.output
    assert "30 conversations evaluated" in result.stdout
    assert "合规" in result.stdout and "工单" in result.stdout and "micro" in result.stdout
    assert "《存款保险条例》第四条" in result.stdout  # WS-NOT-A-DEPOSIT's own clause, with its text
    assert (tmp_path / "demo" / "zhijian.db").exists() and (tmp_path / "qdrant").exists()
    again = runner.invoke(app, ["demo", "--data-dir", str(tmp_path)], env=env)  # index kept, database fresh
    assert again.exit_code == 0 and "30 conversations evaluated, " in again.stdout


def test_kb_commands(tmp_path: Path, small_corpus: Path) -> None:
    first = runner.invoke(app, ["kb", "ingest", str(small_corpus), "--data-dir", str(tmp_path)])
    assert first.exit_code == 0 and "45 chunks — 45 embedded" in first.stdout
    second = runner.invoke(app, ["kb", "ingest", str(small_corpus), "--data-dir", str(tmp_path)])
    assert "0 embedded, 45 unchanged" in second.stdout
    env = {"ZHIJIAN_REGULATIONS_DIR": str(small_corpus)}
    hits = runner.invoke(app, ["kb", "search", "存款保险最多赔多少", "-k", "3", "--data-dir", str(tmp_path)], env=env)
    assert hits.exit_code == 0 and "存款保险条例-第5条" in hits.stdout


def test_rules_and_schema_commands() -> None:
    from core.settings import PACKAGED_RULE_PACK
    from knowledge.rulepacks import load_scorecard

    count = len(load_scorecard(PACKAGED_RULE_PACK).rules)
    rules = runner.invoke(app, ["rules"])
    assert rules.exit_code == 0 and f"{count} rules" in rules.stdout and "C03" in rules.stdout
    schema = json.loads(runner.invoke(app, ["schema"]).stdout)
    assert "turns" in schema["required"]


def test_privacy_forget_and_purge(tmp_path: Path) -> None:
    from api.privacy_cli import forget_checkpoints
    from graphs.wiring import open_sqlite_checkpointer

    data = tmp_path / "d"
    source = tmp_path / "c.txt"
    source.write_text(
        "坐席：您好，请问是王先生吗？\n客户：是我，手机13812345678。\n坐席：您本期账单金额是八千元。", "utf-8"
    )
    assert runner.invoke(app, ["evaluate", str(source), "--no-citations", "--data-dir", str(data)]).exit_code == 0
    saver = open_sqlite_checkpointer(data / "checkpoints.db")  # an unfinished LLM run of the same call
    saver.put(
        {"configurable": {"thread_id": "qm:default|c|abc|retail|1", "checkpoint_ns": ""}},
        {
            "v": 1,
            "id": "1f0",
            "ts": "2026-01-01T00:00:00+00:00",
            "channel_values": {},
            "channel_versions": {},
            "versions_seen": {},
        },
        {"source": "input", "step": -1, "writes": None, "parents": {}},
        {},
    )
    saver.conn.close()
    forgotten = runner.invoke(app, ["privacy", "forget", "c", "--data-dir", str(data)])
    assert forgotten.exit_code == 0, forgotten.output
    assert "erased 1 stored version(s) of c and 1 unfinished run(s)" in forgotten.output
    assert forget_checkpoints(data / "checkpoints.db", tenant="default", conversation_id="c") == 0
    again = runner.invoke(app, ["privacy", "forget", "c", "--data-dir", str(data)])
    assert again.exit_code == 1
    assert runner.invoke(app, ["privacy", "purge", "--data-dir", str(data)]).exit_code == 2
    assert runner.invoke(app, ["privacy", "purge", "--days", "1", "--data-dir", str(data)]).exit_code == 0
