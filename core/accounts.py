"""API keys (for pipelines) and users (for people), stored hashed; both resolve to a Principal."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, String, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from core.access import AccessRole, Principal
from core.db import Base, utc_now
from core.errors import ZhijianError
from core.store import Store

_ORG = ("head_office", "branch", "sub_branch", "team", "agent_id")


class _GrantColumns:
    """What a key or user may reach: tenant, role and an org subtree (None at a level: all of it)."""

    tenant: Mapped[str] = mapped_column(String(100), index=True)
    role: Mapped[str] = mapped_column(String(16))
    head_office: Mapped[str | None] = mapped_column(String(100))
    branch: Mapped[str | None] = mapped_column(String(100))
    sub_branch: Mapped[str | None] = mapped_column(String(100))
    team: Mapped[str | None] = mapped_column(String(100))
    agent_id: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class ApiKeyRow(_GrantColumns, Base):
    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)  # keys are random: SHA-256 suffices
    name: Mapped[str] = mapped_column(String(200))


class UserRow(_GrantColumns, Base):
    __tablename__ = "users"

    username: Mapped[str] = mapped_column(String(100), primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(200))


class AccountError(ZhijianError):
    """An account operation that cannot be done as asked (the message says why, never a secret)."""


@dataclass(frozen=True)
class ApiKeyInfo:
    """What an operator may see of a key: never the key or its hash."""

    id: str
    name: str
    tenant: str
    role: str
    scope: dict[str, str]
    created_at: datetime


def _check_grant(role: AccessRole, org: dict[str, Any]) -> None:
    unknown = set(org) - set(_ORG)
    if unknown:
        raise AccountError(f"unknown organisation level(s): {', '.join(sorted(unknown))}")
    if role is AccessRole.AGENT and not org.get("agent_id"):
        raise AccountError("an agent key or user needs an agent id (--agent-id); without one it would see nothing")


def _principal(subject: str, row: ApiKeyRow | UserRow) -> Principal:
    return Principal(
        subject=subject,
        tenant=row.tenant,
        role=AccessRole(row.role),
        **{level: getattr(row, level) for level in _ORG},
    )


def _hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """scrypt (n=2^14, r=8, p=1) with a random salt, as 'scrypt$salt$hash' in hex."""
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1)
    return f"scrypt${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    _, salt, _ = stored.split("$")
    return hmac.compare_digest(hash_password(password, salt=bytes.fromhex(salt)), stored)


def create_api_key(store: Store, *, name: str, tenant: str, role: AccessRole, **org: str | None) -> tuple[str, str]:
    """A new key: returns (key id, the key itself). The key is shown once; only its hash is kept."""
    _check_grant(role, org)
    key_id = f"k_{secrets.token_hex(6)}"
    key = f"zj_{key_id[2:]}_{secrets.token_urlsafe(32)}"
    with store.session() as s:
        s.add(ApiKeyRow(id=key_id, key_hash=_hash_key(key), name=name, tenant=tenant, role=role.value, **org))
    return key_id, key


def principal_for_api_key(store: Store, key: str) -> Principal | None:
    with store.read_session() as s:  # a lookup takes no write lock: it must not wait for evaluations being stored
        row = s.scalar(select(ApiKeyRow).where(ApiKeyRow.key_hash == _hash_key(key)))
        return _principal(f"key:{row.id}", row) if row else None


def create_user(store: Store, *, username: str, password: str, tenant: str, role: AccessRole, **org: Any) -> None:
    """A new user; `AccountError` when the username is taken or the grant makes no sense."""
    _check_grant(role, org)
    try:
        with store.session() as s:
            if s.get(UserRow, username) is not None:
                raise AccountError(f"user {username!r} already exists; use set-password or delete-user")
            s.add(
                UserRow(username=username, password_hash=hash_password(password), tenant=tenant, role=role.value, **org)
            )
    except IntegrityError:  # created by someone else between the check and the insert
        raise AccountError(f"user {username!r} already exists; use set-password or delete-user") from None


def list_api_keys(store: Store, *, tenant: str | None = None) -> list[ApiKeyInfo]:
    """Every key (of one tenant, when given), oldest first."""
    query = select(ApiKeyRow).order_by(ApiKeyRow.created_at, ApiKeyRow.id)
    if tenant is not None:
        query = query.where(ApiKeyRow.tenant == tenant)
    with store.session() as s:
        return [
            ApiKeyInfo(
                id=r.id,
                name=r.name,
                tenant=r.tenant,
                role=r.role,
                scope={level: v for level in _ORG if (v := getattr(r, level)) is not None},
                created_at=r.created_at,
            )
            for r in s.scalars(query)
        ]


def revoke_api_key(store: Store, key_id: str) -> bool:
    """Delete a key so it no longer authenticates; False when there is no such key."""
    with store.session() as s:
        row = s.get(ApiKeyRow, key_id)
        if row is None:
            return False
        s.delete(row)
        return True


def delete_user(store: Store, username: str) -> bool:
    """Delete a user (their tokens stop working at once); False when there is no such user."""
    with store.session() as s:
        row = s.get(UserRow, username)
        if row is None:
            return False
        s.delete(row)
        return True


def set_password(store: Store, username: str, password: str) -> bool:
    """Replace a user's password; False when there is no such user."""
    with store.session() as s:
        row = s.get(UserRow, username)
        if row is None:
            return False
        row.password_hash = hash_password(password)
        return True


def authenticate_user(store: Store, username: str, password: str) -> Principal | None:
    """The user's principal when the password matches, else None (same cost either way)."""
    with store.session() as s:
        row = s.get(UserRow, username)
        if row is None:
            verify_password(password, hash_password("timing-equaliser"))
            return None
        return _principal(f"user:{username}", row) if verify_password(password, row.password_hash) else None


def principal_for_user(store: Store, username: str) -> Principal | None:
    with store.read_session() as s:
        row = s.get(UserRow, username)
        return _principal(f"user:{username}", row) if row else None
