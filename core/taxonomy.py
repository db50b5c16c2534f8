"""The category taxonomy every finding carries: a stable public contract (see README)."""

from __future__ import annotations

from dataclasses import dataclass

from core.models import Dimension


@dataclass(frozen=True, slots=True)
class Category:
    code: str
    name_zh: str
    name_en: str
    dimension: Dimension


_C, _S, _B, _X = Dimension.COMPLIANCE, Dimension.ATTITUDE, Dimension.COMPETENCE, Dimension.EXPERIENCE

CATEGORIES: dict[str, Category] = {
    c.code: c
    for c in (
        Category("C01", "身份未核实", "identity not verified", _C),
        Category("C02", "风险揭示缺失", "risk disclosure missing", _C),
        Category(
            "C03",
            "承诺保本保收益/夸大收益",
            "guaranteed principal or return promised, exaggerated returns",
            _C,
        ),
        Category("C04", "适当性不符", "suitability: product against stated risk tolerance or needs", _C),
        Category("C05", "误导性比较", "misleading comparison (e.g. wealth product as a deposit)", _C),
        Category("C06", "未告知犹豫期", "cooling-off period not told", _C),
        Category("C07", "费用利率还款条款缺失或错误", "fees, rates or repayment terms missing or wrong", _C),
        Category("C08", "隐私泄露", "privacy breach", _C),
        Category("C09", "催收违规", "collection misconduct", _C),
        Category("C10", "回访答复矛盾未复核", "customer's inconsistent answers in a call-back not reconfirmed", _C),
        Category("C11", "反洗钱/KYC风险信号被忽视", "AML/KYC red flag ignored", _C),
        Category("C12", "超权限承诺", "commitment beyond authority", _C),
        Category("S01", "态度生硬/不耐烦/敷衍", "rude, impatient or perfunctory", _S),
        Category("S02", "未安抚情绪激动的客户", "upset customer not acknowledged", _S),
        Category("S03", "问候语/结束语缺失", "greeting or closing missing", _S),
        Category("S04", "抢话打断", "interrupting", _S),
        Category("S05", "长时间静默/未告知等待", "long silence or hold unannounced", _S),
        Category("B01", "业务信息错误", "wrong information", _B),
        Category("B02", "忽视客户需求照本宣科", "stated need ignored, script recited", _B),
        Category("B03", "问题未解决且无后续方案", "issue left unresolved without next step", _B),
        Category("X01", "投诉升级风险", "complaint-escalation risk (regulator, media, supervisor)", _X),
        Category("X02", "客户结束时不满", "customer ends dissatisfied", _X),
    )
}


def category(code: str) -> Category:
    """Look a code up; raises KeyError with the valid codes when it is unknown."""
    try:
        return CATEGORIES[code]
    except KeyError:
        raise KeyError(f"unknown category code {code!r}; valid: {', '.join(CATEGORIES)}") from None
