"""`zhijian train`: labelled JSONL in, a versioned tier-1 artifact out that the product can load."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from tools.small_model import SmallModelTier

runner = CliRunner()

THREATS = ["再不还钱我们就去你单位找你领导。", "不还的话今晚就派人上你家门口等着。", "你欠钱的事我们会告诉你所有亲戚。"]


def _call(conversation_id: str, agent_line: str, labelled: bool) -> dict[str, object]:
    return {
        "id": conversation_id,
        "scenario": "collection",
        "turns": [
            {"role": "agent", "text": "您好，这里是贷后管理部，请问是刘先生吗？"},
            {"role": "customer", "text": "是我，这个月手头紧。"},
            {"role": "agent", "text": agent_line},
            {"role": "customer", "text": "你们这样不合适吧。"},
        ],
        "labels": [{"code": "C09", "turns": [2], "why": "威胁"}] if labelled else [],
    }


@pytest.mark.slow
def test_train_writes_a_versioned_model_the_tier_loads(tmp_path: Path) -> None:
    records = [_call(f"D{i:03d}", t, True) for i, t in enumerate(THREATS)]
    records += [_call(f"E{i:03d}", t, True) for i, t in enumerate(THREATS)]
    records += [_call("D100", "逾期会影响征信，建议您尽快还款。", False), _call("E100", "您可以申请分期还款。", False)]
    labelled = tmp_path / "labelled.jsonl"
    labelled.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    out = tmp_path / "model"
    cache = tmp_path / "embeddings.sqlite"

    result = runner.invoke(
        app, ["train", str(labelled), "--out", str(out), "--no-written", "--embedding-cache", str(cache)]
    )

    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["version"] in result.output
    assert manifest["training_sizes"]["development_conversations"] == 8
    assert manifest["training_sizes"]["positives"]["C09"] >= 6
    assert {"rules", "rules_tier1"} <= set(manifest["cross_validation"])
    assert all("threshold" in p and "veto" in p for p in manifest["policies"])
    tier = SmallModelTier.load(out)
    assert tier.model_name == f"tier1-{manifest['version']}"

    # Same data, same version; other data, another version.
    again = runner.invoke(
        app, ["train", str(labelled), "--out", str(tmp_path / "again"), "--no-written", "--embedding-cache", str(cache)]
    )
    assert (
        json.loads((tmp_path / "again" / "manifest.json").read_text(encoding="utf-8"))["version"] == manifest["version"]
    ), again.output
    labelled.write_text(labelled.read_text(encoding="utf-8").replace("手头紧", "手头很紧"), encoding="utf-8")
    runner.invoke(
        app, ["train", str(labelled), "--out", str(tmp_path / "other"), "--no-written", "--embedding-cache", str(cache)]
    )
    assert (
        json.loads((tmp_path / "other" / "manifest.json").read_text(encoding="utf-8"))["version"] != manifest["version"]
    )


def test_train_without_labelled_conversations_fails_clearly(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("", encoding="utf-8")
    result = runner.invoke(app, ["train", str(empty), "--out", str(tmp_path / "m")])
    assert result.exit_code == 1
    assert "no labelled conversations" in result.output
