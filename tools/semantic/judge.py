"""The LLM tier's judge: one structured request per conversation (per window of a long call) for every candidate rule.

Trust model: the transcript is untrusted data, fenced and escaped in the prompt; evidence can only be line ids
of the window shown (an enum in the answer's JSON schema); a verdict below its rule's probability threshold is
never acted on (`not_evaluated` + needs review); when the transcript addresses the QA system itself, a model's
"no violation" is not accepted; and a rule-tier failure is overturned only by a second opinion above its veto
threshold (none by default).
"""

from __future__ import annotations

import hashlib
import time
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from pydantic import BaseModel, ValidationError

from core.models import Conversation, Finding, LlmUsage
from core.scorecard import Rule, SemanticCheck
from prompts import Prompt
from tools.semantic.answer import (
    Judgement,
    answer_model,
    json_schema,
    line_id,
    logprob_tokens,
    parse_answer,
    verdict_distributions,
)
from tools.semantic.findings import second_opinion_finding, semantic_finding
from tools.semantic.guard import fence, injection_turns
from tools.semantic.thresholds import LlmThresholds, load_thresholds
from tools.semantic.windows import Window, plan_windows

Purpose = Literal["semantic", "second_opinion"]
StructuredOutput = Literal["json_schema", "json_object", "off"]
ROLE_ZH = {"agent": "坐席", "customer": "客户", "system": "系统"}
ROLE_EN = {"agent": "Agent", "customer": "Customer", "system": "System"}


class VerdictCache(Protocol):
    """Where raw answers are kept by request key (the Store persists them; MemoryVerdictCache for dry runs)."""

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


@dataclass(frozen=True)
class JudgeRequest:
    """A rule for the LLM tier: a semantic rule to decide, or a rule-tier failure to give a second opinion on."""

    rule: Rule
    finding: Finding
    purpose: Purpose


@dataclass(frozen=True)
class _Plan:
    window: Window
    messages: list[BaseMessage]
    key: str
    answer: type[BaseModel]
    schema: dict[str, Any]


class Observer(Protocol):
    """Sees every rule's raw judgement (None: no answer) before thresholds apply: for measuring and learning."""

    def __call__(self, conversation: Conversation, request: JudgeRequest, judgement: Judgement | None) -> None: ...


@dataclass
class _Outcome:
    judgements: dict[str, Judgement] | None
    error: str | None = None
    cached: bool = False
    input_tokens: int = 0
    output_tokens: int = 0
    estimated_tokens: bool = False


def _combine(judgements: list[Judgement]) -> Judgement:
    """One verdict for a rule judged in several windows: a violation anywhere wins, a pass needs every window."""
    violations = [j for j in judgements if j.verdict == "violation"]
    if violations:
        return max(violations, key=lambda j: j.verdict_probability)
    passes = [j for j in judgements if j.verdict == "no_violation"]
    if len(passes) == len(judgements):
        return min(passes, key=lambda j: j.verdict_probability)
    return next(j for j in judgements if j.verdict == "cannot_tell")


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
        thresholds: LlmThresholds | None = None,
        structured_output: StructuredOutput = "json_schema",
        logprobs: bool = True,
        top_logprobs: int = 5,
        observer: Observer | None = None,
    ) -> None:
        self.model = model
        self.prompt = prompt
        self.model_name = model_name
        self.cache = cache
        self.window_turns = window_turns
        self.timeout_s = timeout_s
        self.max_concurrency = max_concurrency
        self.thresholds = thresholds if thresholds is not None else load_thresholds()
        self.structured_output = structured_output
        self.logprobs = logprobs
        self.top_logprobs = top_logprobs
        self.observer = observer
        self._pool = ThreadPoolExecutor(max_workers=max_concurrency, thread_name_prefix="llm")

    @property
    def version(self) -> str:
        """What decides this tier's verdicts besides the model: the prompt version and the thresholds' hash."""
        return f"{self.prompt.version}+thr.{self.thresholds.fingerprint}"

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def judge(self, conversation: Conversation, requests: list[JudgeRequest]) -> tuple[dict[str, Finding], LlmUsage]:
        """Updated findings by rule id, and what it cost. Failures become not_evaluated with the reason."""
        started = time.perf_counter()
        by_id = {r.rule.id: r for r in requests}
        anchors = {rule_id: self._anchors(conversation, r) for rule_id, r in by_id.items()}
        plans = [
            self._plan(conversation, w, by_id)
            for w in plan_windows(len(conversation.turns), anchors, self.window_turns)
        ]
        jobs: list[tuple[_Plan, Future[_Outcome] | _Outcome]] = []
        for plan in plans:
            cached = self._cached(plan)
            jobs.append((plan, cached if cached is not None else self._pool.submit(self._ask, plan)))
        pending = [j for _, j in jobs if isinstance(j, Future)]
        rounds = -(-len(pending) // self.max_concurrency) if pending else 0
        wait(pending, timeout=self.timeout_s * max(1, rounds) + 1)
        usage = LlmUsage(model=self.model_name, prompt_version=self.version)
        seen: dict[str, list[Judgement]] = {rule_id: [] for rule_id in by_id}
        errors: dict[str, str] = {}
        for plan, job in jobs:
            if isinstance(job, Future):
                outcome = job.result() if job.done() else _Outcome(None, f"no answer within {self.timeout_s:g} s")
                job.cancel()
            else:
                outcome = job
            usage.calls += 0 if outcome.cached else 1
            usage.cached += 1 if outcome.cached else 0
            usage.failed += 1 if outcome.judgements is None else 0
            usage.input_tokens += outcome.input_tokens
            usage.output_tokens += outcome.output_tokens
            usage.estimated_tokens = usage.estimated_tokens or outcome.estimated_tokens
            for rule_id in plan.window.rule_ids:
                if outcome.judgements is None:
                    errors[rule_id] = outcome.error or "no answer"
                else:
                    seen[rule_id].append(outcome.judgements[rule_id])
        hostile = injection_turns(conversation)
        results: dict[str, Finding] = {}
        for rule_id, request in by_id.items():
            judged = seen[rule_id]
            combined = _combine(judged) if judged else None
            if combined is not None and rule_id in errors and combined.verdict != "violation":
                combined = None  # a window went unanswered: only a violation found elsewhere still stands
            results[rule_id] = self._finding(conversation, request, combined, errors.get(rule_id), hostile)
            if self.observer is not None:
                self.observer(conversation, request, combined)
        usage.seconds = round(time.perf_counter() - started, 3)
        return results, usage

    @staticmethod
    def _anchors(conversation: Conversation, request: JudgeRequest) -> list[int]:
        anchors = [e.turn for e in request.finding.evidence]
        when = getattr(request.rule.check, "when", None)
        if when is not None:
            from tools.rules.matching import matches  # the same matcher the rule tier uses

            anchors += [h.turn for h in matches(conversation, when)]
        return anchors

    def _rule_block(self, request: JudgeRequest) -> str:
        rule = request.rule
        if isinstance(rule.check, SemanticCheck):
            criterion, rubric = rule.check.criterion, rule.check.rubric
        else:  # second opinion on a deterministic finding: the rule's own wording is the criterion
            criterion = self.prompt.render_section(
                "second_opinion",
                rule_name=rule.name,
                description=rule.description or rule.name,
                finding=request.finding.explanation,
            )
            rubric = []
        return self.prompt.render_section(
            "rule",
            rule_id=rule.id,
            rule_name=rule.name,
            code=rule.code,
            criterion=criterion,
            rubric="\n".join(f"- {r}" for r in rubric),
        ).strip()

    def _plan(self, conversation: Conversation, window: Window, by_id: dict[str, JudgeRequest]) -> _Plan:
        rule_ids = list(window.rule_ids)
        roles = ROLE_ZH if self.prompt.language == "zh" else ROLE_EN
        colon = "：" if self.prompt.language == "zh" else ": "
        lines = [
            f"{line_id(i)} {roles[conversation.turns[i].role.value]}{colon}{fence(conversation.turns[i].text)}"
            for i in window.turns
        ]
        n, shown = len(conversation.turns), len(window.turns)
        scope = self.prompt.render_section("scope_full" if shown == n else "scope_part", shown=str(shown), total=str(n))
        system, user = self.prompt.render(
            rules="\n\n".join(self._rule_block(by_id[r]) for r in rule_ids),
            rule_count=str(len(rule_ids)),
            rule_keys=", ".join(rule_ids),
            scope=scope.strip(),
            transcript="\n".join(lines),
        )
        answer = answer_model(rule_ids, [line_id(i) for i in window.turns])
        key = hashlib.sha256(
            "\x1f".join([self.prompt.version, self.model_name, ",".join(rule_ids), system, user]).encode("utf-8")
        ).hexdigest()
        return _Plan(window, [SystemMessage(system), HumanMessage(user)], key, answer, json_schema(answer))

    def _cached(self, plan: _Plan) -> _Outcome | None:
        entry = self.cache.get_llm_verdict(plan.key)
        if not entry:
            return None
        try:
            stored = {r: Judgement.model_validate(entry["judgements"][r]) for r in plan.window.rule_ids}
        except (KeyError, TypeError, ValidationError):
            return None  # an entry in an older format: ask again
        return _Outcome(stored, cached=True)

    def _invoke_options(self, plan: _Plan) -> dict[str, Any]:
        options: dict[str, Any] = {}
        if self.structured_output == "json_schema":
            options["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "qa_verdicts", "schema": plan.schema, "strict": False},
            }
        elif self.structured_output == "json_object":
            options["response_format"] = {"type": "json_object"}
        if self.logprobs:
            options.update(logprobs=True, top_logprobs=self.top_logprobs)
        return options

    def _ask(self, plan: _Plan) -> _Outcome:
        outcome = _Outcome(None)
        options = self._invoke_options(plan)
        rule_ids = list(plan.window.rule_ids)
        try:
            reply = self.model.invoke(plan.messages, **options)
            self._count(outcome, plan.messages, reply)
            try:
                parsed = parse_answer(str(reply.content), plan.answer, rule_ids)
            except ValueError as first_error:
                repair = [
                    *plan.messages,
                    AIMessage(str(reply.content)),
                    HumanMessage(self.prompt.render_section("repair", error=str(first_error)).strip()),
                ]
                reply = self.model.invoke(repair, **options)
                self._count(outcome, repair, reply)
                parsed = parse_answer(str(reply.content), plan.answer, rule_ids)
        except ValueError as exc:
            outcome.error = f"malformed model output after one repair attempt: {exc}"[:400]
            return outcome
        except Exception as exc:  # the model service failed: the evaluation completes without this verdict
            outcome.error = f"model call failed: {type(exc).__name__}: {exc}"[:300]
            return outcome
        distributions = (
            verdict_distributions(str(reply.content), logprob_tokens(reply.response_metadata), rule_ids)
            if self.logprobs
            else {}
        )
        judgements: dict[str, Judgement] = {}
        for rule_id in rule_ids:
            fields = parsed[rule_id]
            turns = list(dict.fromkeys(int(str(line)[1:]) for line in fields["evidence"]))
            distribution = distributions.get(rule_id)
            judgements[rule_id] = Judgement(
                verdict=fields["verdict"],
                confidence=fields["confidence"],
                evidence=turns,
                reason=fields["reason"],
                verdict_probability=distribution[fields["verdict"]] if distribution else fields["confidence"],
                probability_source="logprobs" if distribution else "stated",
            )
        outcome.judgements = judgements
        self.cache.save_llm_verdict(
            plan.key,
            {"judgements": {r: j.model_dump() for r, j in judgements.items()}},
            model=self.model_name,
            prompt_version=self.prompt.version,
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
        judgement: Judgement | None,
        error: str | None,
        hostile: list[int],
    ) -> Finding:
        threshold = self.thresholds.for_rule(request.rule.id)
        stamp: dict[str, Any] = {"model": self.model_name, "prompt_version": self.version}
        decide = second_opinion_finding if request.purpose == "second_opinion" else semantic_finding
        return decide(conversation, request.rule, request.finding, judgement, error, hostile, threshold, stamp)
