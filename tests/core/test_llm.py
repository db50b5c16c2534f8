from __future__ import annotations

import json
import math
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from core.llm import (
    LlamaCppChatModel,
    LlmUnavailable,
    assemble_packaged_model,
    build_chat_model,
    llama_response_format,
)
from core.models import Verdict
from core.scorecard import Scorecard
from core.settings import Settings
from graphs.wiring import build_judge
from tests.conftest import transcript
from tools.rules import RuleEngine
from tools.semantic import JudgeRequest


def test_none_is_an_explicit_choice_and_bad_configs_say_what_is_missing(tmp_path: Path) -> None:
    assert build_chat_model(Settings(data_dir=tmp_path)) is None
    with pytest.raises(LlmUnavailable, match="ZHIJIAN_LLM_BASE_URL"):
        build_chat_model(Settings(data_dir=tmp_path, llm_provider="openai"))
    with pytest.raises(LlmUnavailable, match="not found"):
        build_chat_model(Settings(data_dir=tmp_path, llm_provider="local", llm_local_model=tmp_path / "no.gguf"))


def test_packaged_model_needs_its_parts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("core.llm.importlib.util.find_spec", lambda name: None)
    with pytest.raises(LlmUnavailable, match="make llm-local"):
        assemble_packaged_model(tmp_path)


VERDICT_REPLY = json.dumps(
    {
        "WS-IMPLIED-GUARANTEE": {
            "evidence": ["L2"],
            "reason": "以历史走势暗示不会亏损",
            "verdict": "violation",
            "confidence": 0.6,
        }
    },
    ensure_ascii=False,
)


def _logprobs(content: str) -> dict[str, Any]:
    """OpenAI-style token log-probabilities: the verdict's first token is 'vi' at P 0.95 ('no' at 0.05)."""
    at = content.index('"verdict": "') + len('"verdict": "')
    top = [{"token": "vi", "logprob": math.log(0.95), "bytes": None}, {"token": "no", "logprob": math.log(0.05)}]
    return {
        "content": [
            {"token": content[:at], "logprob": 0.0, "bytes": None, "top_logprobs": []},
            {"token": "vi", "logprob": math.log(0.95), "bytes": None, "top_logprobs": top},
            {"token": content[at + 2 :], "logprob": 0.0, "bytes": None, "top_logprobs": []},
        ],
        "refusal": None,
    }


class _OpenAICompatible(BaseHTTPRequestHandler):
    requests: list[dict[str, Any]] = []  # noqa: RUF012  (shared on purpose: the test reads what was sent)

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
        answer = {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 0,
            "model": body["model"],
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "stop",
                    "message": {"role": "assistant", "content": VERDICT_REPLY},
                    "logprobs": _logprobs(VERDICT_REPLY) if body.get("logprobs") else None,
                }
            ],
            "usage": {"prompt_tokens": 321, "completion_tokens": 45, "total_tokens": 366},
        }
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        return


@pytest.fixture
def endpoint() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _OpenAICompatible)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/v1"
    server.shutdown()
    server.server_close()


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_openai_compatible_endpoint_end_to_end(
    endpoint: str, tmp_path: Path, scorecard: Scorecard, engine: RuleEngine
) -> None:
    settings = Settings(
        data_dir=tmp_path,
        llm_provider="openai",
        llm_base_url=endpoint,
        llm_model="qwen2.5-72b-instruct",
        llm_api_key="bank-secret",
        llm_max_retries=0,
    )
    judge = build_judge(settings, cache=None)
    assert judge is not None and judge.model_name == "qwen2.5-72b-instruct"
    conversation = transcript("坐席：您好。\n客户：会亏吗？\n坐席：这款理财一天都没跌过。", scenario="wealth_sales")
    rule = scorecard.rule("WS-IMPLIED-GUARANTEE")
    request = JudgeRequest(rule=rule, finding=engine.evaluate_rule(rule, conversation), purpose="semantic")
    findings, usage = judge.judge(conversation, [request])
    judge.close()
    # The model said 0.6 (below the 0.8 default); its tokens said 0.95: the tokens decide.
    finding = findings[rule.id]
    assert finding.verdict is Verdict.FAIL and finding.probability == pytest.approx(0.95)
    assert finding.evidence[0].quote == "这款理财一天都没跌过。"
    assert (usage.input_tokens, usage.output_tokens, usage.estimated_tokens) == (321, 45, False)
    [sent] = _OpenAICompatible.requests
    assert sent["path"] == "/v1/chat/completions" and sent["auth"] == "Bearer bank-secret"
    body = sent["body"]
    assert body["model"] == "qwen2.5-72b-instruct" and body["temperature"] == 0
    assert body["logprobs"] is True and body["top_logprobs"] == 5
    assert body["response_format"]["type"] == "json_schema"
    schema = body["response_format"]["json_schema"]["schema"]
    assert schema["required"] == ["WS-IMPLIED-GUARANTEE"]
    assert next(iter(schema["$defs"].values()))["properties"]["evidence"]["items"]["enum"] == ["L0", "L1", "L2"]
    assert body["messages"][0]["role"] == "system" and "<transcript>" in body["messages"][1]["content"]


class _FakeLlama:
    """Stands in for llama_cpp.Llama (not installed here): records what our chat model asks of it."""

    made: list[dict[str, Any]] = []  # noqa: RUF012
    calls: list[dict[str, Any]] = []  # noqa: RUF012

    def __init__(self, **kwargs: Any) -> None:
        type(self).made.append(kwargs)

    def create_chat_completion(self, **kwargs: Any) -> dict[str, Any]:
        type(self).calls.append(kwargs)
        return {
            "choices": [{"message": {"content": VERDICT_REPLY}, "logprobs": _logprobs(VERDICT_REPLY)}],
            "usage": {"prompt_tokens": 700, "completion_tokens": 60, "total_tokens": 760},
        }


def test_local_model_gets_the_thread_setting_a_schema_grammar_and_logprobs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scorecard: Scorecard, engine: RuleEngine
) -> None:
    monkeypatch.setitem(sys.modules, "llama_cpp", SimpleNamespace(Llama=_FakeLlama))
    gguf = tmp_path / "model.gguf"
    gguf.write_bytes(b"GGUF")
    settings = Settings(data_dir=tmp_path, llm_provider="local", llm_local_model=gguf, llm_threads=3)
    model = build_chat_model(settings)
    assert isinstance(model, LlamaCppChatModel)
    [made] = _FakeLlama.made
    assert made["n_threads"] == 3 and made["logits_all"] is True and made["model_path"] == str(gguf)
    judge = build_judge(settings, cache=None)
    assert judge is not None
    conversation = transcript("坐席：您好。\n客户：会亏吗？\n坐席：这款理财一天都没跌过。", scenario="wealth_sales")
    rule = scorecard.rule("WS-IMPLIED-GUARANTEE")
    request = JudgeRequest(rule=rule, finding=engine.evaluate_rule(rule, conversation), purpose="semantic")
    findings, usage = judge.judge(conversation, [request])
    judge.close()
    assert findings[rule.id].verdict is Verdict.FAIL and findings[rule.id].probability == pytest.approx(0.95)
    assert usage.input_tokens == 700
    call = _FakeLlama.calls[-1]
    assert call["response_format"]["type"] == "json_object" and call["response_format"]["schema"]["required"] == [
        rule.id
    ]
    assert call["logprobs"] is True and call["top_logprobs"] == 5 and call["temperature"] == 0


def test_response_format_translation_for_llama_cpp() -> None:
    schema = {"type": "object"}
    wrapped = {"type": "json_schema", "json_schema": {"name": "x", "schema": schema}}
    assert llama_response_format(wrapped, json_mode=True) == {"type": "json_object", "schema": schema}
    assert llama_response_format(None, json_mode=True) == {"type": "json_object"}
    assert llama_response_format(None, json_mode=False) is None
