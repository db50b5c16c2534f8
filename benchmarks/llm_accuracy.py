"""The labelled sets with the configured LLM tier, compared with the rule tier alone.

Prints precision/recall per code for both, the share of conversations that reached the LLM, tokens and
seconds per conversation. Configure the model with ZHIJIAN_LLM_PROVIDER (openai|local) and friends.
Usage: python benchmarks/llm_accuracy.py [--limit N]
"""

from __future__ import annotations

import statistics
import sys
import time

from rich.console import Console

from core.llm import build_chat_model, model_label
from core.settings import Settings
from graphs.qm import build_graph, evaluate_conversation
from graphs.wiring import build_qm_context
from prompts import load_prompt
from tools.accuracy import CodeCounts
from tools.semantic import MemoryVerdictCache, SemanticJudge

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent))
from accuracy import labelled_sets


def main(limit: int | None = None) -> None:
    console = Console()
    settings = Settings()
    model = build_chat_model(settings)
    if model is None:
        console.print("No LLM configured (ZHIJIAN_LLM_PROVIDER=none): nothing to measure.")
        return
    name = model_label(model)
    judge = SemanticJudge(
        model,
        prompt=load_prompt("semantic_check", settings.prompt_language),
        model_name=name,
        cache=MemoryVerdictCache(),
        window_turns=settings.llm_window_turns,
        timeout_s=settings.llm_timeout_s,
        max_concurrency=settings.llm_max_concurrency,
    )
    base = build_qm_context(settings, store=None)
    with_llm = build_qm_context(settings, store=None, scorer=base.engine.scorer)
    with_llm = type(with_llm)(**{**with_llm.__dict__, "judge": judge})
    graph = build_graph()
    for set_name, (conversations, expected) in labelled_sets().items():
        conversations = conversations[:limit] if limit else conversations
        rules_only, llm = CodeCounts(), CodeCounts()
        reached, tokens, seconds = 0, [], []
        for number, conversation in enumerate(conversations, start=1):
            gold = expected.get(conversation.id, set())
            plain = evaluate_conversation(graph, base, conversation)["evaluation"]
            rules_only.add(gold, {f.code for f in plain.failed})
            started = time.perf_counter()
            evaluation = evaluate_conversation(graph, with_llm, conversation)["evaluation"]
            seconds.append(time.perf_counter() - started)
            llm.add(gold, {f.code for f in evaluation.failed})
            if evaluation.llm and evaluation.llm.calls + evaluation.llm.cached:
                reached += 1
                tokens.append(evaluation.llm.input_tokens + evaluation.llm.output_tokens)
            console.print(f"  {number}/{len(conversations)} {conversation.id}: {seconds[-1]:.1f} s", highlight=False)
        console.print(rules_only.table(f"rule tier alone — {set_name}"))
        console.print(llm.table(f"rule tier + LLM ({name}) — {set_name}"))
        console.print(
            f"{set_name}: LLM reached {reached}/{len(conversations)} conversations "
            f"({reached / len(conversations):.0%}); median {statistics.median(tokens) if tokens else 0:.0f} tokens "
            f"and {statistics.median(seconds):.1f} s per conversation (mean {statistics.mean(seconds):.1f} s)"
        )
    judge.close()


if __name__ == "__main__":
    limit = int(sys.argv[sys.argv.index("--limit") + 1]) if "--limit" in sys.argv else None
    main(limit)
