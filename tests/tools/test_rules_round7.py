"""Round 7 of the rule tier: classes of verdict errors seen across several writers' sets — a customer who gives up
on the call answered by a goodbye (X02, not S02); account facts read out before a check, and checks done in the app or
earlier in the same turn (C01); a product likened to a deposit (C05); dated needs and bridged sales (C04); someone
else's money, name or card (C11); answers taken back after tag questions (C10); collection threats and relatives
pressed (C09); certainty of return (C03); brush-offs (S01); codes asked for and third parties on the line (C08);
the need-restated rule's scope (B02); hardship and grief as upset (S02).

Every sentence here is written fresh for the test (no set's wording); each case failed before its fix.
"""

from __future__ import annotations

import pytest

from core.models import Verdict
from tests.tools.rule_cases import rule_verdict as _verdict
from tools.dialect import mandarin_reading
from tools.rules import RuleEngine

# ── S02: a parting shot answered by a goodbye ends the call badly (X02); it is no feeling left unanswered ──


@pytest.mark.parametrize(
    ("parting", "goodbye", "after"),
    [
        ("行了行了，说来说去还是让我等，你们这服务真是太差劲了。", "坐席：感谢您的来电，再见。", ""),
        ("算了算了，跟你们这种银行真是说不清，太气人了！", "坐席：好的，那还有其他问题吗？", "\n客户：没有了。"),
        ("我再也不用你们的卡了，烦死人了！", "坐席：嗯嗯，祝您生活愉快，再见。", ""),
    ],
)
def test_parting_shot_answered_by_goodbye_passes(engine: RuleEngine, parting: str, goodbye: str, after: str) -> None:
    transcript = f"客户：我的退款到现在还没到账。\n坐席：系统显示还在处理中。\n客户：{parting}\n{goodbye}{after}"
    assert _verdict(engine, "SV-DISTRESS-ACKNOWLEDGE", transcript, "service") is Verdict.PASS


def test_goodbye_to_an_upset_customer_who_still_asks_fails(engine: RuleEngine) -> None:
    # No giving up: the customer is still waiting for an answer when the agent says goodbye.
    transcript = "客户：退款拖了一个月还没到，什么破服务，我要投诉！到底什么时候退？\n坐席：感谢您的来电，再见。"
    assert _verdict(engine, "SV-DISTRESS-ACKNOWLEDGE", transcript, "service") is Verdict.FAIL


def test_parting_shot_followed_by_a_new_grievance_fails(engine: RuleEngine) -> None:
    transcript = (
        "客户：算了算了，跟你们说不清，什么破服务！\n坐席：好的，再见。\n"
        "客户：等一下，你们多扣我的那笔年费到底退不退？我要一个说法！\n坐席：那个您去网点问。"
    )
    assert _verdict(engine, "SV-DISTRESS-ACKNOWLEDGE", transcript, "service") is Verdict.FAIL


# ── C01: what an account holds or owes said before any check — in the forms people say it ──


@pytest.mark.parametrize(
    ("scenario", "line"),
    [
        ("service", "坐席：我看一下，您这张白金卡取现额度是一万五，目前可用一万一。"),
        ("collection", "坐席：你那笔装修贷还欠两万四千多，逾期五十多天了。"),
        ("loan", "坐席：查到了，您那笔车贷还剩本金七万二，下个月十号扣款。"),
        ("telemarketing", "坐席：周先生，您这个月账单出来了，是两万三千五百元，可以给您分十二期。"),
        ("service", "坐席：有的，您前天下午汇出了三万美金，收款人是您儿子。"),
        ("collection", "Agent: Your card is 40 days past due and the minimum payment has not been received."),
    ],
)
def test_account_facts_before_any_check_fail(engine: RuleEngine, scenario: str, line: str) -> None:
    transcript = f"坐席：您好，请问是周先生吗？\n客户：是我，我想问问我的账。\n{line}"
    assert _verdict(engine, "ID-VERIFY-BEFORE-DISCLOSE", transcript, scenario) is Verdict.FAIL


@pytest.mark.parametrize(
    "check",
    [
        "坐席：我给您的手机银行推了一条核身消息，您点一下确认。\n客户：点了。\n坐席：好的，系统显示认证通过了。",
        "坐席：我这边发起人脸识别，您按提示在APP里刷一下脸。\n客户：刷好了。\n坐席：好的，验证成功。",
        "客户：我身份证后四位是2718。\n坐席：后四位对上了。",
    ],
)
def test_check_in_the_app_or_confirmed_digits_pass(engine: RuleEngine, check: str) -> None:
    transcript = f"客户：我想问问这个月账单多少。\n{check}\n坐席：您本期账单是四千二百元，还款日是二十号。"
    assert _verdict(engine, "ID-VERIFY-BEFORE-DISCLOSE", transcript, "service") is Verdict.PASS


def test_a_quoted_repayment_is_no_disclosure(engine: RuleEngine) -> None:
    transcript = "客户：贷四十万、二十五年的话，每个月要还多少？\n坐席：按现在的利率算，月供大概两千一百多。"
    assert _verdict(engine, "ID-VERIFY-BEFORE-DISCLOSE", transcript, "loan") is Verdict.NOT_APPLICABLE


def test_holder_spoken_of_in_the_third_person_is_a_third_party_call(engine: RuleEngine) -> None:
    transcript = "坐席：请问刘强在吗？\n客户：他下地干活了。\n坐席：麻烦转告，他的信用卡已经逾期两个月了，让他回电话。"
    assert _verdict(engine, "ID-VERIFY-BEFORE-DISCLOSE", transcript, "collection") is Verdict.NOT_APPLICABLE


# ── order: the check done earlier in the same turn as the disclosure is in order; "一下" is no amount ──


@pytest.mark.parametrize(
    "reply",
    ["坐席：好的，尾号核对无误，您卡上的余额是五千六百元。", "坐席：稍等，核实通过。您本期账单是两千八百元。"],
)
def test_check_and_disclosure_in_one_turn_pass(engine: RuleEngine, reply: str) -> None:
    transcript = f"客户：我身份证后四位是3345，查下余额和账单。\n{reply}"
    assert _verdict(engine, "ID-VERIFY-BEFORE-DISCLOSE", transcript, "service") is Verdict.PASS


def test_disclosure_before_the_check_in_one_turn_still_fails(engine: RuleEngine) -> None:
    transcript = "客户：查下余额。\n坐席：您的余额是五千六百元，麻烦再报一下身份证后四位核实身份。"
    assert _verdict(engine, "ID-VERIFY-BEFORE-DISCLOSE", transcript, "service") is Verdict.FAIL


def test_asking_to_check_before_a_balance_is_no_disclosure(engine: RuleEngine) -> None:
    transcript = "客户：帮我查下余额。\n坐席：查余额要先核实一下身份，请您报一下证件后四位。"
    assert _verdict(engine, "ID-VERIFY-BEFORE-DISCLOSE", transcript, "service") is Verdict.NOT_APPLICABLE


# ── C05: a product treated as, likened to, or said at heart to be a deposit ──


@pytest.mark.parametrize(
    "line",
    [
        "坐席：您就当在我们这存了个两年定期，到期本息一起拿。",
        "坐席：这个您可以理解为一张利率更高的大额存单。",
        "坐席：其实跟您在柜台存个半年定期是一个意思。",
        "坐席：它说白了就是一笔强制储蓄，钱一分不会少。",
        "坐席：这是行里专门给老客户的储蓄计划，每年存三万。",
        "坐席：同定期差唔多，只系息高啲。",
        "坐席：这款跟存银行没啥两样，就是收益高。",
        "坐席：您可以当佢好似一张两年定期存单咁。",
    ],
)
def test_product_likened_to_a_deposit_fails(engine: RuleEngine, line: str) -> None:
    transcript = f"客户：这个产品稳不稳？\n{line}"
    assert _verdict(engine, "WS-NOT-A-DEPOSIT", transcript, "wealth_sales") is Verdict.FAIL


@pytest.mark.parametrize(
    "line",
    [
        "坐席：这款理财跟定期存款不一样，不保本，净值会波动。",
        "坐席：跟存款比，它收益高一点，但理财和存款有本质区别，不受存款保险保障。",
        "坐席：结构性存款跟普通存款一样纳入存款保险，只是浮动收益那部分不保证。",
    ],
)
def test_difference_from_a_deposit_explained_passes(engine: RuleEngine, line: str) -> None:
    transcript = f"客户：这个产品稳不稳？\n{line}"
    assert _verdict(engine, "WS-NOT-A-DEPOSIT", transcript, "wealth_sales") is Verdict.PASS


def test_loss_complaint_answered_with_the_likeness_fails(engine: RuleEngine) -> None:
    transcript = "客户：你们卖给我的理财亏了六千！\n坐席：您买的那款性质上其实跟存款差不多，只是最近净值低了点。"
    assert _verdict(engine, "WS-NOT-A-DEPOSIT", transcript, "complaint") is Verdict.FAIL


# ── C04: money due at a date, and the need bridged with credit or relatives so a locked product sells ──


@pytest.mark.parametrize(
    ("need", "pitch"),
    [
        ("这笔钱下个月就要进货用。", "坐席：那您看看这款半年定开的，收益高不少。"),
        ("孩子的学费俩月后就得交。", "坐席：推荐您这款一年持有期的，很多客户都买。"),
        ("我这钱随时要用。", "坐席：您先买上，真要用的时候找亲戚周转一下嘛。"),
        ("我这钱随时要用。", "坐席：到时候您先刷信用卡顶着，等产品到期再还。"),
    ],
)
def test_locked_or_bridged_sale_after_a_dated_need_fails(engine: RuleEngine, need: str, pitch: str) -> None:
    transcript = f"客户：{need}\n{pitch}"
    assert _verdict(engine, "WS-SUITABILITY-MISMATCH", transcript, "wealth_sales") is Verdict.FAIL


@pytest.mark.parametrize(
    "reply",
    ["坐席：那封闭产品不适合您，建议放随时可以取的活期理财。", "坐席：我得劝您一句，一年封闭的到时候取不出来。"],
)
def test_locked_product_advised_against_passes(engine: RuleEngine, reply: str) -> None:
    transcript = f"客户：这笔钱下个月就要付装修尾款，封闭的也行。\n{reply}"
    assert _verdict(engine, "WS-SUITABILITY-MISMATCH", transcript, "wealth_sales") is Verdict.PASS


# ── C11: money or a loan in the customer's name for a relative, a shared password, a lent card — and the agents'
#    own words of warning ──


@pytest.mark.parametrize(
    ("scenario", "flag"),
    [
        ("wealth_sales", "客户：这二十万一半是我表姐的，放我这一起买行吗？"),
        ("loan", "客户：说实话钱是给我哥们儿用的，用我的名义贷出来，他每月还。"),
        ("callback", "客户：都是我外孙在弄，密码也是他管的。"),
        ("service", "客户：这张卡平时是我小舅子在刷，额度老不够。"),
        ("loan", "客户：款一到账我就转给朋友公司周转几天。"),
    ],
)
def test_someone_elses_money_or_account_waved_through_fails(engine: RuleEngine, scenario: str, flag: str) -> None:
    transcript = f"{flag}\n坐席：好的，没问题，我这边给您办。"
    assert _verdict(engine, "KYC-RED-FLAG-FOLLOW-UP", transcript, scenario) is Verdict.FAIL


@pytest.mark.parametrize(
    "transcript",
    [
        "客户：我分三天存，每天四万九，是不是就不用登记了？\n坐席：不建议您这样拆开存，反而容易被当成可疑交易。",
        "客户：我帮朋友代收一下货款再转给他，会被拦吗？\n坐席：提醒您以后别再用自己的卡替别人收钱，卡可能被冻结。",
    ],
)
def test_warning_in_the_agents_words_passes(engine: RuleEngine, transcript: str) -> None:
    assert _verdict(engine, "KYC-RED-FLAG-FOLLOW-UP", transcript, "service") is Verdict.PASS


# ── C10: a call-back answer taken back — after a tag or A-not-A question, or a yes said as "说了"/"能"/"系" ──


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        ("坐席：这款产品不保本，您清楚吧？", "客户：清楚……不过经理说拿满一年肯定回本。"),
        ("坐席：购买时工作人员有没有告诉您产品不保本？", "客户：说了。哦对了，这笔钱其实有一半是我弟弟的。"),
        ("坐席：您能不能承受本金亏损？", "客户：能吧……其实我一分都亏不起。"),
        ("坐席：认购资金是否您本人嘅？", "客户：系，不过其实有一半系我细佬嘅。"),
    ],
)
def test_answer_taken_back_without_reconfirming_fails(engine: RuleEngine, question: str, answer: str) -> None:
    transcript = f"{question}\n{answer}\n坐席：好的，下一个问题。"
    assert _verdict(engine, "CB-ANSWER-CONSISTENCY", transcript, "callback") is Verdict.FAIL


def test_answer_taken_back_and_reconfirmed_passes(engine: RuleEngine) -> None:
    transcript = (
        "坐席：这款产品不保本，您清楚吧？\n客户：清楚……不过经理说拿满一年肯定回本。\n"
        "坐席：我再确认一下，这款产品满一年也可能亏损，您清楚吗？"
    )
    assert _verdict(engine, "CB-ANSWER-CONSISTENCY", transcript, "callback") is Verdict.PASS


# ── C09: police and blacklists, people sent round, the contact list and the school; relatives told to lean on
#    the debtor ──


@pytest.mark.parametrize(
    "line",
    [
        "坐席：再不还，我们就把材料交到你户籍地派出所。",
        "坐席：下礼拜我们派人去你店里，当着顾客的面找你要。",
        "坐席：你借款时授权了通讯录，我们会一个个打过去。",
        "坐席：明天就把你列进失信名单，全国联网。",
        "坐席：再拖着，我们就联系学校，让你们老师也知道。",
    ],
)
def test_collection_threats_in_new_forms_fail(engine: RuleEngine, line: str) -> None:
    transcript = f"坐席：您的信用卡逾期两个月了。\n客户：我最近真没钱。\n{line}"
    assert _verdict(engine, "CL-NO-THREATS", transcript, "collection") is Verdict.FAIL


def test_relative_told_to_lean_on_the_debtor_fails(engine: RuleEngine) -> None:
    transcript = "坐席：请问王强在吗？\n客户：他不在，我是他妈。\n坐席：您当妈的得管管他，这周一定要把钱凑上。"
    assert _verdict(engine, "CL-THIRD-PARTY-PRESSURE", transcript, "collection") is Verdict.FAIL


def test_relatives_feelings_acknowledged_passes(engine: RuleEngine) -> None:
    transcript = "坐席：请问王强在吗？\n客户：他不在，我是他妈。\n坐席：理解您当妈的心情，我们只找他本人，不麻烦您。"
    assert _verdict(engine, "CL-THIRD-PARTY-PRESSURE", transcript, "collection") is Verdict.PASS


# ── C03: told to count on the benchmark, no customer ever lost, back to the cent, as good as banked, the bank covers ──


@pytest.mark.parametrize(
    "line",
    [
        "坐席：您就按百分之四算，到时候就是这个数。",
        "坐席：您按三个半点算就行了。",
        "坐席：我卖了六年，从来没有客户在这只上面亏过。",
        "坐席：到期本金利息一分不少打到您卡上。",
        "坐席：半年后那个收益基本就到手了。",
        "坐席：一年五六个点跑不了的。",
        "坐席：真有什么情况行里会兜着的。",
    ],
)
def test_certainty_of_return_fails(engine: RuleEngine, line: str) -> None:
    transcript = f"客户：这个产品会不会亏？\n{line}"
    assert _verdict(engine, "WS-EXAGGERATED-RETURN", transcript, "wealth_sales") is Verdict.FAIL


def test_no_one_can_promise_passes(engine: RuleEngine) -> None:
    transcript = "客户：这个产品会不会亏？\n坐席：没有客户能保证不亏，净值会波动，过往业绩不代表未来。"
    assert _verdict(engine, "WS-EXAGGERATED-RETURN", transcript, "wealth_sales") is Verdict.PASS


# ── S01: sent to look it up alone, "no use asking me", "the system is like that", a call-back rushed, hardship waved
#    away ──


@pytest.mark.parametrize(
    "line",
    [
        "坐席：手续费标准APP上都写了，自己看。",
        "坐席：你问我也没用，都是系统扣的。",
        "坐席：系统就这样，我改不了。",
        "坐席：那个不关我事。",
        "坐席：您就答是还是不是，我后面还有好多户要回访。",
    ],
)
def test_brush_off_fails(engine: RuleEngine, line: str) -> None:
    assert _verdict(engine, "SV-PERFUNCTORY", f"客户：这笔钱怎么扣了？\n{line}") is Verdict.FAIL


def test_honest_limit_with_help_passes(engine: RuleEngine) -> None:
    transcript = "客户：能保证下周退回来吗？\n坐席：这个我没办法跟您保证，但我马上帮您提交加急申请。"
    assert _verdict(engine, "SV-PERFUNCTORY", transcript) is Verdict.PASS


def test_hardship_waved_away_is_rude(engine: RuleEngine) -> None:
    transcript = "客户：最近厂里没活，真的困难。\n坐席：别跟我讲这些，谁没困难？"
    assert _verdict(engine, "SV-RUDE-LANGUAGE", transcript, "collection") is Verdict.FAIL


# ── C08: the code or the card's security digits named first and asked for after; the one on the line a roommate or a
#    daughter; 额是 read as 我是 ──


@pytest.mark.parametrize(
    "line",
    ["坐席：系统推给您的那六位数收到后读给我听。", "坐席：麻烦把卡背面那三位安全码报一下。"],
)
def test_code_or_security_digits_asked_for_fails(engine: RuleEngine, line: str) -> None:
    assert _verdict(engine, "PR-NO-PASSWORD-OR-CODE", f"客户：我的卡被锁了。\n{line}", "service") is Verdict.FAIL


@pytest.mark.parametrize("who", ["我是他室友", "额是他闺女"])
def test_debt_told_to_a_roommate_or_daughter_fails(engine: RuleEngine, who: str) -> None:
    transcript = f"坐席：请问李军在吗？\n客户：{who}，他去外地了。\n坐席：那你转告他，他的信用卡逾期三个月，欠了两万。"
    assert _verdict(engine, "PR-THIRD-PARTY-DISCLOSURE", transcript, "collection") is Verdict.FAIL


@pytest.mark.parametrize(
    ("said", "read"),
    [
        ("额是他闺女", "我是他闺女"),
        ("保额是五十万", "保额是五十万"),
        ("营业额是多少", "营业额是多少"),
        ("余额是三千", "余额是三千"),
    ],
)
def test_e_before_shi_is_the_pronoun_unless_an_amount(said: str, read: str) -> None:
    assert mandarin_reading(said) == read


def test_asking_the_customer_to_report_a_leaked_code_passes(engine: RuleEngine) -> None:
    # Unpunctuated, as an ASR transcript: "tell us" about a code already typed into a fake site is no request for it.
    transcript = "客户：我好像点了一个假链接。\n坐席：如果您已经填过验证码需要马上告诉我们帮您冻结卡片"
    assert _verdict(engine, "PR-NO-PASSWORD-OR-CODE", transcript, "service") is Verdict.PASS


# ── B02: a debtor insisting on a hardship in a collection call is pleading, not a need left unserved ──


def test_debtor_insisting_on_hardship_is_no_need_restated(engine: RuleEngine) -> None:
    transcript = "坐席：今天必须还清。\n客户：我都说了家里遭了水灾，真没钱。"
    assert _verdict(engine, "SV-NEED-RESTATED", transcript, "collection") is Verdict.NOT_APPLICABLE


def test_need_restated_in_a_service_call_still_fails(engine: RuleEngine) -> None:
    transcript = "客户：我想改预留手机号。\n坐席：您可以办个分期。\n客户：我都说了，我要改手机号。"
    assert _verdict(engine, "SV-NEED-RESTATED", transcript, "service") is Verdict.FAIL


# ── S02: hardship and grief told to the agent are upset; a hospital stay that may come, or a crashing app, are not ──


@pytest.mark.parametrize(
    "said",
    [
        "我老伴上个月住进ICU，手术把积蓄都花光了，真的没办法了。",
        "我爸上礼拜刚过世，办丧事把钱都用完了。",
        "我现在人在医院走廊，我快崩溃了，一分钱都没有了。",
    ],
)
def test_hardship_met_with_the_due_date_fails(engine: RuleEngine, said: str) -> None:
    transcript = f"客户：{said}\n坐席：本月还款日是十五号，请按时还款。"
    assert _verdict(engine, "SV-DISTRESS-ACKNOWLEDGE", transcript, "loan") is Verdict.FAIL


@pytest.mark.parametrize(
    "said",
    ["我老伴心脏不好，说不定哪天就得住院，这钱得能随时取。", "你们APP又崩溃了，登不上去。"],
)
def test_possible_stay_or_crashing_app_is_no_upset(engine: RuleEngine, said: str) -> None:
    transcript = f"客户：{said}\n坐席：好的，我看一下。"
    assert _verdict(engine, "SV-DISTRESS-ACKNOWLEDGE", transcript, "service") is Verdict.NOT_APPLICABLE
