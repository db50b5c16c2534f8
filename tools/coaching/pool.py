"""The pool of real customer turns the simulator draws from: the evaluated store (redacted) and the shared
labelled sets, embedded once (vectors cached in the database by model and text) and searched by cosine.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import func, select

from core.coaching import CoachLineVectorRow
from core.store import ConversationRow, EvaluationRow, FindingRow, Store
from knowledge.splits import labelled_records
from tools.coaching.models import CustomerLine

Vector = NDArray[np.float32]
_PLACEHOLDER = re.compile(r"\[[^\]]{1,12}#\d+\]")  # a redacted value: nothing a customer would say aloud
MAX_LINE_CHARS = 120
STORE_CONVERSATIONS = 2000  # the most recent calls of a tenant feed the pool
QUERY_CACHE = 4096
_ID_FRAGMENT = re.compile(r"\d{4,}")  # digits read out (card or ID tails): not a line to replay


class TextEmbedder(Protocol):
    """What the pool needs of an embedding model (LlamaIndex's BaseEmbedding has it)."""

    model_name: str

    def get_query_embedding(self, query: str) -> list[float]: ...

    def get_text_embedding_batch(self, texts: list[str], show_progress: bool = False, **kwargs: Any) -> Any: ...


def _key(model: str, text: str) -> str:
    return hashlib.sha256(f"{model}\x00{text}".encode()).hexdigest()


def _unit(rows: Any) -> Vector:
    matrix = np.asarray(rows, dtype=np.float32)
    if matrix.ndim == 1:
        matrix = matrix[None, :]
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return np.asarray(matrix / np.maximum(norms, 1e-9), dtype=np.float32)


def _usable(text: str) -> bool:
    return 2 <= len(text) <= MAX_LINE_CHARS and not _PLACEHOLDER.search(text) and not _ID_FRAGMENT.search(text)


def lines_of(
    conversation_id: str,
    turns: list[dict[str, Any]],
    *,
    scenario: str | None,
    source: str,
    converted: bool | None,
    failed_codes: Iterable[str] = (),
    failed_rules: Iterable[str] = (),
) -> Iterator[CustomerLine]:
    """The usable customer turns of one conversation, each with the agent's next turn."""
    customer = [i for i, t in enumerate(turns) if t.get("role") in ("customer", "客户")]
    codes, rules = frozenset(failed_codes), frozenset(failed_rules)
    for rank, index in enumerate(customer):
        text = str(turns[index].get("text", "")).strip()
        if not _usable(text):
            continue
        reply_turn = next((j for j in range(index + 1, len(turns)) if turns[j].get("role") == "agent"), None)
        yield CustomerLine(
            text=text,
            conversation_id=conversation_id,
            turn=index,
            scenario=scenario,
            source=source,
            opening=rank < 2,
            closing=rank >= len(customer) - 2,
            converted=converted,
            failed_codes=codes,
            failed_rules=rules,
            reply=str(turns[reply_turn]["text"]).strip() if reply_turn is not None else None,
            reply_turn=reply_turn,
        )


def labelled_lines() -> list[CustomerLine]:
    """Customer turns of the shared labelled sets (empty when the sets are absent)."""
    found: list[CustomerLine] = []
    for record in labelled_records():
        outcome = record.get("outcome") or {}
        found.extend(
            lines_of(
                str(record["id"]),
                list(record.get("turns", [])),
                scenario=record.get("scenario"),
                source="labelled",
                converted=outcome.get("converted"),
                failed_codes=[label["code"] for label in record.get("labels", [])],
            )
        )
    return found


def store_lines(store: Store, tenant: str, *, limit: int = STORE_CONVERSATIONS) -> list[CustomerLine]:
    """Customer turns of the tenant's most recent evaluated conversations (redacted payloads)."""
    conversations = (
        select(ConversationRow.pk, ConversationRow.external_id, ConversationRow.scenario, ConversationRow.payload)
        .where(ConversationRow.tenant == tenant)
        .order_by(ConversationRow.pk.desc())
        .limit(limit)
    )
    found: list[CustomerLine] = []
    with store.session() as s:
        rows = s.execute(conversations).all()
        failures: dict[int, list[tuple[str, str]]] = {}
        pks = [r.pk for r in rows]
        for start in range(0, len(pks), 500):
            chunk = pks[start : start + 500]
            failing = (
                select(EvaluationRow.conversation_pk, FindingRow.rule_id, FindingRow.code)
                .join(FindingRow, FindingRow.evaluation_id == EvaluationRow.id)
                .where(EvaluationRow.conversation_pk.in_(chunk), FindingRow.verdict == "fail")
            )
            for pk, rule_id, code in s.execute(failing):
                failures.setdefault(pk, []).append((rule_id, code))
    for row in rows:
        payload = row.payload
        outcome = payload.get("outcome") or {}
        failed = failures.get(row.pk, [])
        found.extend(
            lines_of(
                row.external_id,
                list(payload.get("turns", [])),
                scenario=row.scenario,
                source="store",
                converted=outcome.get("converted"),
                failed_codes=[code for _, code in failed],
                failed_rules=[rule for rule, _ in failed],
            )
        )
    return found


class VectorCache:
    """Line embeddings kept in the database, so a restart or another worker never embeds a line twice."""

    def __init__(self, store: Store, embedder: TextEmbedder) -> None:
        self.store = store
        self.embedder = embedder
        self.model = str(getattr(embedder, "model_name", type(embedder).__name__))
        self._queries: dict[str, Vector] = {}
        self._lock = threading.Lock()

    def vectors(self, texts: list[str], *, progress: Callable[[int, int], None] | None = None) -> Vector:
        """Unit vectors of the texts (as passages), embedding only those not cached yet."""
        keys = [_key(self.model, t) for t in texts]
        known: dict[str, Vector] = {}
        with self.store.session() as s:
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                for row in s.scalars(select(CoachLineVectorRow).where(CoachLineVectorRow.key.in_(chunk))):
                    known[row.key] = np.frombuffer(row.vector, dtype="<f4")
        missing = sorted({t for t, k in zip(texts, keys, strict=True) if k not in known})
        for start in range(0, len(missing), 64):
            batch = missing[start : start + 64]
            fresh = _unit(self.embedder.get_text_embedding_batch(batch))
            rows = [
                CoachLineVectorRow(key=_key(self.model, t), model=self.model, vector=v.astype("<f4").tobytes())
                for t, v in zip(batch, fresh, strict=True)
            ]
            with self.store.session() as s:
                present = set(
                    s.scalars(select(CoachLineVectorRow.key).where(CoachLineVectorRow.key.in_([r.key for r in rows])))
                )
                s.add_all(r for r in rows if r.key not in present)
            for t, v in zip(batch, fresh, strict=True):
                known[_key(self.model, t)] = v
            if progress is not None:
                progress(min(start + 64, len(missing)), len(missing))
        if not texts:
            return np.zeros((0, 1), dtype=np.float32)
        return np.asarray(np.stack([known[k] for k in keys]), dtype=np.float32)

    def query(self, text: str) -> Vector:
        """Unit vector of a query (an agent's reply, a concern); recent ones are kept in memory."""
        with self._lock:
            known = self._queries.get(text)
        if known is not None:
            return known
        vector: Vector = _unit(self.embedder.get_query_embedding(text))[0]
        with self._lock:
            if len(self._queries) >= QUERY_CACHE:
                self._queries.pop(next(iter(self._queries)))
            self._queries[text] = vector
        return vector

    def blend(self, *texts: str) -> Vector:
        """One unit vector for several queries (e.g. the agent's reply and the objection), each embedded once."""
        vectors = [self.query(t) for t in texts if t]
        blended: Vector = _unit(np.sum(vectors, axis=0))[0]
        return blended


@dataclass
class CustomerTurnPool:
    """Customer lines and their unit vectors; `rank` orders lines by similarity to a query."""

    lines: list[CustomerLine]
    vectors: Vector
    _by_text: dict[str, int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._by_text = {line.text: i for i, line in enumerate(self.lines)}

    def __len__(self) -> int:
        return len(self.lines)

    def vector_of(self, text: str) -> Vector | None:
        index = self._by_text.get(text)
        return self.vectors[index] if index is not None else None

    def rank(
        self, query: Vector, keep: Callable[[CustomerLine], bool], *, limit: int
    ) -> list[tuple[CustomerLine, float]]:
        """Up to `limit` lines that `keep` accepts, most similar first."""
        if not self.lines:
            return []
        scores = self.vectors @ query
        found: list[tuple[CustomerLine, float]] = []
        for index in np.argsort(-scores):
            line = self.lines[int(index)]
            if keep(line):
                found.append((line, float(scores[index])))
                if len(found) >= limit:
                    break
        return found


def build_pool(
    cache: VectorCache,
    lines: list[CustomerLine],
    *,
    progress: Callable[[int, int], None] | None = None,
) -> CustomerTurnPool:
    """Embed (or fetch cached vectors of) the lines, one entry per distinct text."""
    distinct: dict[str, CustomerLine] = {}
    for line in lines:
        distinct.setdefault(line.text, line)
    unique = list(distinct.values())
    return CustomerTurnPool(unique, cache.vectors([line.text for line in unique], progress=progress))


class PoolProvider:
    """One pool per tenant (its store lines plus the shared labelled lines), rebuilt when new calls arrive."""

    def __init__(
        self,
        store: Store,
        vectors: VectorCache,
        *,
        labelled: bool = True,
        labelled_scenarios: frozenset[str] | None = None,
    ) -> None:
        self.store = store
        self.vectors = vectors
        self.labelled = labelled
        self.labelled_scenarios = labelled_scenarios  # None: every scenario of the shared sets
        self._labelled: list[CustomerLine] | None = None
        self._pools: dict[str, tuple[int, CustomerTurnPool]] = {}
        self._lock = threading.Lock()

    @property
    def notes(self) -> list[str]:
        """What the pool lacks, said plainly."""
        if self.labelled and not self._labelled_lines():
            return ["共享标注对话集不存在，客户台词只取自本库已质检的通话 (shared labelled sets absent)"]
        return []

    def _labelled_lines(self) -> list[CustomerLine]:
        if self._labelled is None:
            found = labelled_lines() if self.labelled else []
            wanted = self.labelled_scenarios
            self._labelled = [line for line in found if wanted is None or line.scenario in wanted]
        return self._labelled

    def pool(self, tenant: str, *, progress: Callable[[int, int], None] | None = None) -> CustomerTurnPool:
        """The tenant's pool, embedding only lines never embedded before."""
        with self.store.session() as s:
            newest = s.scalar(select(func.max(ConversationRow.pk)).where(ConversationRow.tenant == tenant)) or 0
        with self._lock:
            cached = self._pools.get(tenant)
            if cached is not None and cached[0] == newest:
                return cached[1]
            lines = store_lines(self.store, tenant) + self._labelled_lines()
            pool = build_pool(self.vectors, lines, progress=progress)
            self._pools[tenant] = (newest, pool)
            return pool
