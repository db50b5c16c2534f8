"""Article-aware parsing of the regulation corpus: 章/节/第X条; long articles split on 款/项."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import cn2an

from core.errors import ZhijianError
from core.yamldoc import load_yaml

CORPUS_DIR = Path(__file__).resolve().parent / "corpus"
CATALOG = Path(__file__).resolve().parent / "catalog.yaml"
MAX_CHUNK_CHARS = 480

_NUMERAL = "零〇一二三四五六七八九十百千两"
_ARTICLE = re.compile(rf"^第([{_NUMERAL}]+)条(?:之([{_NUMERAL}]+))?\s*(.*)$")
_CHAPTER = re.compile(rf"^#+\s*(第[{_NUMERAL}]+章.*)$")
_SECTION = re.compile(rf"^#+\s*(第[{_NUMERAL}]+节.*)$")
_DATE_IN_NAME = re.compile(r"\((\d{4})-(\d{2})-(\d{2})\)\.md$")


class CorpusError(ZhijianError):
    """The regulation corpus or its catalog is missing or malformed."""


@dataclass(frozen=True)
class Regulation:
    path: Path
    title: str
    short: str
    issuer: str
    kind: str
    effective: date
    scenarios: tuple[str, ...]


@dataclass(frozen=True)
class Article:
    regulation: Regulation
    number: int
    label: str  # 第二十九条
    chapter: str | None
    section: str | None
    paragraphs: tuple[str, ...]

    @property
    def clause_id(self) -> str:
        return f"{self.regulation.short}-第{self.number}条"

    @property
    def text(self) -> str:
        return "\n".join(self.paragraphs)


@dataclass(frozen=True)
class Chunk:
    """What is embedded and indexed: a whole article, or consecutive paragraphs of a long one."""

    article: Article
    part: int  # 0 when the article is whole
    text: str

    @property
    def chunk_id(self) -> str:
        return self.article.clause_id + (f"#{self.part}" if self.part else "")

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(f"{self.chunk_id}\n{self.text}".encode()).hexdigest()[:16]

    @property
    def embed_text(self) -> str:
        """The chunk with its provenance, so a chunk retrieved alone still says where it is from."""
        a = self.article
        where = " ".join(p for p in (a.regulation.short, a.chapter, a.section) if p)
        return f"{where} {a.label}：{self.text}"


def load_catalog(corpus_dir: Path = CORPUS_DIR, catalog: Path = CATALOG) -> list[Regulation]:
    """The regulations of the corpus with their catalog metadata; a file without an entry is an error."""
    if not corpus_dir.is_dir():
        raise CorpusError(f"regulation corpus folder not found: {corpus_dir}")
    entries = load_yaml(catalog.read_text(encoding="utf-8"), packaged=catalog == CATALOG) or {}
    regulations = []
    for path in sorted(corpus_dir.glob("*.md")):
        entry = entries.get(path.name)
        if entry is None:
            raise CorpusError(f"{path.name} has no entry in {catalog}")
        stamp = _DATE_IN_NAME.search(path.name)
        if stamp is None:
            raise CorpusError(f"{path.name}: expected the version date in the name, e.g. 商业银行法(2015-08-29).md")
        title = next(
            (line[2:].strip() for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("# ")),
            path.stem,
        )
        regulations.append(
            Regulation(
                path=path,
                title=title,
                short=entry["short"],
                issuer=entry["issuer"],
                kind=entry["kind"],
                effective=date(*(int(g) for g in stamp.groups())),
                scenarios=tuple(entry.get("scenarios") or ()),
            )
        )
    return regulations


def parse_articles(regulation: Regulation, text: str | None = None) -> list[Article]:
    """Articles in order, each with its chapter and section; the preamble before the first article is skipped."""
    articles: list[Article] = []
    chapter = section = None
    current: dict[str, object] | None = None

    def close() -> None:
        if current is not None:
            articles.append(Article(regulation=regulation, **current))  # type: ignore[arg-type]

    source = text if text is not None else regulation.path.read_text(encoding="utf-8")
    for raw in source.splitlines():
        line = raw.strip()
        if not line or line.startswith("<!--"):
            continue
        if m := _CHAPTER.match(line):
            close()
            current, chapter, section = None, re.sub(r"\s+", " ", m[1]), None
        elif m := _SECTION.match(line):
            close()
            current, section = None, re.sub(r"\s+", " ", m[1])
        elif m := _ARTICLE.match(line):
            close()
            number = int(cn2an.cn2an(m[1], "normal"))
            label = f"第{m[1]}条" + (f"之{m[2]}" if m[2] else "")
            current = {
                "number": number,
                "label": label,
                "chapter": chapter,
                "section": section,
                "paragraphs": (m[3].strip(),) if m[3].strip() else (),
            }
        elif current is not None and not line.startswith("#"):
            current["paragraphs"] = (*current["paragraphs"], line)  # type: ignore[misc]
    close()
    return articles


def chunk_article(article: Article, max_chars: int = MAX_CHUNK_CHARS) -> list[Chunk]:
    """The whole article when it fits; otherwise consecutive paragraphs (款/项) up to max_chars each."""
    if len(article.text) <= max_chars:
        return [Chunk(article, 0, article.text)]
    chunks: list[Chunk] = []
    buffer: list[str] = []
    for paragraph in article.paragraphs:
        if buffer and sum(len(p) for p in buffer) + len(paragraph) > max_chars:
            chunks.append(Chunk(article, len(chunks) + 1, "\n".join(buffer)))
            buffer = []
        buffer.append(paragraph)
    if buffer:
        chunks.append(Chunk(article, len(chunks) + 1, "\n".join(buffer)))
    return chunks


def iter_chunks(regulations: list[Regulation]) -> Iterator[Chunk]:
    for regulation in regulations:
        for article in parse_articles(regulation):
            yield from chunk_article(article)


def clause_ids(regulations: list[Regulation]) -> set[str]:
    """Every clause id the corpus contains."""
    return {a.clause_id for r in regulations for a in parse_articles(r)}
