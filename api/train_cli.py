"""`zhijian train`: build the tier-1 small model from labelled conversations into a versioned artifact.

With no files it trains the shipped model from the default sources: the development part of the shared
labelled sets (`knowledge/splits.py`), the rule pack's examples, the sample corpus (as negatives for the
codes a conversation is not expected to show) and the written examples in `knowledge/training/`."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any

import typer

from core.models import Conversation, Verdict
from core.scorecard import Scorecard
from core.settings import PACKAGED_RULE_PACK
from knowledge.rulepacks import example_conversation, load_scorecard
from knowledge.samples import SAMPLE_CONVERSATIONS, load_expected_codes
from knowledge.splits import labelled_records, writer_of
from tools.redact import redact_conversation
from tools.rules import RuleEngine
from tools.sentiment import DistressScorer
from tools.small_model.dataset import TrainingUnit, units_from_labels, units_from_rule_example, units_from_written
from tools.small_model.model import DEFAULT_MODEL_DIR

WRITTEN_EXAMPLES = Path(__file__).resolve().parents[1] / "knowledge" / "training"


def read_labelled(paths: Iterable[Path]) -> list[dict[str, Any]]:
    """Labelled conversation records (JSON lines with `labels`) from files."""
    records = []
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                records.append(json.loads(line))
    return records


def training_set(
    records: list[dict[str, Any]], scorecard: Scorecard, *, written: Path | None = WRITTEN_EXAMPLES
) -> tuple[list[TrainingUnit], list[Any]]:
    """Training units from every source, and the labelled conversations as threshold selection sees them."""
    from tools.small_model.training import DevConversation

    engine = RuleEngine(scorecard, DistressScorer())
    units: list[TrainingUnit] = []
    dev: list[DevConversation] = []
    writers = {writer_of(r["id"]) for r in records}
    for record in records:
        conversation, _ = redact_conversation(Conversation.model_validate(record))
        labels = [(label["code"], label.get("turns", [])) for label in record.get("labels", [])]
        # Cross-validation holds out one writer at a time; with a single writer, three folds by id.
        group = writer_of(record["id"]) if len(writers) > 1 else f"fold{sum(map(ord, record['id'])) % 3}"
        units += units_from_labels(conversation, labels, group=group, source=f"labelled:{record['id']}")
        dev.append(
            DevConversation(
                id=conversation.id,
                gold=frozenset(code for code, _ in labels),
                rule_findings=engine.evaluate(conversation),
                turns=[(t.role, t.text) for t in conversation.turns],
            )
        )
    for rule in scorecard.rules:
        for number, example in enumerate(rule.examples, start=1):
            conversation = example_conversation(rule, example, number)
            finding = engine.evaluate_rule(rule, conversation)
            if example.expect is not Verdict.FAIL:
                finding = finding.model_copy(update={"verdict": Verdict.PASS, "evidence": []})
            elif rule.check.type == "semantic":
                finding = finding.model_copy(update={"verdict": Verdict.NOT_EVALUATED, "evidence": []})
            units += units_from_rule_example(conversation, finding, source=f"rule:{rule.id}:{number}")
    expected = load_expected_codes()
    for line in SAMPLE_CONVERSATIONS.read_text(encoding="utf-8").splitlines():
        if line.strip():
            conversation, _ = redact_conversation(Conversation.model_validate_json(line))
            unknown = frozenset(expected.get(conversation.id, set()))
            units += units_from_labels(
                conversation, [], group="extra", source=f"sample:{conversation.id}", unknown=unknown
            )
    if written is not None:
        units += units_from_written(sorted(written.glob("*.jsonl")))
    return units, dev


def train(
    labelled: Annotated[
        list[Path] | None, typer.Argument(help="Labelled JSONL files; default: the development part of the shared sets")
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="Folder to write the model into")] = DEFAULT_MODEL_DIR,
    rule_pack: Annotated[Path, typer.Option("--rule-pack", help="Rule pack whose examples are used")] = (
        PACKAGED_RULE_PACK
    ),
    no_written: Annotated[bool, typer.Option("--no-written", help="Leave out knowledge/training/*.jsonl")] = False,
    embedding_cache: Annotated[
        Path | None, typer.Option("--embedding-cache", help="SQLite file that keeps turn embeddings between runs")
    ] = None,
) -> None:
    """Train the tier-1 small model (per-code classifiers, calibrated, thresholds per code) into --out."""
    from tools.small_model.provider import TurnEmbedder
    from tools.small_model.training import train as train_model

    started = time.perf_counter()
    records = read_labelled(labelled) if labelled else list(labelled_records("dev"))
    if not records:
        typer.echo("no labelled conversations found", err=True)
        raise typer.Exit(1)
    units, dev = training_set(records, load_scorecard(rule_pack), written=None if no_written else WRITTEN_EXAMPLES)
    model, _ = train_model(units, dev, TurnEmbedder(cache_path=embedding_cache))
    model.manifest["training_seconds"]["total"] = round(time.perf_counter() - started, 2)
    model.manifest["sources"] = {
        "labelled": [str(p) for p in labelled] if labelled else "shared labelled sets, development part",
        "rule_pack": rule_pack.name,
        "written_examples": not no_written,
    }
    model.save(out)
    cv = model.manifest["cross_validation"]
    typer.echo(f"tier-1 model {model.version} → {out}")
    typer.echo(f"  {len(units)} units from {len(dev)} labelled conversations; {time.perf_counter() - started:.1f} s")
    for name in ("rules", "rules_tier1"):
        typer.echo(f"  cross-validated {name}: {cv[name]}")
    active = [p.code for p in model.policies if p.threshold is not None]
    vetoes = [p.code for p in model.policies if p.veto is not None]
    typer.echo(f"  adds failures for: {', '.join(active) or '-'}; vetoes for: {', '.join(vetoes) or '-'}")


def register(app: typer.Typer) -> None:
    """Add this feature's commands to the main CLI."""
    app.command("train")(train)
