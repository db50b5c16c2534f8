"""Customer-need mining: customer turns in scope, embedded and clustered, each topic labelled by its
distinctive terms, with counts per scenario and example quotes."""

from __future__ import annotations

import math
import re
import time
from collections import Counter
from dataclasses import dataclass

import numpy as np

from core.access import Principal
from core.models import Conversation, Role
from core.store import ConversationRow, Store
from tools.insight.encoders import TextEncoder, Vectors
from tools.insight.models import CustomerNeeds, Slice, Topic, TopicQuote
from tools.insight.scope import evaluated
from tools.insight.terms import distinctive_terms, tokens

MIN_CHARS = 6  # shorter customer turns are acknowledgements ("好的", "是我"), not needs
# A stated need is a question, a request or a worry; "方便，你说" or the last four ID digits are not.
STATED_NEED = re.compile(
    r"[?？吗呢]|想|要|需要|希望|能不能|可不可以|怎么|多少|多久|担心|怕|急用|为什么|办|\b(?:want|need|how|can|could|why|worr)",
    re.I,
)
MIN_TOKENS = 2


@dataclass(frozen=True)
class CustomerTurn:
    conversation_id: str
    scenario: str | None
    turn: int
    text: str


def customer_turns(store: Store, principal: Principal, part: Slice | None = None) -> list[CustomerTurn]:
    """Customer turns that state a need (a question, request or worry) in the evaluated calls in scope."""
    query = evaluated(principal, part, ConversationRow.external_id, ConversationRow.scenario, ConversationRow.payload)
    with store.session() as s:
        rows = list(s.execute(query.order_by(ConversationRow.external_id)))
    turns = []
    for conversation_id, scenario, payload in rows:
        conversation = Conversation.model_validate(payload)
        for t in conversation.turns:
            if (
                t.role is Role.CUSTOMER
                and len(t.text) >= MIN_CHARS
                and STATED_NEED.search(t.text)
                and len(tokens(t.text)) >= MIN_TOKENS
            ):
                turns.append(CustomerTurn(conversation_id, scenario, t.index, t.text))
    return turns


def choose_topic_count(unique_texts: int, max_topics: int) -> int:
    """About sqrt(n/3) topics, at least 2 and at most max_topics."""
    return max(2, min(max_topics, math.isqrt(unique_texts // 3) or 1))


def cluster(vectors: Vectors, k: int) -> np.ndarray:
    """Cluster labels: k-means (mini-batch above 2,000 texts), seeded."""
    from sklearn.cluster import KMeans, MiniBatchKMeans

    if len(vectors) > 2000:
        model: KMeans | MiniBatchKMeans = MiniBatchKMeans(n_clusters=k, random_state=0, n_init=3, batch_size=1024)
    else:
        model = KMeans(n_clusters=k, random_state=0, n_init=4)
    return np.asarray(model.fit_predict(vectors))


def mine_turns(turns: list[CustomerTurn], encoder: TextEncoder, *, max_topics: int = 10) -> CustomerNeeds:
    """Cluster the given customer turns into topics (largest first)."""
    started = time.perf_counter()
    conversations = len({t.conversation_id for t in turns})
    texts = list(dict.fromkeys(t.text for t in turns))
    if len(texts) < 4:
        return CustomerNeeds(
            turns=len(turns), conversations=conversations, encoder=encoder.name, topics=[], seconds=0.0
        )
    vectors = encoder.encode(texts)
    k = choose_topic_count(len(texts), max_topics)
    labels = cluster(vectors, k)
    label_of = dict(zip(texts, labels.tolist(), strict=True))
    members: list[list[CustomerTurn]] = [[] for _ in range(k)]
    for t in turns:
        members[label_of[t.text]].append(t)
    terms = distinctive_terms([[t.text for t in group] for group in members], top=5)
    index_of = {text: i for i, text in enumerate(texts)}
    topics = []
    for topic_id, group in enumerate(members):
        if not group:
            continue
        centroid = vectors[[index_of[t.text] for t in group]].mean(axis=0)
        ranked = sorted(group, key=lambda t: -float(vectors[index_of[t.text]] @ centroid))
        examples: list[TopicQuote] = []
        quoted: set[str] = set()
        for t in ranked:
            if t.conversation_id not in quoted and t.text not in {e.quote for e in examples}:
                examples.append(
                    TopicQuote(conversation_id=t.conversation_id, turn=t.turn, quote=t.text, scenario=t.scenario)
                )
                quoted.add(t.conversation_id)
            if len(examples) == 3:
                break
        topics.append(
            Topic(
                topic_id=topic_id,
                label="、".join(terms[topic_id][:3]) or f"topic {topic_id}",
                terms=terms[topic_id],
                turns=len(group),
                conversations=len({t.conversation_id for t in group}),
                by_scenario=dict(Counter(t.scenario or "unknown" for t in group).most_common()),
                examples=examples,
            )
        )
    topics.sort(key=lambda t: (-t.conversations, -t.turns, t.topic_id))
    return CustomerNeeds(
        turns=len(turns),
        conversations=conversations,
        encoder=encoder.name,
        topics=topics,
        seconds=round(time.perf_counter() - started, 3),
    )


def customer_needs(
    store: Store, principal: Principal, encoder: TextEncoder, *, part: Slice | None = None, max_topics: int = 10
) -> CustomerNeeds:
    """What customers in scope talk about: topics of their turns, labelled, counted per scenario, with quotes."""
    return mine_turns(customer_turns(store, principal, part), encoder, max_topics=max_topics)
