"""Tier-1 decision policy: the gate, vetoes with a margin, end-of-call windows, nested replay, source weights, folds."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core.models import Dimension, Evidence, Finding, Role, Severity, Tier, Verdict
from tools.small_model.dataset import EXTRA_GROUP, TrainingUnit, units_from_written
from tools.small_model.policy import (
    CodeEvidence,
    DevConversation,
    PolicySettings,
    choose_policies,
    choose_threshold,
    choose_veto,
    code_evidence,
    figures,
    nested_replay,
    replay,
)
from tools.small_model.training import TrainingConfig, fold_of, unit_weights

SETTINGS = PolicySettings(target_precision=0.85, min_true_positives=2, floor=0.5, veto_ceiling=0.2, windows={"X02": 2})
BACKED = dataclasses.replace(SETTINGS, written_precision=0.9, written_recall=0.5)


def _finding(code: str, verdict: Verdict, turns: list[int]) -> Finding:
    return Finding(
        rule_id=f"R-{code}",
        rule_name=code,
        code=code,
        dimension=Dimension.COMPLIANCE,
        verdict=verdict,
        severity=Severity.HIGH,
        evidence=[Evidence(turn=t, role=Role.AGENT, quote="…") for t in turns],
        confidence=1.0,
        tier=Tier.RULES,
        explanation="",
    )


def test_the_gate_needs_two_correct_additions_unless_written_examples_back_one() -> None:
    one_correct = [(0.95, True), (0.4, False), (0.3, False)]
    assert choose_threshold(one_correct, SETTINGS) is None
    backed = [(0.99, True), (0.97, True), (0.96, True), (0.5, True), (0.7, False)]  # at 0.95: P 1.0, R 0.75
    assert choose_threshold(one_correct, BACKED, backed) == 0.95
    unbacked = [(0.97, True), (0.96, False), (0.2, True), (0.1, True)]  # a near miss scores as high: P 0.5
    assert choose_threshold(one_correct, BACKED, unbacked) is None
    missed = [(0.99, True), (0.6, True), (0.55, True), (0.5, True)]  # most paraphrases fall below: R 0.25
    assert choose_threshold(one_correct, BACKED, missed) is None
    # Two correct additions pass on their own; a false one above them keeps the precision below target.
    assert choose_threshold([(0.9, True), (0.8, True), (0.7, False)], SETTINGS) == 0.8
    assert choose_threshold([(0.95, False), (0.9, True), (0.8, True)], SETTINGS) is None
    # Nothing below the floor, whatever its precision.
    assert choose_threshold([(0.45, True), (0.44, True)], SETTINGS) is None


def test_a_veto_sits_well_below_every_true_rule_failure() -> None:
    assert choose_veto([0.3, 0.6], [0.05], SETTINGS) == pytest.approx(0.15)
    assert choose_veto([0.3, 0.6], [0.16], SETTINGS) is None  # not below the margin: a true failure is too close
    assert choose_veto([0.9], [0.1], SETTINGS) == 0.2  # the ceiling
    assert choose_veto([], [0.01], SETTINGS) is None  # no true failure seen: no evidence that a veto is safe


def _conversation(cid: str, gold: set[str], findings: list[Finding], writer: str) -> DevConversation:
    turns = [(Role.AGENT, "您好"), (Role.CUSTOMER, "我要投诉"), (Role.AGENT, "好的"), (Role.CUSTOMER, "算了不办了")]
    turns += [(Role.AGENT, "再见"), (Role.CUSTOMER, "再见")]
    return DevConversation(cid, frozenset(gold), findings, turns, writer)


def test_an_end_of_call_code_looks_only_at_the_last_turns_of_its_role() -> None:
    conversation = _conversation("D001", {"X02"}, [], "D")
    rows = {t: t for t in range(6)}
    early = np.asarray([0, 0.99, 0, 0.1, 0, 0.2], dtype=np.float32)  # a complaint early on, a calm ending
    late = np.asarray([0, 0.1, 0, 0.9, 0, 0.2], dtype=np.float32)
    assert code_evidence(conversation, "X02", rows, early, 2).best == pytest.approx(0.2)
    assert code_evidence(conversation, "X02", rows, late, 2).best == pytest.approx(0.9)
    assert code_evidence(conversation, "X02", rows, early, None).best == pytest.approx(0.99)


def test_rule_evidence_is_scored_on_the_failing_turns() -> None:
    conversation = _conversation("D001", set(), [_finding("C09", Verdict.FAIL, [2])], "D")
    probabilities = np.asarray([0.9, 0, 0.05, 0, 0.7, 0], dtype=np.float32)
    seen = code_evidence(conversation, "C09", {t: t for t in range(6)}, probabilities, None)
    assert seen.rule_failed and seen.rule_evidence == pytest.approx(0.05) and seen.best == pytest.approx(0.9)


def test_replay_adds_and_vetoes_and_nested_choice_never_sees_the_measured_writer() -> None:
    dev = [
        _conversation("D001", {"C05"}, [], "D"),
        _conversation("D002", {"C05"}, [], "D"),
        _conversation("E001", {"C05"}, [], "E"),
        _conversation("E002", set(), [_finding("C09", Verdict.FAIL, [2])], "E"),
        _conversation("F001", {"C09"}, [_finding("C09", Verdict.FAIL, [2])], "F"),
    ]
    best = {"D001": 0.9, "D002": 0.8, "E001": 0.85, "E002": 0.1, "F001": 0.1}
    evidence = {}
    for c in dev:
        evidence[(c.id, "C05")] = CodeEvidence(best[c.id], False, None)
        failed = bool(c.rule_findings)
        evidence[(c.id, "C09")] = CodeEvidence(0.0, failed, {"E002": 0.02, "F001": 0.6}.get(c.id) if failed else None)
    platt = {"C05": (1.0, 0.0), "C09": (1.0, 0.0)}
    policies = choose_policies(["C05", "C09"], evidence, dev, platt, SETTINGS)
    assert policies[0].threshold == 0.8 and policies[1].veto == pytest.approx(0.2)
    predicted = {c.id: replay(c, policies, evidence) for c in dev}
    assert predicted == {"D001": {"C05"}, "D002": {"C05"}, "E001": {"C05"}, "E002": set(), "F001": {"C09"}}
    assert figures(dev, predicted)["precision"] == 1.0 and figures(dev, predicted)["clean_false_alarm_rate"] == 0.0
    nested = nested_replay(["C05", "C09"], evidence, dev, platt, SETTINGS)
    # Holding out D leaves one correct C05 addition (E001): the gate stays shut for D's conversations.
    assert nested["D001"] == set() and nested["E001"] == {"C05"}
    # Holding out F leaves no true C09 failure to prove a veto safe; holding out E leaves no false one to remove.
    assert nested["F001"] == {"C09"} and nested["E002"] == {"C09"}


def test_written_examples_weigh_more_for_their_own_code_and_are_split_across_folds(tmp_path: Path) -> None:
    path = tmp_path / "gen_c09.jsonl"
    lines = [
        {"code": "C09", "violation": True, "text": f"再不还钱就去你单位找你{i}号", "context": "没钱"} for i in range(30)
    ]
    lines += [
        {"code": "C09", "violation": False, "text": f"逾期会影响征信第{i}次提醒", "context": "没钱"} for i in range(30)
    ]
    path.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), encoding="utf-8")
    written = units_from_written([path])
    labelled = TrainingUnit("您好", "", Role.AGENT, frozenset(), "D", "labelled:D001#0", "D001")
    config = TrainingConfig(written_weight=2.0, written_other_weight=0.25, labelled_weight=1.0)
    units = [*written, labelled]
    assert set(unit_weights(units, "C09", config)) == {2.0, 1.0}
    assert set(unit_weights(units, "C12", config)) == {0.25, 1.0}
    assert unit_weights(units, "X02", config).sum() == 0  # customer code: agent turns say nothing about it
    folds = [fold_of(u, ["D", "E", "F"]) for u in written]
    assert set(folds) == {"D", "E", "F"} and folds == [fold_of(u, ["D", "E", "F"]) for u in written]
    assert fold_of(labelled, ["D", "E", "F"]) == "D"
    rule = dataclasses.replace(labelled, group=EXTRA_GROUP, origin="rule")
    assert fold_of(rule, ["D", "E", "F"]) is None


def test_train_cli_imports_nothing_heavy_and_agrees_with_the_model_paths() -> None:
    code = (
        "import sys, api.train_cli as t\n"
        "heavy = ('sklearn', 'tools.rules', 'tools.small_model', 'numpy', 'core.models')\n"
        "print([m for m in heavy if m in sys.modules])"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"

    from api import train_cli
    from core.settings import PACKAGED_RULE_PACK
    from tools.small_model.model import DEFAULT_MODEL_DIR

    assert train_cli.DEFAULT_MODEL_DIR == DEFAULT_MODEL_DIR and train_cli.PACKAGED_RULE_PACK == PACKAGED_RULE_PACK


def test_a_threshold_is_chosen_on_every_call_when_the_rules_already_catch_the_development_ones() -> None:
    # Rules tuned on the development part fail all three X02 calls there: with only rule misses to learn from,
    # tier 1 could never add an X02 failure on calls the rules miss elsewhere.
    dev = [_conversation(f"D00{i}", {"X02"}, [_finding("X02", Verdict.FAIL, [5])], "D") for i in range(3)]
    dev += [_conversation(f"E00{i}", set(), [], "E") for i in range(5)]
    best = {"D000": 0.9, "D001": 0.8, "D002": 0.7, "E000": 0.6, "E001": 0.2, "E002": 0.1, "E003": 0.1, "E004": 0.1}
    evidence = {
        (c.id, "X02"): CodeEvidence(best[c.id], bool(c.rule_findings), 0.5 if c.rule_findings else None) for c in dev
    }
    platt = {"X02": (1.0, 0.0)}
    assert choose_policies(["X02"], evidence, dev, platt, SETTINGS)[0].threshold == 0.7
    only_misses = dataclasses.replace(SETTINGS, standalone=False)
    assert choose_policies(["X02"], evidence, dev, platt, only_misses)[0].threshold is None
    policies = choose_policies(["X02"], evidence, dev, platt, SETTINGS)
    assert [c.id for c in dev if replay(c, policies, evidence, with_rules=False)] == ["D000", "D001", "D002"]
