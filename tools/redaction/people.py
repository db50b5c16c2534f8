"""Person names and home addresses, found by the LAC tagger in windows around a cue.

NER costs about 30 µs a character, so only the few characters around a cue (我叫/我是/请问是/…女士/地址/住在/
路…号…) are tagged. A surname with a title (王先生, 小陈, 欧阳女士) identifies nobody and is how agents address
customers, so it stays; a full name is replaced and its title kept ("请问是[姓名#1]女士吗"). A place is an address
only down to the street and house number (…路…号…室) or a residential compound; cities, districts and bank
branches (和平路支行) stay.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from tools.ner import EntityTagger, Word
from tools.redaction.kinds import PiiKind, PiiSpan

_HAN = r"\u4e00-\u9fff"
_NAME_CUE = (
    r"我叫|我是(?!说|想|个|真|给|我|实话|他|她|工号|客户|本人|来|要|在|不|这|那|问|觉得|的|因为|做|从|刚|去|有|被)"
    r"|叫我|我姓|名字|姓名|户名|持卡人|联系人|收件人|收货人|请问是(?!哪|什么|您|你|尾号|多少|几|不是|否|本人)|称呼|找一下"
    r"|您是(?!否|不是|我们|想|说|要|在|哪|什么|代发|私行|金卡|晚|他|她|.{0,2}客户)"
    r"|老婆|老公|爱人|妻子|丈夫|儿子|女儿|母亲|父亲|我妈|我爸|家属|担保人|紧急联系人"
)
_TITLE_CUE = r"先生|女士|小姐|阿姨|叔叔|老师|师傅"
_ADDRESS_CUE = r"地址|住在|住址|家在|寄到|寄给|送到|邮寄|搬到|[路街巷弄道]\d|\d号|小区|\d室|栋|幢|单元|新村|公寓"
_CUE = re.compile(rf"(?P<name>{_NAME_CUE})|(?P<title>{_TITLE_CUE})|(?P<address>{_ADDRESS_CUE})")
_SENTENCE = re.compile(r"[^。！？!?；;\n]+")
_COMMA = re.compile(r"[，,、]")
# NER cost grows with the characters tagged (~30 µs each): tag a window around each cue, not the whole turn.
_WINDOWS = {  # characters tagged before and after a cue
    "name": (2, 16),  # 我是安和银行信用卡中心的林悦
    "title": (6, 1),  # 请问是赵秀兰女士
    "address": (8, 30),
}
_PARTICLES = frozenset("的好谢见是位您思哦啊嗯喂吧呢呀就和跟请问对")

_TITLES = "先生|女士|小姐|老师|师傅|阿姨|叔叔|伯伯|大爷|奶奶|爷爷|老板|经理|总|姐|哥|叔|伯|婆|公|姨"
_HONORIFIC = re.compile(rf"(?:{_TITLES})$")
_COMPOUND_SURNAMES = "欧阳|司马|诸葛|上官|东方|慕容|尉迟|公孙|令狐|皇甫|夏侯|长孙|宇文|司徒|端木|南宫|西门|独孤"
# A surname with a title, a nickname or a compound surname alone identifies nobody; agents address customers so.
_SHORT_FORM = re.compile(rf"^(?:[小老阿][{_HAN}]|[{_HAN}](?:{_TITLES})|(?:{_COMPOUND_SURNAMES})(?:{_TITLES})?)$")
_NOT_A_NAME = re.compile(r"[\dA-Za-z]|银行|客服|中心|经理|专员|支行|分行|[他她它佢你您我咱]")
# Brands and institutions the tagger takes for a person (粤海银行, 弘泰新能源): what follows gives them away.
_INSTITUTION_AFTER_NAME = re.compile(
    r"^(?:银行|证券|保险|财富|基金|集团|公司|中心|资管|理财|信托|期货|新能源|成长|稳健|稳享|科技|控股|人寿|财险)"
)

_ADDRESS_TAIL = re.compile(
    rf"^(?:[\dA-Za-z\-]+|[\dA-Za-z{_HAN}]*?(?:号楼|号院|号|栋|幢|单元|室|楼|层|座|弄|巷|期|组|户|小区|花园|大厦|公寓|新村|家园|苑|城|广场|村))$"
)
_HOUSE_LEVEL = re.compile(r"\d+号|[号栋幢室]|单元|弄\d|小区|新村|公寓|花园|家园|苑|大厦|村")
_STREET_LEVEL = re.compile(r"路|街|大道|道|巷|弄|胡同")
_ADDRESS_CONTEXT = re.compile(r"地址|住在|住址|家在|寄到|寄给|送到|邮寄|搬到|住")
# An address in a turn about a branch (网点在建国路88号) is the bank's, not a person's, unless the turn also says
# whose home or delivery address it is.
_INSTITUTION_CONTEXT = re.compile(r"网点|支行|分行|营业厅|营业部|门店|我行|我们行|柜台|办事处|总部|大堂")
_PERSONAL_ADDRESS = re.compile(r"我家|我住|住在|住址|家在|家里|老家|寄到|寄给|送到|搬到|收件|快递|账单寄|我的地址|现住")
_BUILDING_TAIL = re.compile(
    rf"(?:[{_HAN}]{{0,6}}?(?:中心|大厦|广场|花园|小区|公寓|大楼|苑|城|院|新村|家园))?"
    r"(?:[A-Za-z]?[座塔栋幢]?\d+(?:号楼|号院|号|栋|幢|单元|室|楼|层|座|塔)?){0,4}"
)
_INSTITUTION_AFTER = re.compile(r"^(?:支行|分行|网点|营业厅|营业部|银行|店|分理处|储蓄所|派出所|医院|学校|办事处)")

# A street and house number in any form the tagger may split oddly: 仙霞路318号5栋1202室.
_HOUSE_NUMBER = re.compile(
    rf"[{_HAN}]{{1,8}}?(?:路|街|大道|巷|弄)\d+号(?:院|楼)?(?:\d+(?:号楼|栋|幢))?(?:\d+单元)?(?:\d+(?:室|楼|层))?"
)
_LEADING_CUE = re.compile(r"^.*?(?:住在|地址是|地址|寄到|送到|家在|搬到|我在|在|是|到)")

# Common surnames, for "我叫…" when the tagger misses a name.
_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆"
    "汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜"
    "倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕"
    "屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫"
    "寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝"
)
_SELF_NAME = re.compile(rf"(?:我叫|我的名字(?:是|叫)|名字叫)[:：]?([{_SURNAMES}][{_HAN}]{{1,2}})")


def _surname_only(text: str, clause_start: int, title_start: int) -> bool:
    """'贾女士' at the start of a clause or after a particle (好的王先生): a surname and a title, nothing to tag."""
    return title_start - clause_start <= 1 or text[title_start - 2] in _PARTICLES


def _cued_windows(text: str) -> list[tuple[int, str]]:
    """(offset, window) around each cue, overlapping windows merged.

    A window stays inside its clause, except after a name cue, where the name often follows in the next clause
    ("持卡人就是我，黄建军"): there it stays inside the sentence.
    """
    found: list[tuple[int, str]] = []
    for sentence in _SENTENCE.finditer(text):
        lo_sentence, hi_sentence = sentence.span()
        windows: list[tuple[int, int]] = []
        for cue in _CUE.finditer(text, lo_sentence, hi_sentence):
            lo_clause = max([lo_sentence, *(m.end() for m in _COMMA.finditer(text, lo_sentence, cue.start()))])
            comma = _COMMA.search(text, cue.end(), hi_sentence)
            hi_clause = comma.start() if comma else hi_sentence
            if cue.lastgroup == "title" and _surname_only(text, lo_clause, cue.start()):
                continue
            before, after = _WINDOWS[str(cue.lastgroup)]
            hi_limit = hi_sentence if cue.lastgroup == "name" else hi_clause
            lo, hi = max(lo_clause, cue.start() - before), min(hi_limit, cue.end() + after)
            if windows and lo <= windows[-1][1]:
                windows[-1] = (windows[-1][0], max(hi, windows[-1][1]))
            else:
                windows.append((lo, hi))
        found.extend((lo, text[lo:hi]) for lo, hi in windows if hi - lo > 2)
    return found


def _name_span(word: Word, text: str) -> PiiSpan | None:
    """The name in a PER word at ``word.start`` of ``text``, without a trailing title or repeated surname."""
    name = word.text
    if _SHORT_FORM.match(name) or _NOT_A_NAME.search(name) or _INSTITUTION_AFTER_NAME.match(text[word.end :]):
        return None
    if honorific := _HONORIFIC.search(name):
        name = name[: honorific.start()]
    if len(name) >= 3 and name[-1] == name[0]:  # "梁嘉文梁先生": the full name, then the surname with a title
        name = name[:-1]
    if len(name) < 2 or _SHORT_FORM.match(name):
        return None
    return PiiSpan(PiiKind.NAME, word.start, word.start + len(name), name)


def _address_spans(words: Sequence[Word], text: str) -> list[PiiSpan]:
    """Runs of place words (plus house numbers) that reach street or house level; offsets are into ``text``."""
    spans: list[PiiSpan] = []
    i = 0
    while i < len(words):
        if words[i].tag != "LOC":
            i += 1
            continue
        j = i + 1
        while j < len(words) and (words[j].tag == "LOC" or _ADDRESS_TAIL.match(words[j].text)):
            j += 1
        start, end = words[i].start, words[j - 1].end
        place = text[start:end]
        house = _HOUSE_LEVEL.search(place)
        street = _STREET_LEVEL.search(place) and _ADDRESS_CONTEXT.search(text)
        if (house or street) and not _INSTITUTION_AFTER.match(text[end:]):
            spans.append(PiiSpan(PiiKind.ADDRESS, start, end, place))
        i = j
    return spans


def _pattern_spans(text: str) -> list[PiiSpan]:
    """Street-and-number addresses and self-introductions the tagger may have missed."""
    spans = []
    for m in _HOUSE_NUMBER.finditer(text):
        lead = _LEADING_CUE.match(m.group(0))
        start = m.start() + (lead.end() if lead and lead.end() < len(m.group(0)) - 4 else 0)
        if not _INSTITUTION_AFTER.match(text[m.end() :]):
            spans.append(PiiSpan(PiiKind.ADDRESS, start, m.end(), text[start : m.end()]))
    for m in _SELF_NAME.finditer(text):
        spans.append(PiiSpan(PiiKind.NAME, m.start(1), m.end(1), m.group(1)))
    return spans


def _extended(span: PiiSpan, text: str) -> PiiSpan:
    """An address carried on over the building, block and room that follow it (…88号新世界中心1208室)."""
    if not re.search(r"\d+号|号院|号楼", span.value):
        return span
    tail = _BUILDING_TAIL.match(text, span.end)
    if tail is None or tail.end() == span.end or not re.search(r"\d", tail.group(0)):
        return span
    return PiiSpan(span.kind, span.start, tail.end(), text[span.start : tail.end()])


def find_people(texts: Sequence[str], tagger: EntityTagger) -> list[list[PiiSpan]]:
    """Names and addresses in each text (one conversation's turns); the tagger sees only the cued windows."""
    found: list[list[PiiSpan]] = []
    for text in texts:
        spans = _pattern_spans(text)
        for start, window in _cued_windows(text):
            # Each window is tagged alone: joined windows or padded batches change what the model sees.
            words = [Word(w.text, w.tag, w.start + start, w.end + start) for w in tagger.words(window)]
            spans.extend(s for w in words if w.tag == "PER" and (s := _name_span(w, text)) is not None)
            spans.extend(_address_spans(words, text))
        if _INSTITUTION_CONTEXT.search(text) and not _PERSONAL_ADDRESS.search(text):
            spans = [s for s in spans if s.kind is not PiiKind.ADDRESS]
        found.append([_extended(s, text) if s.kind is PiiKind.ADDRESS else s for s in spans])
    return found
