"""`zhijian train`: build the tier-1 small model from labelled conversations into a versioned artifact.

With no files it trains the shipped model from the default sources: the development part of the shared
labelled sets (`knowledge/splits.py`), the rule pack's examples, the sample corpus (as negatives for the
codes a conversation is not expected to show) and the written examples in `knowledge/training/`."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:  # the training stack is imported by the command itself, so `zhijian --help` starts fast
    from core.scorecard import Scorecard
    from tools.small_model.dataset import TrainingUnit
    from tools.small_model.policy import DevConversation

ROOT = Path(__file__).resolve().parents[1]
WRITTEN_EXAMPLES = ROOT / "knowledge" / "training"
DEFAULT_MODEL_DIR = ROOT / "knowledge" / "models" / "tier1"  # = tools.small_model.model.DEFAULT_MODEL_DIR
PACKAGED_RULE_PACK = ROOT / "knowledge" / "rulepacks" / "retail_banking.yaml"  # = core.settings.PACKAGED_RULE_PACK


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
) -> tuple[list[TrainingUnit], list[DevConversation]]:
    """Training units from every source, and the labelled conversations as policy selection sees them."""
    from core.models import Conversation, Verdict
    from knowledge.rulepacks import example_conversation
    from knowledge.samples import SAMPLE_CONVERSATIONS, load_expected_codes
    from knowledge.splits import writer_of
    from tools.redact import redact_conversation
    from tools.rules import RuleEngine
    from tools.sentiment import DistressScorer
    from tools.small_model.dataset import units_from_labels, units_from_rule_example, units_from_written
    from tools.small_model.policy import DevConversation

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
                writer=group,
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
                conversation, [], group="extra", source=f"sample:{conversation.id}", unknown=unknown, origin="sample"
            )
    if written is not None:
        units += units_from_written(sorted(written.glob("*.jsonl")))
    return units, dev


def train(
    labelled: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Labelled JSONL files; default: the shared sets' development part and knowledge/conversations/"
        ),
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="Folder to write the model into")] = DEFAULT_MODEL_DIR,
    rule_pack: Annotated[Path, typer.Option("--rule-pack", help="Rule pack whose examples are used")] = (
        PACKAGED_RULE_PACK
    ),
    no_written: Annotated[bool, typer.Option("--no-written", help="Leave out knowledge/training/*.jsonl")] = False,
    embeddings: Annotated[
        bool,
        typer.Option(
            "--embeddings/--no-embeddings",
            help="Add e5 embeddings of each turn and its context to the TF-IDF features (slower at inference)",
        ),
    ] = False,
    embedding_cache: Annotated[
        Path | None, typer.Option("--embedding-cache", help="SQLite file that keeps turn embeddings between runs")
    ] = None,
) -> None:
    """Train the tier-1 small model (per-code classifiers, calibrated, policies per code) into --out."""
    from knowledge.rulepacks import load_scorecard
    from knowledge.splits import training_records
    from tools.small_model.provider import TurnEmbedder
    from tools.small_model.training import TrainingConfig
    from tools.small_model.training import train as train_model

    started = time.perf_counter()
    records = read_labelled(labelled) if labelled else training_records()
    if not records:
        typer.echo("no labelled conversations found", err=True)
        raise typer.Exit(1)
    units, dev = training_set(records, load_scorecard(rule_pack), written=None if no_written else WRITTEN_EXAMPLES)
    embedder = TurnEmbedder(cache_path=embedding_cache, threads=1) if embeddings else None
    model, _ = train_model(units, dev, embedder, TrainingConfig(embeddings=embeddings))
    model.manifest["training_seconds"]["total"] = round(time.perf_counter() - started, 2)
    model.manifest["sources"] = {
        "labelled": [str(p) for p in labelled]
        if labelled
        else "shared labelled sets (development part) and knowledge/conversations/",
        "rule_pack": rule_pack.name,
        "written_examples": not no_written,
    }
    model.save(out)
    cv = model.manifest["cross_validation"]
    typer.echo(f"tier-1 model {model.version} → {out}")
    typer.echo(f"  {len(units)} units from {len(dev)} labelled conversations; {time.perf_counter() - started:.1f} s")
    for name in ("rules", "rules_tier1", "rules_tier1_nested", "tier1_alone_nested"):
        typer.echo(f"  cross-validated {name}: {cv[name]}")
    active = [p.code for p in model.policies if p.threshold is not None]
    vetoes = [p.code for p in model.policies if p.veto is not None]
    typer.echo(f"  adds failures for: {', '.join(active) or '-'}; vetoes for: {', '.join(vetoes) or '-'}")


def register(app: typer.Typer) -> None:
    """Add this feature's commands to the main CLI."""
    app.command("train")(train)
