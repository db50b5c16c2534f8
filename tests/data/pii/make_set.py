"""Writes pii_set.jsonl: the labelled PII set (invented values; seeded, so re-running gives the same file).

Each line: {"id", "text", "spans": [{"kind", "start", "end", "form"}]}; ``form`` is "written" (digits or an
address as typed: plain, grouped, full-width, +86) or "spoken" (幺三八…, "at/dot"), "name" or "address".
Items without spans are look-alikes that must stay untouched (order/policy numbers, amounts, dates, branches, 工号).
Run: .venv/bin/python tests/data/pii/make_set.py
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

RNG = random.Random(20261123)
OUT = Path(__file__).with_name("pii_set.jsonl")
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
SPOKEN = {
    "0": "零洞零零",
    "1": "幺幺一幺",
    "2": "二二两二",
    **{d: c for d, c in zip("3456789", "三四五六七八九", strict=True)},
}
FULL = str.maketrans("0123456789-+", "０１２３４５６７８９－＋")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英华建国志红玉梅晓东海燕子豪嘉欣雨婷俊文斌慧"
REGIONS = ["110101", "310105", "440106", "510108", "330106", "320102", "420106", "370102", "210102", "610113"]
CITIES = [
    ("上海市", "长宁区", "仙霞路"),
    ("北京市", "朝阳区", "建国路"),
    ("杭州市", "西湖区", "文三路"),
    ("广州市", "天河区", "体育西路"),
    ("成都市", "武侯区", "人民南路"),
    ("南京市", "鼓楼区", "中山北路"),
    ("武汉市", "江汉区", "解放大道"),
    ("深圳市", "南山区", "科苑路"),
    ("苏州市", "姑苏区", "干将西路"),
]
COMPOUNDS = ["阳光花园", "锦绣家园", "翠湖苑", "金桥新村", "和平小区", "滨江公寓"]
BINS = ["622202", "621700", "625966", "622848", "621226", "436742", "524094", "622588", "621483"]


def id_number(bad: bool = False, x: bool = False) -> str:
    while True:
        body = RNG.choice(REGIONS) + f"{RNG.randint(1955, 2003)}{RNG.randint(1, 12):02d}{RNG.randint(1, 28):02d}"
        body += f"{RNG.randint(0, 999):03d}"
        check = "10X98765432"[sum(int(d) * w for d, w in zip(body, WEIGHTS, strict=True)) % 11]
        if x == (check == "X"):
            break
        if not x:
            continue
    if bad:
        check = str((int(check) + 3) % 10) if check != "X" else "5"
    return body + check


def luhn_complete(prefix: str, length: int) -> str:
    body = prefix + "".join(RNG.choice("0123456789") for _ in range(length - len(prefix) - 1))
    for d in "0123456789":
        total = 0
        for i, c in enumerate(reversed(body + d)):
            v = int(c)
            if i % 2 == 1:
                v = v * 2 - 9 if v > 4 else v * 2
            total += v
        if total % 10 == 0:
            return body + d
    raise AssertionError


def card(length: int = 16) -> str:
    return luhn_complete(RNG.choice(BINS), length)


def mobile() -> str:
    return "1" + RNG.choice("3456789") + "".join(RNG.choice("0123456789") for _ in range(9))


def landline() -> tuple[str, str]:
    area = RNG.choice(["010", "021", "020", "0755", "0571", "028", "025", "027", "0512"])
    number = RNG.choice("2345678") + "".join(RNG.choice("0123456789") for _ in range(7 if len(area) == 3 else 6))
    return area, number


def name() -> str:
    return RNG.choice(SURNAMES) + "".join(RNG.choice(GIVEN) for _ in range(RNG.choice([1, 2, 2])))


def spoken(digits: str) -> str:
    return "".join(RNG.choice(SPOKEN[d]) if d in "012" else SPOKEN[d] for d in digits)


def address() -> str:
    city, district, road = RNG.choice(CITIES)
    no = RNG.randint(1, 999)
    tail = RNG.choice(
        [
            f"{RNG.randint(1, 30)}栋{RNG.randint(1, 30)}0{RNG.randint(1, 4)}室",
            f"{RNG.randint(1, 30)}0{RNG.randint(1, 4)}室",
            f"{RNG.choice(COMPOUNDS)}{RNG.randint(1, 20)}号楼"
            f"{RNG.randint(1, 6)}单元{RNG.randint(1, 30)}0{RNG.randint(1, 2)}室",
            "",
        ]
    )
    head = RNG.choice([city + district, district, city, ""])
    return f"{head}{road}{no}号{tail}"


items: list[dict[str, object]] = []


def add(template: str, *values: tuple[str, str, str]) -> None:
    """template with {} slots; values are (text, kind, form); a kind of "" marks a look-alike slot (not PII)."""
    text, spans = "", []
    parts = template.split("{}")
    for part, (value, kind, form) in zip(parts, values, strict=False):
        text += part
        if kind:
            spans.append({"kind": kind, "start": len(text), "end": len(text) + len(value), "form": form})
        text += value
    text += parts[-1]
    items.append({"id": f"P{len(items) + 1:03d}", "text": text, "spans": spans})


def grouped(digits: str, sizes: list[int], sep: str = " ") -> str:
    out, i = [], 0
    for s in sizes:
        out.append(digits[i : i + s])
        i += s
    return sep.join(out)


# ── resident ID numbers ──
for t in [
    "我的身份证号是{}。",
    "身份证号码：{}，麻烦帮我查一下。",
    "证件号{}，您核对下",
    "我身份证{}",
    "客户报的证件号码是{}。",
]:
    for _ in range(2):
        add(t, (id_number(), "身份证号", "written"))
for t in ["好的，身份证号是{}对吧？", "号码是{}，身份证上的"]:
    add(t, (id_number(x=True), "身份证号", "written"))
for sep in [" ", "-", " ", "-"]:
    add("我身份证是{}，您记一下", (grouped(id_number(), [6, 8, 4], sep), "身份证号", "written"))
for _ in range(3):
    add("身份证号{}（可能念错了一位）", (id_number(bad=True), "身份证号", "written"))
for t in ["那个号是{}，您看看", "{}，这个是我的", "您帮我查{}名下的业务", "我报一下：{}"]:
    add(t, (id_number(bad=True), "身份证号", "written"))
add("身份证号是{}", (id_number().translate(FULL), "身份证号", "written"))
for _ in range(3):
    add("我的身份证号码是{}", (spoken(id_number()[:17]) + RNG.choice("0123456789"), "身份证号", "spoken"))

# ── bank cards ──
for t in ["我的卡号是{}。", "卡号{}，尾号您核对一下", "银行卡{}被冻结了", "信用卡号码：{}", "账号是{}，户名是我本人"]:
    for _ in range(2):
        add(t, (card(RNG.choice([16, 19])), "银行卡号", "written"))
for _ in range(4):
    add("卡号是{}", (grouped(c := card(16), [4, 4, 4, 4], RNG.choice([" ", "-"])), "银行卡号", "written"))
for t in ["钱转到{}这张了吗？", "我用{}还的款", "就是尾数不对，{}", "扣款卡{}"]:
    add(t, (card(16), "银行卡号", "written"))
for _ in range(3):
    add("卡号{}（少报了一位）", (card(16)[:-1] + "0", "银行卡号", "written"))
add("卡号{}", (card(16).translate(FULL), "银行卡号", "written"))
for _ in range(3):
    add("我的卡号是{}", (spoken(card(16)), "银行卡号", "spoken"))

# ── mobiles ──
for t in [
    "我手机号是{}。",
    "您打{}就能找到我",
    "联系电话{}",
    "{}，这是我的新号码",
    "预留手机{}已经停用了",
    "短信发到{}了吗",
]:
    for _ in range(2):
        add(t, (mobile(), "手机号", "written"))
for _ in range(3):
    add("手机{}", (grouped(mobile(), [3, 4, 4], RNG.choice([" ", "-"])), "手机号", "written"))
for _ in range(3):
    add("我的手机是{}", (mobile().translate(FULL), "手机号", "written"))
for pre in ["+86 ", "+86-", "86", "+86"]:
    add("号码是{}", (pre + mobile(), "手机号", "written"))
for t in ["手机号是{}", "我的电话是{}", "您记一下，{}，是我手机", "号码{}", "打我手机{}"]:
    for _ in range(2):
        add(t, (spoken(mobile()), "手机号", "spoken"))
for _ in range(3):
    m = mobile()
    add("手机号是{}", (m[:3] + spoken(m[3:]), "手机号", "spoken"))
for _ in range(3):
    m = spoken(mobile())
    add("我手机号码是{}", (m[:3] + "，" + m[3:7] + "，" + m[7:], "手机号", "spoken"))

# ── landlines ──
for t in ["我家座机{}", "单位电话是{}", "您打{}找我", "办公电话{}，工作日都在", "{}是我们公司前台"]:
    for _ in range(2):
        a, n = landline()
        add(t, (f"{a}-{n}", "座机", "written"))
for _ in range(3):
    a, n = landline()
    add("座机号码({})", (f"({a}){n}", "座机", "written"))
for _ in range(2):
    a, n = landline()
    add("固话{}", (f"{a}{n}".translate(FULL), "座机", "written"))
for _ in range(3):
    a, n = landline()
    add("家里电话是{}", (spoken(a + n), "座机", "spoken"))
for _ in range(2):
    a, n = landline()
    add("座机{}", (n, "座机", "written"))

# ── e-mail ──
USERS = ["li.na", "zhangwei88", "wang_fang", "chen.jie2020", "liuyang", "zhao.min", "hxh1990", "sun-lei"]
DOMAINS = ["163.com", "qq.com", "example.com", "126.com", "sina.cn", "company.com.cn"]
for t in ["邮箱是{}", "发到我邮箱{}吧", "{}，这是我的邮箱", "电子邮件：{}"]:
    for _ in range(2):
        add(t, (f"{RNG.choice(USERS)}@{RNG.choice(DOMAINS)}", "邮箱", "written"))
for fmt in [
    "{u} at {d} dot {t}",
    "{u}艾特{d}点{t}",
    "{u}(at){d}(dot){t}",
    "{u} 艾特 {d}.{t}",
    "{u}@{d}点{t}",
    "{u} AT {d} DOT {t}",
]:
    u = RNG.choice(USERS)
    d, _, tld = RNG.choice(DOMAINS).partition(".")
    add(
        "我的邮箱是{}",
        (fmt.format(u=u, d=d, t=tld.replace(".", "点") if "艾特" in fmt or "点" in fmt else tld), "邮箱", "spoken"),
    )

# ── names ──
for t in [
    "我叫{}。",
    "我叫{}，想查一下账单",
    "请问是{}先生吗？",
    "请问是{}女士吗？",
    "您好，我是安和银行的{}，很高兴为您服务",
    "我是{}，上周打过电话的",
    "户名是{}",
    "持卡人{}",
    "您好{}女士，我是客户经理",
    "收件人写{}就行",
]:
    for _ in range(2):
        add(t, (name(), "姓名", "name"))
for _ in range(3):
    n = name()
    add("请问是{}" + n[0] + "先生吗？", (n, "姓名", "name"))

# ── addresses ──
for t in ["我住在{}。", "地址是{}", "寄到{}就行", "我家在{}，离你们网点很近", "新地址：{}", "账单寄到{}吧"]:
    for _ in range(3):
        add(t, (address(), "地址", "address"))

# ── several kinds in one turn ──
for _ in range(6):
    n, m, c = name(), mobile(), card(16)
    add("我叫{}，手机{}，卡号{}。", (n, "姓名", "name"), (m, "手机号", "written"), (c, "银行卡号", "written"))
for _ in range(4):
    add("身份证{}，住{}", (id_number(), "身份证号", "written"), (address(), "地址", "address"))


# ── look-alikes that must stay ──
def digits(n: int, first: str = "123456789") -> str:
    return RNG.choice(first) + "".join(RNG.choice("0123456789") for _ in range(n - 1))


for _ in range(8):
    add("订单号{}，已经发货了", (luhn_complete("2023" + RNG.choice(["11", "10", "09"]), RNG.choice([16, 18])), "", ""))
for _ in range(6):
    add(
        "保单号是{}，您记一下",
        (luhn_complete(RNG.choice(["86", "88", "10", "20", "30"]), RNG.choice([15, 17, 19])), "", ""),
    )
for _ in range(6):
    add("快递单号{}", (digits(RNG.choice([12, 13, 15])), "", ""))
for _ in range(5):
    add("交易流水号{}", (luhn_complete(RNG.choice(["2024", "1000", "7788"]), 19), "", ""))
for _ in range(5):
    add("合同编号{}", (digits(RNG.choice([14, 16, 18]), "2"), "", ""))
for t in ["您这笔转账金额是{}元", "本金{}元，年化3.2%", "一共还了{}块", "额度提到{}元"]:
    for _ in range(2):
        add(t, (f"{RNG.randint(1, 99)},{RNG.randint(100, 999)},{RNG.randint(100, 999)}", "", ""))
for t in ["您本次购买金额是二十万元", "利率是百分之三点八五", "年化收益4.35%，不保本", "手续费是千分之五", "一共{}元"]:
    add(t, (str(RNG.randint(1000000, 9999999)), "", "") if "{}" in t else ("", "", ""))
for t in ["您是{}开的户", "{}到期", "日期是{}", "{}购买的产品"]:
    add(t, (RNG.choice(["2023年11月5日", "20231105", "2023-11-05", "2024/03/12", "3月12号"]), "", ""))
for t in ["您好，安和银行客服中心，工号{}为您服务", "我是回访专员工号{}", "工号{}，很高兴为您服务"]:
    for _ in range(2):
        add(t, (RNG.choice(["A301", "0417", "3306", "A1024", "5108", "8801237"]), "", ""))
for t in [
    "麻烦报一下身份证号码后四位",
    "身份证后四位是{}",
    "后四位{}，核实通过",
    "尾号{}的卡",
    "预留手机后四位{}",
    "验证码是{}",
]:
    add(t, (digits(4, "0123456789"), "", "") if "{}" in t else ("", "", ""))
for t in ["您可以到我行{}办理", "就在{}柜台办的", "{}周末也营业"]:
    for _ in range(2):
        add(
            t,
            (RNG.choice(["和平路支行", "南京西路支行", "长宁支行", "上海分行", "青羊支行", "中山北路营业部"]), "", ""),
        )
for t in ["推荐您看看{}", "{}这款产品风险等级R3", "您买的是{}"]:
    add(t, (RNG.choice(["弘泰新能源混合A", "粤海成长精选混合A", "北辰稳享债券型基金", "安和添利90天"]), "", ""))
for t in ["请拨打客服热线{}", "{}是我们的官方电话", "全国统一客服电话{}"]:
    add(t, (RNG.choice(["95588", "400-820-8888", "4008208888", "95555", "800-830-8003"]), "", ""))
for t in [
    "好的王先生",
    "李女士您好",
    "我是理财经理小陈",
    "欧阳女士，您还有别的问题吗",
    "好的，刘先生，再见",
    "我姓贾",
    "张总您好",
    "我在上海工作",
    "我在杭州西湖区这边",
    "您是北京的客户吧",
    "您说的是招商银行吗",
    "安和银行信用卡中心",
    "股票代码600519",
    "基金代码110022",
    "第3期还款",
    "共12期",
    "14:30之前到账",
    "房间号1203",
    "预计3到5个工作日到账",
    "我今年45岁",
    "我儿子在英国读研究生",
    "转了5000英镑",
    "一二三四五六七八九十这几个数",
    "我要投诉你们",
    "幺幺零是报警电话",
    "收益率3.65%",
    "一万二千三百元",
    "三百五十万",
    "0.35%的手续费",
    "编号A20231105001",
    "会员号VIP8837261",
]:
    add(t.replace("{}", ""))

# ── hand-written turns in free call-centre phrasing (not generated from the detector's cue lists) ──
# {kind/form:value} marks PII; the form defaults to written for numbers and e-mail, name/address otherwise.
HANDWRITTEN = [
    "喂，你好，我是{姓名/name:吴海涛}，昨天那个卡被吞了",
    "嗯对，持卡人就是我，{姓名/name:黄建军}，黄色的黄",
    "我那个电话号码啊，{手机号/spoken:幺八六，零二七四，四八六二}",
    "你记一下啊，{手机号/spoken:一三九幺零二七四四八六}，对，就这个",
    "身份证我念一下，{身份证号/spoken:四四零幺零六幺九九二零三幺五四四幺七}",
    "我现在住{地址/address:朝阳区望京街道阜通东大街6号院3号楼2单元1102}",
    "信用卡账单寄到{地址/address:南京市玄武区珠江路88号新世界中心1208室}",
    "快递放{地址/address:天河区体育西路191号中石化大厦B塔2708}前台就行",
    "我原来登记的是{手机号:13601234567}，现在换成{手机号:18912345678}了",
    "那张卡是{银行卡号:6217 0012 3456 7890 123}，建行的",
    "我的邮箱，{邮箱/spoken:wangxiaoming 艾特 163 点 com}",
    "发邮件到{邮箱:service-feedback@anhe-bank.com.cn}也可以",
    "工作单位电话{座机:0571-87654321转806}",  # the extension is part of the number
    "这是我老婆，{姓名/name:李秀英}，她的手机是{手机号:13712345678}",
    "客户姓名{姓名/name:欧阳建明}，证件号码{身份证号:44010619880512301X}",
    "请问您是{姓名/name:陈桂英}陈阿姨吗？",
    "麻烦核对一下，您的身份证号码后四位是0326，对吧",
    "您尾号7720的储蓄卡昨天有一笔2,000元的支出",
    "您的投诉单号是TS20231105008812，我们三个工作日内回复",
    "这个理财产品代码是AH2023R2，起购金额一万元",
    "贷款合同号20230918000123456，月供4,532.18元",
    "我们网点在建国路88号，您到了之后取号",
    "您可以去南京西路支行，地址在南京西路1038号",
    "请问是哪一位？我这边是北辰银行信用卡中心",
    "我是他同事，他今天出差了",
    "您的工单号是202311050001，请保存好",
    "保单号码8602 1234 5678 9012 3，受益人是您本人",
    "本次还款金额三千二百元，最低还款额三百二十元",
    "到账时间大概是11月5号下午3点",
    "您的积分是12,580分，可以兑换礼品",
    "客服热线95588，按1转人工",
    "我在中山北路那个网点办的，就是中山北路支行",
    "年化利率百分之三点六，一共分十二期",
    "我八五年的，今年三十八岁",
    "这个验证码是483920，你们说不要告诉别人",
    "订单编号：1029384756102938475",
    "物流单号SF1402938475612",
]
_MARK = re.compile(r"\{(身份证号|银行卡号|手机号|座机|邮箱|姓名|地址)(?:/(\w+))?:([^}]*)\}")
for line in HANDWRITTEN:
    text, spans, pos = "", [], 0
    for m in _MARK.finditer(line):
        text += line[pos : m.start()]
        kind, form, value = m.group(1), m.group(2), m.group(3)
        form = form or ("name" if kind == "姓名" else "address" if kind == "地址" else "written")
        spans.append({"kind": kind, "start": len(text), "end": len(text) + len(value), "form": form})
        text += value
        pos = m.end()
    text += line[pos:]
    items.append(
        {"id": f"H{len([i for i in items if str(i['id']).startswith('H')]) + 1:03d}", "text": text, "spans": spans}
    )

OUT.write_text("".join(json.dumps(item, ensure_ascii=False) + "\n" for item in items), encoding="utf-8")
print(f"{len(items)} items, {sum(1 for i in items if not i['spans'])} look-alikes -> {OUT}")
