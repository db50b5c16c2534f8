"""Intake: how every conversation enters the QM agent, whichever door it came through.

The content hash is defined here once: of the conversation as received (before normalisation and
redaction), or — for a recording — of the audio bytes and the fields sent with them. The text is then
normalised (NFKC, invisible characters removed, spacing between CJK characters dropped) and PII is
redacted; the vault goes to the store at intake and never travels in graph state or checkpoints.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from core.models import Conversation
from core.store import Store, VaultEntry
from tools.normalize import normalize_text
from tools.redact import find_pii, redact_conversation

CONVERSATION_ID_PLACEHOLDER = "[会话编号#1]"


@dataclass(frozen=True)
class Received:
    """A conversation ready for evaluation: normalised, redacted, fingerprinted."""

    conversation: Conversation
    content_hash: str


def _unkeyed(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()[:20]


def recording_hash(audio: bytes, fields: dict[str, Any]) -> str:
    """The content hash of a recording: its bytes plus the metadata fields sent with it."""
    digest = hashlib.sha256(audio)
    digest.update(json.dumps(fields, ensure_ascii=False, sort_keys=True, default=str).encode("utf-8"))
    return digest.hexdigest()


def receive(conversation: Conversation, *, store: Store | None, content_hash: str | None = None) -> Received:
    """Fingerprint, normalise and redact a conversation; a vault is stored (encrypted) with the redacted
    conversation right away when there is a store, and dropped otherwise (dry run)."""
    fingerprint = content_hash or conversation.content_hash()
    redacted, vault = redact_conversation(conversation)  # normalises each turn first
    entries: list[VaultEntry] = [(token, kind.name, value) for token, (kind, value) in vault.entries.items()]
    if find_pii([normalize_text(conversation.id)])[0]:
        # An id that carries personal data (a phone number as the call id) is replaced by a keyed pseudonym; the
        # original goes to the vault like any other value.
        stand_in = store.pseudonym(conversation.id) if store is not None else _unkeyed(conversation.id)
        entries.append((CONVERSATION_ID_PLACEHOLDER, "CONVERSATION_ID", conversation.id))
        redacted = redacted.model_copy(update={"id": f"pii-{stand_in}"})
    if store is not None and entries:  # without PII the conversation is stored with its evaluation
        store.admit(redacted, fingerprint, entries)
    return Received(conversation=redacted, content_hash=fingerprint)
