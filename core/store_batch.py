"""Writes of a batch of evaluations gathered and stored in one transaction (the CLI's batch path).

A `BufferedStore` answers like the store it wraps, but keeps what intake and the QM graph write (conversations,
vaults, evaluations, tickets) until `flush`, which stores it all in one transaction with one multi-row INSERT per
table. Lookups see the gathered writes first, so a conversation sent twice in one batch is still evaluated once.
Nothing gathered is reported before `flush` returns: a crash loses only work nobody was told was stored, and the
next run does it again (every write is keyed, so it is idempotent).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Connection, insert, select
from sqlalchemy.exc import IntegrityError

from core.models import Conversation, Evaluation, Ticket
from core.store import (
    ConversationRow,
    EvaluationRow,
    FindingRow,
    PiiVaultRow,
    Store,
    TicketRow,
    VaultEntry,
    conversation_row,
    evaluation_row,
    finding_rows,
    ticket_row,
)

ConversationKey = tuple[str, str, str]  # tenant, id, content hash
EvaluationKey = tuple[str, str, str, str, str]  # tenant, id, content hash, rule pack, verdict version


def _evaluation_key(e: Evaluation) -> EvaluationKey:
    return (e.tenant, e.conversation_id, e.content_hash, e.rule_pack, e.verdict_version)


@dataclass
class _Gathered:
    conversations: dict[ConversationKey, Conversation] = field(default_factory=dict)
    vaults: dict[ConversationKey, list[VaultEntry]] = field(default_factory=dict)
    evaluations: dict[EvaluationKey, Evaluation] = field(default_factory=dict)
    tickets: dict[str, Ticket] = field(default_factory=dict)  # by evaluation id


class BufferedStore(Store):
    """A view of a store whose writes wait for `flush` (one transaction); not shared between threads."""

    def __init__(self, store: Store) -> None:
        # Shares everything the store holds (engine, sessions, vault cipher): its schema is checked already.
        self.__dict__.update(store.__dict__)
        self._store = store
        self._gathered = _Gathered()
        self._expected: set[ConversationKey] = set()  # conversations whose stored evaluations are known…
        self._evaluated: set[EvaluationKey] = set()  # …to be these

    def expect(self, conversations: Iterable[ConversationKey]) -> None:
        """One query for a chunk's conversations: which evaluations they have stored, so that looking up the
        others needs no query. (One stored meanwhile by another process is caught by `flush`.)"""
        keys = set(conversations) - self._expected
        if not keys:
            return
        with self.read_session() as s:
            rows = s.execute(
                select(
                    ConversationRow.tenant,
                    ConversationRow.external_id,
                    ConversationRow.content_hash,
                    EvaluationRow.rule_pack,
                    EvaluationRow.verdict_version,
                )
                .join(EvaluationRow, EvaluationRow.conversation_pk == ConversationRow.pk)
                .where(_among(keys))
            )
            self._evaluated |= {
                (tenant, cid, content_hash, pack, version)
                for tenant, cid, content_hash, pack, version in rows
                if (tenant, cid, content_hash) in keys
            }
        self._expected |= keys

    def admit(self, conversation: Conversation, content_hash: str, vault: Sequence[VaultEntry]) -> None:
        key = (conversation.tenant, conversation.id, content_hash)
        self._gathered.conversations.setdefault(key, conversation)
        self._gathered.vaults.setdefault(key, []).extend(vault)

    def find_evaluation(
        self, *, tenant: str, conversation_id: str, content_hash: str, rule_pack: str, verdict_version: str
    ) -> Evaluation | None:
        key = (tenant, conversation_id, content_hash, rule_pack, verdict_version)
        gathered = self._gathered.evaluations.get(key)
        if gathered is not None:
            return gathered
        if key[:3] in self._expected and key not in self._evaluated:
            return None
        return self._store.find_evaluation(
            tenant=tenant,
            conversation_id=conversation_id,
            content_hash=content_hash,
            rule_pack=rule_pack,
            verdict_version=verdict_version,
        )

    def save_evaluation(self, conversation: Conversation, evaluation: Evaluation) -> Evaluation:
        key = _evaluation_key(evaluation)
        earlier = self._gathered.evaluations.get(key)
        if earlier is not None:
            return earlier
        self._gathered.conversations.setdefault(key[:3], conversation)
        self._gathered.evaluations[key] = evaluation
        return evaluation

    def save_ticket(self, ticket: Ticket) -> Ticket:
        gathered = self._gathered.tickets.get(ticket.evaluation_id)
        if gathered is not None:
            return gathered
        if not any(e.id == ticket.evaluation_id for e in self._gathered.evaluations.values()):
            # An evaluation stored earlier (a re-submission): its ticket may be stored, perhaps already worked on.
            stored = self._store.ticket_for_evaluation(ticket.evaluation_id)
            if stored is not None:
                return stored
        self._gathered.tickets[ticket.evaluation_id] = ticket
        return ticket

    def ticket_for_evaluation(self, evaluation_id: str) -> Ticket | None:
        return self._gathered.tickets.get(evaluation_id) or self._store.ticket_for_evaluation(evaluation_id)

    def flush(self) -> set[str]:
        """Store everything gathered in one transaction and start afresh. Returns the ids of the evaluations
        that another process stored first (with their tickets, if any): the caller reports those as stored."""
        gathered, self._gathered = self._gathered, _Gathered()
        self._expected, self._evaluated = set(), set()
        if not (gathered.conversations or gathered.tickets):
            return set()
        try:
            with self.engine.begin() as connection:
                return _write(connection, gathered, self._encrypt)
        except IntegrityError:
            # Another process wrote one of these rows between our reads and writes (a database without up-front
            # write locks): store them one at a time, each write keyed and idempotent.
            return self._write_one_by_one(gathered)

    def _encrypt(self, value: str) -> str:
        return self.vault.encrypt(value) if self.vault is not None else value

    def _write_one_by_one(self, gathered: _Gathered) -> set[str]:
        taken: set[str] = set()
        for key, conversation in gathered.conversations.items():
            self._store.admit(conversation, key[2], gathered.vaults.get(key, []))
        for evaluation in gathered.evaluations.values():
            conversation = gathered.conversations[_evaluation_key(evaluation)[:3]]
            if self._store.save_evaluation(conversation, evaluation) is not evaluation:
                taken.add(evaluation.id)
        for ticket in gathered.tickets.values():
            if self._store.save_ticket(ticket) is not ticket:
                taken.add(ticket.evaluation_id)
        return taken


def _write(connection: Connection, gathered: _Gathered, encrypt: Callable[[str], str]) -> set[str]:
    """Insert what is not stored yet; returns the evaluation ids whose evaluation or ticket was stored already."""
    pks = _conversation_pks(connection, gathered.conversations) if gathered.conversations else {}
    vault_rows = _vault_rows(connection, pks, gathered.vaults, encrypt)
    if vault_rows:
        connection.execute(insert(PiiVaultRow), vault_rows)
    taken: set[str] = set()
    evaluations = list(gathered.evaluations.values())
    if evaluations:
        stored = {
            (pk, rule_pack, version)
            for pk, rule_pack, version in connection.execute(
                select(EvaluationRow.conversation_pk, EvaluationRow.rule_pack, EvaluationRow.verdict_version).where(
                    EvaluationRow.conversation_pk.in_({pks[_evaluation_key(e)[:3]] for e in evaluations})
                )
            )
        }
        fresh = []
        for e in evaluations:
            if (pks[_evaluation_key(e)[:3]], e.rule_pack, e.verdict_version) in stored:
                taken.add(e.id)
            else:
                fresh.append(e)
        if fresh:
            connection.execute(insert(EvaluationRow), [evaluation_row(pks[_evaluation_key(e)[:3]], e) for e in fresh])
            findings = [row for e in fresh for row in finding_rows(e)]
            if findings:
                connection.execute(insert(FindingRow), findings)
    tickets = [t for t in gathered.tickets.values() if t.evaluation_id not in taken]
    if tickets:
        ticketed = set(
            connection.scalars(
                select(TicketRow.evaluation_id).where(TicketRow.evaluation_id.in_([t.evaluation_id for t in tickets]))
            )
        )
        taken |= ticketed
        fresh_tickets = [ticket_row(t) for t in tickets if t.evaluation_id not in ticketed]
        if fresh_tickets:
            connection.execute(insert(TicketRow), fresh_tickets)
    return taken


def _among(keys: Iterable[ConversationKey]) -> ColumnElement[bool]:
    """Rows of these tenants and ids, a superset of the keys: the unique index (tenant, id, hash) is searched for
    each pair (a row-value IN would scan the whole index); callers keep the exact keys."""
    tenants, ids = {key[0] for key in keys}, {key[1] for key in keys}
    return ConversationRow.tenant.in_(tenants) & ConversationRow.external_id.in_(ids)


def _conversation_pks(
    connection: Connection, conversations: dict[ConversationKey, Conversation]
) -> dict[ConversationKey, int]:
    """The primary key of every gathered conversation, inserting those not stored yet."""

    def stored() -> dict[ConversationKey, int]:
        rows = connection.execute(
            select(
                ConversationRow.tenant, ConversationRow.external_id, ConversationRow.content_hash, ConversationRow.pk
            ).where(_among(conversations))
        )
        found = {(tenant, external_id, content_hash): pk for tenant, external_id, content_hash, pk in rows}
        return {key: pk for key, pk in found.items() if key in conversations}

    pks = stored()
    missing = [conversation_row(c, key[2]) for key, c in conversations.items() if key not in pks]
    if missing:
        connection.execute(insert(ConversationRow), missing)
        pks = stored()
    return pks


def _vault_rows(
    connection: Connection,
    pks: dict[ConversationKey, int],
    vaults: dict[ConversationKey, list[VaultEntry]],
    encrypt: Callable[[str], str],
) -> list[dict[str, Any]]:
    wanted = {key: entries for key, entries in vaults.items() if entries}
    if not wanted:
        return []
    known = {
        (pk, placeholder)
        for pk, placeholder in connection.execute(
            select(PiiVaultRow.conversation_pk, PiiVaultRow.placeholder).where(
                PiiVaultRow.conversation_pk.in_([pks[key] for key in wanted])
            )
        )
    }
    rows = []
    for key, entries in wanted.items():
        pk = pks[key]
        for placeholder, kind, value in entries:
            if (pk, placeholder) not in known:
                known.add((pk, placeholder))
                rows.append({"conversation_pk": pk, "placeholder": placeholder, "kind": kind, "value": encrypt(value)})
    return rows
