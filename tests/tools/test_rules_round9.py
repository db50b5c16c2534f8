"""Round 9 of the rule tier: fewer conversations sent to the LLM for nothing — a perfunctory-reply failure that a
second opinion may not overturn is no longer below the review threshold (S01); a customer's stated limit the agent
already answered by turning the sale down is no suitability question (C04); a system limit owned and explained, or
"你自己" that says who did something, is no deflection (S01); a likeness to a deposit denied inside the phrase is no
implied guarantee (C03); impatience at saying it again, take-it-or-leave-it, "nothing to be done" said as the
answer and a customer sent to look it up alone are rude or perfunctory, "我这边也看不到" alone is not (S01); an
early-repayment charge or a lock-up once in the call, then said away, and a wealth product or a policy said to be
covered by deposit insurance "like a deposit", are wrong information (B01); a policy named by its kind or its premium
("终身年金", "两全保险", "首期保费") is an insurance sale that needs its cooling-off period told (C06); a call-back
answer the customer took back, then recorded as first given, is an inconsistency not reconfirmed (C10); the lock-up
told as an answer about redemption — a warning, or a (wrong) claim it can be redeemed — recommends nothing (C04).

Every sentence here is written fresh for the test (no set's wording); each case failed before its fix.
"""

from __future__ import annotations

import pytest

from core.models import Verdict
from tests.tools.rule_cases import rule_verdict as _verdict
from tools.rules import RuleEngine
from tools.transcripts import parse_plain_transcript

# ── S01: a perfunctory reply caught by the patterns is decided, not sent for a second opinion ──


def test_perfunctory_failure_is_not_sent_for_review(engine: RuleEngine) -> None:
    transcript = "坐席：您好，请讲。\n客户：我的退款五天了还没到账。\n坐席：那您再等等吧。\n客户：行吧。"
    conversation = parse_plain_transcript(transcript, conversation_id="case", source="case", scenario="service")
    rule = next(r for r in engine.scorecard.rules if r.id == "SV-PERFUNCTORY")
    prepared, _ = engine.prepare(conversation)
    finding = engine.evaluate_rule(rule, prepared)
    assert finding.verdict is Verdict.FAIL
    assert finding.confidence >= engine.scorecard.thresholds.review_below_confidence


# ── C04: a stated limit the agent answers by turning the sale down leaves nothing for the model ──


@pytest.mark.parametrize(
    "reply",
    [
        "坐席：那这款两年封闭的就不适合您了，到时候钱拿不出来。",
        "坐席：既然下半年就要用，我不建议您买有持有期的产品。",
        "坐席：这种情况我建议您还是存半年定期，到期正好用。",
        "坐席：好的，那我只给您看跟您的测评结果匹配的产品。",
    ],
)
def test_limit_answered_by_turning_the_sale_down_is_waived(engine: RuleEngine, reply: str) -> None:
    transcript = f"坐席：您好，我是理财经理小唐。\n客户：这笔钱是给孩子交学费的，下半年就要用。\n{reply}\n客户：好。"
    assert _verdict(engine, "WS-SUITABILITY-SEMANTIC", transcript, "wealth_sales") is Verdict.NOT_APPLICABLE


def test_limit_answered_with_a_pitch_still_goes_to_the_model(engine: RuleEngine) -> None:
    transcript = (
        "坐席：您好，我是理财经理小唐。\n客户：这笔钱是给孩子交学费的，下半年就要用。\n"
        "坐席：那您看看这款两年持有期的，收益比定期高不少，特别适合您。\n客户：好。"
    )
    assert _verdict(engine, "WS-SUITABILITY-SEMANTIC", transcript, "wealth_sales") is Verdict.NOT_EVALUATED


# ── S01: a system limit owned and explained, or "你自己" saying who did something, is no deflection ──


@pytest.mark.parametrize(
    "reply",
    [
        "坐席：审批没通过的细项我这边看不到，不过可以帮您提交一个复核申请。",
        "坐席：扣了两次是我们的系统问题，多扣的这笔会原路退回。",
        "坐席：这个授权是你自己在手机上确认过的，我们这边留有记录。",
        "坐席：按时还上，不然后面的事你自己掂量。",
    ],
)
def test_owned_limit_or_attribution_is_no_deflection_cue(engine: RuleEngine, reply: str) -> None:
    transcript = f"坐席：您好，请讲。\n客户：我想问一下这个事怎么回事。\n{reply}\n客户：哦。"
    assert _verdict(engine, "SV-PERFUNCTORY-SEMANTIC", transcript) is Verdict.NOT_APPLICABLE


@pytest.mark.parametrize("reply", ["坐席：这个你自己去营业厅问吧。", "坐席：密码的事你自己在网银里找一下。"])
def test_task_handed_back_still_goes_to_the_model(engine: RuleEngine, reply: str) -> None:
    transcript = f"坐席：您好，请讲。\n客户：我想问一下这个事怎么回事。\n{reply}\n客户：哦。"
    assert _verdict(engine, "SV-PERFUNCTORY-SEMANTIC", transcript) is Verdict.NOT_EVALUATED


# ── C03: "跟定期不一样" denies the likeness; "跟定期差不多" still implies safety ──


def test_likeness_to_a_deposit_denied_is_no_implied_guarantee(engine: RuleEngine) -> None:
    transcript = (
        "坐席：您好，我是理财经理小唐。\n客户：你说。\n"
        "坐席：这款净值型理财跟定期存款不一样，净值会上下波动。\n客户：明白。"
    )
    assert _verdict(engine, "WS-IMPLIED-GUARANTEE", transcript, "wealth_sales") is Verdict.NOT_APPLICABLE


def test_likeness_to_a_deposit_still_goes_to_the_model(engine: RuleEngine) -> None:
    transcript = (
        "坐席：您好，我是理财经理小唐。\n客户：你说。\n坐席：这款净值型理财跟定期存款差不多，您放着就行。\n客户：明白。"
    )
    assert _verdict(engine, "WS-IMPLIED-GUARANTEE", transcript, "wealth_sales") is Verdict.NOT_EVALUATED


# ── S01: impatience at repeating, take it or leave it — rude; an agent who restates politely is not ──


@pytest.mark.parametrize(
    "line",
    [
        "坐席：我已经讲得很清楚了，照着做就行。",
        "坐席：我都跟您说了，在首页点进去就有。",
        "坐席：刚才都讲过了，您再听一遍也一样。",
        "坐席：这个跟您说了好几遍了，是月底扣款。",
        "坐席：您不办拉倒，后面排队的人多着呢。",
        "坐席：到底要不要？不要我就挂了。",
    ],
)
def test_impatience_is_rude(engine: RuleEngine, line: str) -> None:
    transcript = f"坐席：您好，请讲。\n客户：那个入口在哪里来着？\n{line}\n客户：哦。"
    assert _verdict(engine, "SV-RUDE-LANGUAGE", transcript, "service") is Verdict.FAIL


@pytest.mark.parametrize(
    "line",
    ["坐席：就像我刚才说的，入口在首页右上角。", "坐席：我再跟您说一遍，在首页点“我的”就能看到。"],
)
def test_restating_politely_is_not_rude(engine: RuleEngine, line: str) -> None:
    transcript = f"坐席：您好，请讲。\n客户：那个入口在哪里来着？\n{line}\n客户：哦。"
    assert _verdict(engine, "SV-RUDE-LANGUAGE", transcript, "service") is Verdict.PASS


# ── S01: "nothing to be done" as the answer, or sent to look it up alone — perfunctory; an owned limit is not ──


@pytest.mark.parametrize(
    "line",
    [
        "坐席：扣费是系统自动的，我们这边也没办法。",
        "坐席：这个我这边也没辙。",
        "坐席：营业时间您自己查一下，地图上有。",
        "坐席：入口就在那个页面，你自己找找。",
        "坐席：具体怎么算，自己看合同。",
    ],
)
def test_brush_off_is_perfunctory(engine: RuleEngine, line: str) -> None:
    transcript = f"坐席：您好，请讲。\n客户：这笔费用是怎么回事？\n{line}\n客户：哦。"
    assert _verdict(engine, "SV-PERFUNCTORY", transcript, "service") is Verdict.FAIL


@pytest.mark.parametrize(
    "line",
    [
        "坐席：收益我没办法保证，业绩比较基准只是参考。",
        "坐席：您也可以自己查一下，在手机银行“账户明细”里。",
        "坐席：验证码您在手机上输就行，我这边也看不到。",
    ],
)
def test_owned_limit_or_a_way_shown_is_not_perfunctory(engine: RuleEngine, line: str) -> None:
    transcript = f"坐席：您好，请讲。\n客户：这笔费用是怎么回事？\n{line}\n客户：哦。"
    assert _verdict(engine, "SV-PERFUNCTORY", transcript, "service") is Verdict.PASS


# ── B01: the early-repayment charge read or quoted, then said to be free ──

_CHARGE_READ = (
    "坐席：借款合同第十一条约定，提前还款的，按提前归还本金的百分之三支付违约金。\n客户：那我下个月想全还了。\n"
)


@pytest.mark.parametrize(
    "reply",
    [
        "坐席：您放心，提前还是不要钱的。",
        "坐席：那个违约金我们一般不收，直接还就行。",
        "坐席：没事，一分违约金都不会有。",
    ],
)
def test_charge_said_away_after_it_was_read_fails(engine: RuleEngine, reply: str) -> None:
    transcript = f"{_CHARGE_READ}{reply}\n客户：好。"
    assert _verdict(engine, "BZ-FEE-CONTRADICTED", transcript, "loan") is Verdict.FAIL


@pytest.mark.parametrize(
    "reply",
    [
        "坐席：您这笔已经满三年了，提前还款不收违约金。",
        "坐席：要是您等到明年五月以后再还，就一分违约金都不收了。",
        "坐席：是的，要按百分之三收，大概一千五百元。",
        "坐席：额度您开着不用也不收任何费用。",
    ],
)
def test_charge_applied_or_another_fee_passes(engine: RuleEngine, reply: str) -> None:
    transcript = f"{_CHARGE_READ}{reply}\n客户：好。"
    assert _verdict(engine, "BZ-FEE-CONTRADICTED", transcript, "loan") is Verdict.PASS


def test_free_repayment_without_a_charge_in_the_call_passes(engine: RuleEngine) -> None:
    transcript = "坐席：您好，请讲。\n客户：我想提前还款。\n坐席：可以的，提前还是不要钱的。\n客户：好。"
    assert _verdict(engine, "BZ-FEE-CONTRADICTED", transcript, "loan") is Verdict.PASS


# ── B01: a lock-up stated, then the money said to come out any time ──

_LOCK_UP = "坐席：这款是两年封闭式的，封闭期内不能赎回。\n客户：万一家里有急事呢？\n"


@pytest.mark.parametrize(
    "reply",
    ["坐席：没问题，随时都能拿出来。", "坐席：放心，封闭期里也可以申请部分赎回。"],
)
def test_lock_up_said_away_fails(engine: RuleEngine, reply: str) -> None:
    transcript = f"{_LOCK_UP}{reply}\n客户：那好。"
    assert _verdict(engine, "BZ-REDEMPTION-CONTRADICTED", transcript, "wealth_sales") is Verdict.FAIL


@pytest.mark.parametrize(
    "reply",
    [
        "坐席：那您可以留一部分放活期理财，那个随时可以取。",
        "坐席：两年到期以后随时可以赎回。",
        "坐席：随时取的那种收益就低多了。",
    ],
)
def test_lock_up_kept_or_another_product_passes(engine: RuleEngine, reply: str) -> None:
    transcript = f"{_LOCK_UP}{reply}\n客户：那好。"
    assert _verdict(engine, "BZ-REDEMPTION-CONTRADICTED", transcript, "wealth_sales") is Verdict.PASS


# ── B01: deposit insurance claimed for a wealth product or a policy "like a deposit" ──


@pytest.mark.parametrize(
    "line",
    ["坐席：这款净值理财和定期一样，也有存款保险兜着。", "坐席：这份年金险同存单一样受存款保险保障。"],
)
def test_deposit_insurance_claimed_for_a_non_deposit_fails(engine: RuleEngine, line: str) -> None:
    transcript = f"坐席：您好，我是理财经理小唐。\n客户：安全吗？\n{line}\n客户：好。"
    assert _verdict(engine, "BZ-DEPOSIT-INSURANCE", transcript, "wealth_sales") is Verdict.FAIL


@pytest.mark.parametrize(
    "line",
    [
        "坐席：这款理财和定期不一样，没有存款保险。",
        "坐席：结构性存款跟定期一样受存款保险保障，五十万以内。",
    ],
)
def test_deposit_insurance_told_right_passes(engine: RuleEngine, line: str) -> None:
    transcript = f"坐席：您好，我是理财经理小唐。\n客户：安全吗？\n{line}\n客户：好。"
    assert _verdict(engine, "BZ-DEPOSIT-INSURANCE", transcript, "wealth_sales") is Verdict.PASS


# ── C06: a policy named by its kind or its premium is an insurance sale ──


@pytest.mark.parametrize(
    "pitch",
    [
        "坐席：这是一款分红型的年金，每年交两万，交八年，六十岁起每年领。",
        "坐席：这个两全保险保二十年，到期满期金全部返还。",
        "坐席：首期保费一万二，明天从您工资卡上扣。",
    ],
)
def test_policy_named_by_kind_without_cooling_off_fails(engine: RuleEngine, pitch: str) -> None:
    transcript = f"坐席：您好，我是网点的客户经理小何。\n客户：你讲。\n{pitch}\n客户：行，那就办吧。"
    assert _verdict(engine, "INS-COOLING-OFF", transcript, "wealth_sales") is Verdict.FAIL


def test_guarantee_fee_of_a_loan_is_no_policy(engine: RuleEngine) -> None:
    transcript = "坐席：您好，我是个贷中心的小何。\n客户：你讲。\n坐席：这笔贷款不收担保费，只有利息。\n客户：好。"
    assert _verdict(engine, "INS-COOLING-OFF", transcript, "loan") is Verdict.NOT_APPLICABLE


# ── C10: the customer takes an answer back; the agent records the first answer anyway ──

_HEDGED = "坐席：这笔理财是您本人在手机上买的吗？\n客户：是……不过说实话，是我外甥替我点的。\n"


@pytest.mark.parametrize(
    "close",
    ["坐席：好的，那我这边记录为本人购买，回访到此结束。", "坐席：行，您的回答都记录为确认，再见。"],
)
def test_hedged_answer_recorded_as_first_given_fails(engine: RuleEngine, close: str) -> None:
    transcript = f"{_HEDGED}{close}"
    assert _verdict(engine, "CB-HEDGE-RECORDED", transcript, "callback") is Verdict.FAIL


@pytest.mark.parametrize(
    "close",
    [
        "坐席：谢谢您告诉我，我会如实记录为亲属协助操作。",
        "坐席：那我再跟您确认一下，购买是您自己决定的吗？记录为本人决定。",
        "坐席：好的，记录为：家人代为点击，购买由本人决定。",
    ],
)
def test_hedged_answer_recorded_truly_passes(engine: RuleEngine, close: str) -> None:
    transcript = f"{_HEDGED}{close}"
    assert _verdict(engine, "CB-HEDGE-RECORDED", transcript, "callback") is Verdict.PASS


def test_answer_kept_and_recorded_passes(engine: RuleEngine) -> None:
    transcript = "坐席：这笔理财是您本人在手机上买的吗？\n客户：是我自己买的。\n坐席：好的，那我这边记录为本人购买。"
    assert _verdict(engine, "CB-HEDGE-RECORDED", transcript, "callback") is Verdict.PASS


# ── C04: the lock-up told as an answer about redemption recommends no closed product ──

_NEED = "客户：这钱下个月要交房租的。\n"


@pytest.mark.parametrize(
    "reply",
    [
        "坐席：那您要留意，这款六个月封闭，封闭期内是没法提前赎回的。",
        "坐席：合同上写着这款封闭期内不开放赎回，到期是明年三月。",
        "坐席：放心，这款持有期里也可以赎回，很方便。",
    ],
)
def test_lock_up_told_about_redemption_is_no_mismatch(engine: RuleEngine, reply: str) -> None:
    transcript = f"坐席：您好，我是理财经理小唐。\n{_NEED}{reply}\n客户：好。"
    assert _verdict(engine, "WS-SUITABILITY-MISMATCH", transcript, "wealth_sales") is Verdict.PASS


def test_closed_product_recommended_still_fails(engine: RuleEngine) -> None:
    transcript = f"坐席：您好，我是理财经理小唐。\n{_NEED}坐席：那给您推荐这款六个月封闭的，收益高一些。\n客户：好。"
    assert _verdict(engine, "WS-SUITABILITY-MISMATCH", transcript, "wealth_sales") is Verdict.FAIL
