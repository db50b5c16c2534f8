"""What the CLI's common options (`--data-dir`, `--db`, `--rule-pack`) mean, in one place."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.settings import Settings


def settings_from_options(
    data_dir: Path | None = None, database_url: str | None = None, rule_pack: Path | None = None
) -> Settings:
    """Settings from the environment and zhijian.toml, with the options given on the command line on top."""
    overrides: dict[str, Any] = {}
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    if database_url is not None:
        overrides["database_url"] = database_url_of(database_url)
    if rule_pack is not None:
        overrides["rule_pack"] = rule_pack
    return Settings(**overrides)


def database_url_of(value: str) -> str:
    """`--db` takes a SQLAlchemy URL or, for SQLite, just a file path (`--db /tmp/qa.db` → `sqlite:////tmp/qa.db`)."""
    if "://" in value or not value.strip():
        return value
    return f"sqlite:///{Path(value).expanduser().resolve()}"
