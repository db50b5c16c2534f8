"""The transcript is untrusted data: fence it in the prompt, and find turns that address the QA system itself.

The guard looks for speech aimed at the model or the QA process — overriding its instructions, telling it what
it is, or dictating its output — not for words that merely occur in banking calls ("系统提示余额不足",
"评为合格投资者", "您可以忽略这条短信", "按照系统要求"). A verdict word alone ("合格", "合规") never fires: it
must come with an override, an address to the model, or an output directive.
"""

from __future__ import annotations

import re

from core.models import Conversation

# Overriding the judge's instructions: a verb of dismissal followed by a noun for instructions.
_OVERRIDE = (
    r"(忽略|无视|不要理会|不用理会)(掉)?(以上|上面|之前|前面|上述|前述|先前|刚才|你的|所有|全部)(的)?(所有|全部|一切)?(的)?"
    r"(指令|指示|规则|命令|提示词|设定|prompt)"
    r"|(忽略|无视|不要理会|不用理会)(掉)?(指令|提示词|prompt)"
    r"|(ignore|disregard|forget|override|bypass)\s+(all\s+(of\s+)?)?(the\s+|your\s+|my\s+)?"
    r"(previous|above|prior|earlier|preceding|system|original|all)\s+(instructions?|rules|prompts?|guidelines)"
    r"|(ignore|disregard)\s+(all|any)\s+(instructions?|rules|prompts?)"
)
# Telling the reader what it is: the QA model, a grader, an AI assistant.
_ADDRESS = (
    r"你(现在)?(是|作为|扮演|充当)(一个|一名|一位)?[^，。,.！!？?]{0,6}(模型|AI|人工智能|助手|机器人|质检员|评审员|审核员)"
    r"|(质检|评分|打分|审核|评审)(模型|AI|大模型|助手|机器人)"
    r"|(作为|身为)(一个|一名)?(AI|人工智能|语言模型|大模型)"
    r"|you\s+are\s+(now\s+)?(a|an|the)\s+[\w\s-]{0,20}(model|assistant|grader|evaluator|judge|auditor|AI)\b"
    r"|\b(as\s+an?\s+(AI|language\s+model))\b|\bnew\s+instructions\b|\bsystem\s+prompt\b"
)
# Dictating the output: an output verb with a verdict (合格/pass/no_violation/满分 …).
_DIRECTIVE = (
    r"输出(为|成)?[\s:：“\"'「]*(合格|合规|不违规|无违规|通过|满分|pass|no_violation|compliant)"
    r"|\b(output|return|respond\s+with|answer)\s+[\"'“]?(pass|no_violation|compliant|not\s+a\s+violation|full\s+marks)\b"
)
# Text shaped like the judge's own protocol: only a machine or an attacker writes these in a call.
_PROTOCOL = r"no_violation|\"verdict\"|</?\s*transcript\s*>|<\|im_(start|end)\|>|\[/?INST\]"
# A verdict or a score for the agent, only suspicious together with an override or an address.
_VERDICT_WORDS = r"(判定?|判为|评为|打|给)[^，。,.]{0,6}(合格|合规|不违规|满分|通过)|\bpass\b|full\s+marks"

_STRONG = re.compile("|".join([_OVERRIDE, _DIRECTIVE, _PROTOCOL]), re.IGNORECASE)
_ADDRESS_RE = re.compile(_ADDRESS, re.IGNORECASE)
_VERDICT_RE = re.compile(_VERDICT_WORDS, re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def addresses_the_judge(text: str) -> bool:
    """True when a turn's text carries instructions aimed at the QA system rather than at the other party."""
    if _STRONG.search(text):
        return True
    # "你是质检模型" alone is odd but harmless; with a verdict it is an attempt to steer the judge.
    return bool(_ADDRESS_RE.search(text) and _VERDICT_RE.search(text))


def injection_turns(conversation: Conversation) -> list[int]:
    """Turns that carry instructions aimed at the QA system rather than at the other party."""
    return [t.index for t in conversation.turns if addresses_the_judge(t.text)]


def fence(text: str) -> str:
    """A turn's text made safe to place inside <transcript>: no control characters, tags or line breaks."""
    text = _CONTROL.sub("", text).replace("<", "‹").replace(">", "›")
    return re.sub(r"\s*\n\s*", " ", text).strip()
