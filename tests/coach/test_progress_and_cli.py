"""Practice progress across sessions and real calls; the catalogue's own lines; the CLI contract."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from typer.testing import CliRunner

from agents.coach.catalog import load_catalog
from agents.coach.triggers import customer_triggers
from core.access import AccessRole, Principal
from core.settings import PACKAGED_RULE_PACK
from knowledge.rulepacks import load_scorecard
from tests.coach.agents import BAD, GOOD, run_session
from tests.coach.conftest import RECORDS, Coaching, evaluate_records, needs_shared_data
from tools.coaching.progress import practice_progress


def test_every_written_objection_line_raises_it_and_sets_off_its_rules() -> None:
    catalog, card = load_catalog(), load_scorecard(PACKAGED_RULE_PACK)
    known = {r.id for r in card.rules}
    for objection in catalog.objections:
        assert set(objection.rules) <= known, objection.id
        triggers = customer_triggers(card.rule(r) for r in objection.rules)
        for line in objection.variants.zh + objection.variants.en:
            assert objection.raised_by(line), (objection.id, line)
        if triggers:
            import re

            assert any(re.search(p, v) for v in objection.variants.zh for p in triggers), objection.id
    for code in ("C03", "C04", "B02", "S02"):
        assert catalog.hint(code, "zh") and catalog.hint(code, "en")
    assert catalog.sounds_like_agent("您好，这里是安和银行，请问有什么可以帮您？", "zh")
    assert catalog.sounds_like_agent("这个保本吗？我亏不起。", "zh") is None


@needs_shared_data
def test_progress_counts_sessions_and_real_calls_before_and_after(coaching: Callable[[], Coaching]) -> None:
    c = coaching()
    org, profile = c.agent("A017", "bank-a")
    rules = ["WS-NO-GUARANTEE"]
    bad = run_session(c.sessions, c.sessions.start(agent=org, profile=profile, started_by="t", rules=rules), BAD)
    good = run_session(c.sessions, c.sessions.start(agent=org, profile=profile, started_by="t", rules=rules), GOOD)
    assert good.debrief is not None and good.debrief.improved_rules == rules
    assert bad.debrief is not None and bad.debrief.previous_total is None
    # A real call after the practice: it counts on the "after" side.
    later = dict(next(r for r in RECORDS if r["agent_id"] == "A017"), id="A017-after-practice")
    evaluate_records(c.settings, c.store, [later])
    lead = Principal(subject="lead", tenant="bank-a", role=AccessRole.QA_LEAD, branch=org.branch)
    progress = practice_progress(c.store, lead, "A017")
    assert [s.session_id for s in progress.sessions] == [bad.session_id, good.session_id]
    assert progress.sessions[0].failed_rules == rules and progress.sessions[1].passed_rules == rules
    rule = progress.rules[0]
    assert (rule.rule_id, rule.sessions, rule.passed, rule.pass_rate) == ("WS-NO-GUARANTEE", 2, 1, 0.5)
    assert rule.real_calls_before == sum(1 for r in RECORDS if r["agent_id"] == "A017")
    assert rule.real_calls_after == 1 and rule.real_fail_rate_before is not None
    elsewhere = Principal(subject="x", tenant="bank-a", role=AccessRole.COACH, branch="北京分行")
    assert practice_progress(c.store, elsewhere, "A017").sessions == []


@needs_shared_data
def test_cli_start_say_end_as_json(coaching: Callable[[], Coaching], monkeypatch: pytest.MonkeyPatch) -> None:
    from api import cli

    c = coaching()
    c.close()  # the CLI opens the same files itself
    # The CLI builds its own pool: point it at the test session's vector cache through the embedder it uses.
    import graphs.coach as coach_graph

    original = coach_graph.build_coach_context

    def with_shared_pool(settings: object, store: object, **kwargs: object) -> object:
        from tests.coach.conftest import POOL_SCENARIOS
        from tools.coaching.pool import PoolProvider

        pools = PoolProvider(store, c.vectors, labelled_scenarios=POOL_SCENARIOS)  # type: ignore[arg-type]
        return original(settings, store, pools=pools)  # type: ignore[arg-type]

    monkeypatch.setattr("api.coach_cli.build_coach_context", with_shared_pool)
    runner = CliRunner()
    base = ["--data-dir", str(c.settings.data_dir)]
    started = runner.invoke(cli.app, ["coach", "start", "--agent", "A017", "--code", "C03", "--format", "json", *base])
    assert started.exit_code == 0, started.output
    view = json.loads(started.stdout)
    assert view["status"] == "active" and view["customer"] and "C03" in view["scenario"]["target_codes"]
    said = runner.invoke(cli.app, ["coach", "say", view["session_id"], "这款产品保本，稳赚不赔。", "-f", "json", *base])
    assert said.exit_code == 0, said.output
    assert json.loads(said.stdout)["feedback"][-1]["turn"] == 1
    ended = runner.invoke(cli.app, ["coach", "end", view["session_id"], "--format", "json", *base])
    assert ended.exit_code == 0, ended.output
    assert json.loads(ended.stdout)["debrief"]["targets"]
    table = runner.invoke(cli.app, ["coach", "end", view["session_id"], *base])
    assert table.exit_code == 0 and "debrief" in table.stdout
    missing = runner.invoke(cli.app, ["coach", "say", "nope", "hi", *base])
    assert missing.exit_code == 2
