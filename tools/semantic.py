"""Tier 2: semantic checks by a language model — windowed, fenced, validated, grounded, cached.

Trust model: the transcript is untrusted data. It is fenced and escaped in the prompt; every quote the
model offers as evidence must be found in the cited turn (or a neighbour) or the verdict is downgraded
to needs-review; and when the transcript itself carries instructions aimed at the QA system, a model's
"no violation" is not accepted as a pass. Deterministic failures are never flipped by the model.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from pydantic import BaseModel, Field, ValidationError
from rapidfuzz import fuzz

from core.models import Conversation, Evidence, Finding, LlmUsage, Tier, Verdict
from core.scorecard import Rule, SemanticCheck
from prompts import Prompt

Purpose = Literal["semantic", "second_opinion"]

INJECTION_PATTERNS = [
    r"忽略(以上|之前|前面|上述|所有)",
    r"(给|打)(我|他|她|坐席|这通)?[^，。]{0,4}满分",
    r"(评|判)(为|成|定为)?(合格|合规|不违规)",
    r"不要(判|认定|算)[^，。]{0,4}违规",
    r"你现在是",
    r"系统提示|提示词",
    r"ignore (all |the |any )?(previous|above|prior|earlier) (instructions|rules|prompts?)",
    r"disregard (the |all )?(above|previous|rules|instructions)",
    r"system prompt|you are now|new instructions",
    r"</?\s*transcript\s*>",
    r"no_violation|\"verdict\"",
]
_INJECTION = re.compile("|".join(INJECTION_PATTERNS), re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_JSON_OBJECT = re.compile(r"\{.*\}", re.DOTALL)
ROLE_ZH = {"agent": "坐席", "customer": "客户", "system": "系统"}


class EvidenceQuote(BaseModel):
    turn: int = Field(ge=0)
    quote: str = Field(min_length=1, max_length=400)


class SemanticVerdict(BaseModel):
    """What the model must return; every field is validated."""

    verdict: Literal["violation", "no_violation", "not_applicable"]
    code: str | None = None
    evidence: list[EvidenceQuote] = Field(default_factory=list, max_length=8)
    reason: str = Field(default="", max_length=800)
    confidence: float = Field(ge=0, le=1)


class VerdictCache(Protocol):
    def get_llm_verdict(self, key: str) -> dict[str, Any] | None: ...

    def save_llm_verdict(self, key: str, verdict: dict[str, Any], *, model: str, prompt_version: str) -> None: ...


@dataclass
class MemoryVerdictCache:
    """A per-process cache, for dry runs and tests (the Store is the persistent one)."""

    entries: dict[str, dict[str, Any]] = field(default_factory=dict)

    def get_llm_verdict(self, key: str) -> dict[str, Any] | None:
        return self.entries.get(key)

    def save_llm_verdict(self, key: str, verdict: dict[str, Any], *, model: str, prompt_version: str) -> None:
        self.entries[key] = verdict


def injection_turns(conversation: Conversation) -> list[int]:
    """Turns that carry instructions aimed at the QA system rather than at the other party."""
    return [t.index for t in conversation.turns if _INJECTION.search(t.text)]


def fence(text: str) -> str:
    """A turn's text made safe to place inside <transcript>: no control characters, tags or line breaks."""
    text = _CONTROL.sub("", text).replace("<", "‹").replace(">", "›")
    return re.sub(r"\s*\n\s*", " ", text).strip()


def select_window(conversation: Conversation, anchors: list[int], max_turns: int) -> list[int]:
    """All turns of a short call; around the anchors (±6 turns) in a long one; else its opening and close."""
    n = len(conversation.turns)
    if n <= max_turns:
        return list(range(n))
    if anchors:
        chosen: set[int] = set()
        for a in sorted(anchors):
            chosen.update(range(max(0, a - 6), min(n, a + 7)))
        return sorted(chosen)[:max_turns]
    half = max_turns // 2
    return [*range(half), *range(n - (max_turns - half), n)]


def locate(conversation: Conversation, quote: EvidenceQuote, window: list[int]) -> Evidence | None:
    """The quote as it stands in the cited turn or a neighbour (exact, else fuzzy ≥ 85), or None."""
    wanted = quote.quote.strip().strip("“”\"'‘’「」")
    if len(wanted) < 2:
        return None
    for turn in (quote.turn, quote.turn - 1, quote.turn + 1):
        if turn not in window:
            continue
        utterance = conversation.turns[turn]
        text = utterance.text
        if wanted in text:
            found = wanted
        else:
            alignment = fuzz.partial_ratio_alignment(wanted, text)
            if alignment is None or alignment.score < 85 or len(wanted) < 4:
                continue
            found = text[alignment.dest_start : alignment.dest_end]
        return Evidence(turn=turn, role=utterance.role, quote=found, start=utterance.start, end=utterance.end)
    return None


def parse_verdict(text: str) -> SemanticVerdict:
    """The first JSON object in the model's reply, validated; raises ValueError saying what is wrong."""
    match = _JSON_OBJECT.search(text)
    if match is None:
        raise ValueError("no JSON object in the reply")
    try:
        return SemanticVerdict.model_validate(json.loads(match.group(0)))
    except json.JSONDecodeError as exc:
        raise ValueError(f"invalid JSON: {exc.msg}") from None
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ValueError(f"JSON does not fit the schema: {problems}") from None


@dataclass(frozen=True)
class JudgeRequest:
    rule: Rule
    finding: Finding
    purpose: Purpose


@dataclass
class _Outcome:
    verdict: SemanticVerdict | None
    error: str | None = None
    cached: bool = False
    input_tokens: int = 0
    output_tokens: int = 0
    estimated_tokens: bool = False


class SemanticJudge:
    """Asks a chat model about semantic rules and uncertain findings; one instance per process."""

    def __init__(
        self,
        model: BaseChatModel,
        *,
        prompt: Prompt,
        model_name: str,
        cache: VerdictCache,
        window_turns: int = 40,
        timeout_s: float = 60,
        max_concurrency: int = 4,
    ) -> None:
        self.model = model
        self.prompt = prompt
        self.model_name = model_name
        self.cache = cache
        self.window_turns = window_turns
        self.timeout_s = timeout_s
        self._pool = ThreadPoolExecutor(max_workers=max_concurrency, thread_name_prefix="llm")
        self.max_concurrency = max_concurrency

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def judge(self, conversation: Conversation, requests: list[JudgeRequest]) -> tuple[dict[str, Finding], LlmUsage]:
        """Updated findings by rule id, and what it cost. Failures become not_evaluated with the reason."""
        started = time.perf_counter()
        hostile = injection_turns(conversation)
        jobs: list[tuple[JudgeRequest, list[int], Future[_Outcome] | _Outcome]] = []
        for request in requests:
            window = select_window(conversation, self._anchors(conversation, request), self.window_turns)
            messages, key = self._messages(conversation, request, window)
            cached = self.cache.get_llm_verdict(key)
            if cached is not None:
                jobs.append((request, window, _Outcome(SemanticVerdict.model_validate(cached), cached=True)))
            else:
                jobs.append((request, window, self._pool.submit(self._ask, messages, key)))
        pending = [j for _, _, j in jobs if isinstance(j, Future)]
        rounds = -(-len(pending) // self.max_concurrency) if pending else 0
        wait(pending, timeout=self.timeout_s * max(1, rounds) + 1)
        usage = LlmUsage(model=self.model_name, prompt_version=self.prompt.version)
        results: dict[str, Finding] = {}
        for request, window, job in jobs:
            if isinstance(job, Future):
                outcome = job.result() if job.done() else _Outcome(None, f"no answer within {self.timeout_s:g} s")
                if not job.done():
                    job.cancel()
            else:
                outcome = job
            usage.calls += 0 if outcome.cached else 1
            usage.cached += 1 if outcome.cached else 0
            usage.failed += 1 if outcome.verdict is None else 0
            usage.input_tokens += outcome.input_tokens
            usage.output_tokens += outcome.output_tokens
            usage.estimated_tokens = usage.estimated_tokens or outcome.estimated_tokens
            results[request.rule.id] = self._finding(conversation, request, window, outcome, hostile)
        usage.seconds = round(time.perf_counter() - started, 3)
        return results, usage

    @staticmethod
    def _anchors(conversation: Conversation, request: JudgeRequest) -> list[int]:
        anchors = [e.turn for e in request.finding.evidence]
        check = request.rule.check
        when = getattr(check, "when", None)
        if when is not None:
            from tools.rules.matching import matches  # the same matcher the rule tier uses

            anchors += [h.turn for h in matches(conversation, when)]
        return anchors

    def _messages(
        self, conversation: Conversation, request: JudgeRequest, window: list[int]
    ) -> tuple[list[BaseMessage], str]:
        rule = request.rule
        if isinstance(rule.check, SemanticCheck):
            criterion, rubric = rule.check.criterion, rule.check.rubric
        else:  # second opinion on a deterministic finding: the rule's own wording is the criterion
            criterion = (
                f"{rule.name}。{rule.description}".strip("。") + f"。规则层的初步判断：{request.finding.explanation}"
            )
            rubric = []
        lines = [
            f"[{i}] {ROLE_ZH[conversation.turns[i].role.value]}：{fence(conversation.turns[i].text)}" for i in window
        ]
        scope = "全文" if len(window) == len(conversation.turns) else f"节选 {len(window)}/{len(conversation.turns)} 轮"
        system, user = self.prompt.render(
            rule_name=rule.name,
            code=rule.code,
            criterion=criterion,
            rubric="\n".join(f"- {r}" for r in rubric),
            scope=scope,
            transcript="\n".join(lines),
        )
        key = hashlib.sha256(
            "\x1f".join([self.prompt.version, self.model_name, rule.id, system, user]).encode("utf-8")
        ).hexdigest()
        return [SystemMessage(system), HumanMessage(user)], key

    def _ask(self, messages: list[BaseMessage], key: str) -> _Outcome:
        outcome = _Outcome(None)
        try:
            reply = self.model.invoke(messages)
            self._count(outcome, messages, reply)
            try:
                verdict = parse_verdict(str(reply.content))
            except ValueError as first_error:
                repair = [
                    *messages,
                    AIMessage(str(reply.content)),
                    HumanMessage(f"上一条输出不符合要求（{first_error}）。请只输出一个符合格式的 JSON 对象。"),
                ]
                reply = self.model.invoke(repair)
                self._count(outcome, repair, reply)
                verdict = parse_verdict(str(reply.content))
        except ValueError as exc:
            outcome.error = f"malformed model output after one repair attempt: {exc}"
            return outcome
        except Exception as exc:  # the model service failed: the evaluation completes without this verdict
            outcome.error = f"model call failed: {type(exc).__name__}: {exc}"[:300]
            return outcome
        outcome.verdict = verdict
        self.cache.save_llm_verdict(
            key, verdict.model_dump(), model=self.model_name, prompt_version=self.prompt.version
        )
        return outcome

    @staticmethod
    def _count(outcome: _Outcome, messages: list[BaseMessage], reply: BaseMessage) -> None:
        usage = getattr(reply, "usage_metadata", None)
        if usage:
            outcome.input_tokens += int(usage.get("input_tokens", 0))
            outcome.output_tokens += int(usage.get("output_tokens", 0))
        else:  # no usage reported: estimate (about 1.6 characters per token for Chinese text)
            outcome.estimated_tokens = True
            outcome.input_tokens += round(sum(len(str(m.content)) for m in messages) / 1.6)
            outcome.output_tokens += round(len(str(reply.content)) / 1.6)

    def _finding(
        self,
        conversation: Conversation,
        request: JudgeRequest,
        window: list[int],
        outcome: _Outcome,
        hostile: list[int],
    ) -> Finding:
        rule, base = request.rule, request.finding
        stamp = {"model": self.model_name, "prompt_version": self.prompt.version}
        if outcome.verdict is None:
            if request.purpose == "second_opinion":
                return base.model_copy(update={"explanation": f"{base.explanation}（大模型复核失败：{outcome.error}）"})
            return base.model_copy(
                update={
                    "verdict": Verdict.NOT_EVALUATED,
                    "explanation": f"{rule.name}：大模型未给出结论（{outcome.error}）",
                    **stamp,
                }
            )
        verdict = outcome.verdict
        grounded = [e for q in verdict.evidence if (e := locate(conversation, q, window)) is not None]
        if request.purpose == "second_opinion":
            if verdict.verdict == "violation" and grounded:
                note, update = "同意", {"confidence": max(base.confidence, verdict.confidence)}
            else:
                note, update = f"不同意：{verdict.reason}", {"needs_review": True}
            return base.model_copy(update={"explanation": f"{base.explanation}（大模型复核{note}）", **update, **stamp})
        common = {"tier": Tier.LLM, "confidence": verdict.confidence, **stamp}
        if verdict.verdict == "violation":
            if not grounded:
                return base.model_copy(
                    update={
                        **common,
                        "verdict": Verdict.NOT_EVALUATED,
                        "needs_review": True,
                        "explanation": f"{rule.name}：大模型判定违规，但引用的证据在原文中找不到，需人工复核"
                        f"（{verdict.reason}）",
                    }
                )
            return base.model_copy(
                update={
                    **common,
                    "verdict": Verdict.FAIL,
                    "evidence": grounded,
                    "deduction": rule.deduction,
                    "auto_fail": rule.auto_fail,
                    "explanation": f"{rule.name}：{verdict.reason}",
                }
            )
        if hostile:
            turns = "、".join(map(str, hostile))
            return base.model_copy(
                update={
                    **common,
                    "verdict": Verdict.NOT_EVALUATED,
                    "needs_review": True,
                    "evidence": [
                        Evidence(turn=i, role=conversation.turns[i].role, quote=conversation.turns[i].text[:80])
                        for i in hostile[:3]
                    ],
                    "explanation": f"{rule.name}：第 {turns} 轮含针对质检系统的指令，"
                    "大模型的合规结论不予采信，需人工复核",
                }
            )
        passed = verdict.verdict == "no_violation"
        return base.model_copy(
            update={
                **common,
                "verdict": Verdict.PASS if passed else Verdict.NOT_APPLICABLE,
                "evidence": grounded,
                "explanation": f"{rule.name}：{verdict.reason}",
            }
        )
