"""`--db` accepts a plain SQLite file path (three writers of test data tripped over 'not a database URL')."""

from __future__ import annotations

from pathlib import Path

from api.options import database_url_of, settings_from_options


def test_a_file_path_is_a_sqlite_database(tmp_path: Path) -> None:
    path = tmp_path / "qa.db"
    assert database_url_of(str(path)) == f"sqlite:///{path.resolve()}"
    assert settings_from_options(database_url=str(path)).database_url == f"sqlite:///{path.resolve()}"


def test_a_url_is_kept_as_given() -> None:
    for url in ("sqlite:////var/lib/zhijian/qa.db", "postgresql+psycopg://qa@db/qa"):
        assert database_url_of(url) == url
