from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest

from core.llm import LlmUnavailable, assemble_packaged_model, build_chat_model
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


class _OpenAICompatible(BaseHTTPRequestHandler):
    requests: list[dict[str, Any]] = []  # noqa: RUF012  (shared on purpose: the test reads what was sent)

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
        verdict = {
            "verdict": "violation",
            "evidence": [{"turn": 2, "quote": "一天都没跌过"}],
            "reason": "以历史走势暗示不会亏损",
            "confidence": 0.9,
        }
        answer = {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 0,
            "model": body["model"],
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "stop",
                    "message": {"role": "assistant", "content": json.dumps(verdict, ensure_ascii=False)},
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
        llm_api_key="bank-secret",  # type: ignore[arg-type]
        llm_max_retries=0,
    )
    judge = build_judge(settings, cache=None)
    assert judge is not None and judge.model_name == "qwen2.5-72b-instruct"
    conversation = transcript("坐席：您好。\n客户：会亏吗？\n坐席：这款理财一天都没跌过。", scenario="wealth_sales")
    rule = scorecard.rule("WS-IMPLIED-GUARANTEE")
    request = JudgeRequest(rule=rule, finding=engine.evaluate_rule(rule, conversation), purpose="semantic")
    findings, usage = judge.judge(conversation, [request])
    judge.close()
    assert findings[rule.id].verdict is Verdict.FAIL
    assert (usage.input_tokens, usage.output_tokens, usage.estimated_tokens) == (321, 45, False)
    [sent] = _OpenAICompatible.requests
    assert sent["path"] == "/v1/chat/completions" and sent["auth"] == "Bearer bank-secret"
    assert sent["body"]["model"] == "qwen2.5-72b-instruct" and sent["body"]["temperature"] == 0
    assert sent["body"]["response_format"] == {"type": "json_object"}
    assert sent["body"]["messages"][0]["role"] == "system" and "<transcript>" in sent["body"]["messages"][1]["content"]
