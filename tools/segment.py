"""Chinese word segmentation: jieba's algorithm and dictionary, with the dictionary kept in a memory-mapped trie.

jieba holds its prefix dictionary as a Python dict of ~584,000 strings (every word and every prefix of one) and
ints: about 65 MB in every process that segments text, and pages that forked workers copy as they read it (a
lookup changes the value's reference count). Here the same words and frequencies live in a MARISA trie and an
array of counts, written once to a cache file and memory-mapped read-only, so every process on the machine shares
one copy of a few megabytes, and nothing in them is ever written.

The segmentation is jieba's own (`jieba.Tokenizer`: the DAG of dictionary words, the maximum-probability route,
the HMM for unknown words); only its two dictionary lookups are answered from the trie, so the tokens are the ones
jieba gives for the same dictionary (a test compares them on every labelled turn).
"""

from __future__ import annotations

import hashlib
import logging
import mmap
import os
import tempfile
from collections.abc import Iterator, Mapping
from functools import cache
from math import log
from pathlib import Path
from typing import Any

import jieba
import marisa_trie

_FORMAT = 1  # bump when the cache files' layout changes
_HEADER = 16  # bytes before the counts: the total count and the longest word's length


class TrieFrequencies(Mapping[str, int]):
    """jieba's prefix dictionary (word → count, 0 for a prefix that is not itself a word), read-only, over a trie
    of the words with a count and an array of the counts in trie-id order."""

    def __init__(self, words: marisa_trie.Trie, counts: memoryview) -> None:
        self._words = words
        self._counts = counts

    def word_count(self, word: str) -> int | None:
        """The count of a dictionary word; None when `word` is not one."""
        index = self._words.get(word)
        return None if index is None else int(self._counts[index])

    @property
    def counts(self) -> memoryview:
        """The words' counts, indexed by trie id."""
        return self._counts

    def words_at(self, text: str) -> list[tuple[str, int]]:
        """The dictionary words `text` starts with, shortest first, with their trie ids."""
        return list(self._words.iter_prefixes_with_ids(text))

    def get(self, key: str, default: Any = None) -> Any:
        count = self.word_count(key)
        if count is not None:
            return count
        return 0 if self._is_prefix(key) else default

    def __getitem__(self, key: str) -> int:
        count = self.get(key)
        if count is None:
            raise KeyError(key)
        return int(count)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and (key in self._words or self._is_prefix(key))

    def _is_prefix(self, key: str) -> bool:
        return bool(key) and next(iter(self._words.iterkeys(key)), None) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self._words.iterkeys())

    def __len__(self) -> int:
        return len(self._words)


class _CountedDAG(dict[int, list[int]]):
    """A DAG that also carries each word's count (`counts[k][j]` for the word ending at `self[k][j]`)."""

    def __init__(self) -> None:
        super().__init__()
        self.counts: dict[int, list[int]] = {}


class CompactTokenizer(jieba.Tokenizer):  # type: ignore[misc]
    """A jieba tokenizer whose dictionary is a `TrieFrequencies` (never loads jieba's dict). Read-only: jieba's
    `add_word`, `del_word` and `load_userdict` are not available on it."""

    def __init__(self, frequencies: TrieFrequencies, total: int, longest: int) -> None:
        super().__init__()
        self.FREQ = frequencies
        self.total = total
        self._longest = longest
        self.initialized = True  # jieba would otherwise load its own dictionary on first use

    def get_DAG(self, sentence: str) -> dict[int, list[int]]:
        """jieba's DAG: for each position, the end positions of the dictionary words starting there (or itself);
        their counts ride along for `calc`, which would otherwise look each word up again."""
        dag = _CountedDAG()
        words_at, counts, longest = self.FREQ.words_at, self.FREQ.counts, self._longest
        for k in range(len(sentence)):
            found = words_at(sentence[k : k + longest])
            if found:
                dag[k] = [k + len(word) - 1 for word, _ in found]
                dag.counts[k] = [counts[index] for _, index in found]
            else:
                dag[k], dag.counts[k] = [k], [0]
        return dag

    def calc(self, sentence: str, DAG: dict[int, list[int]], route: dict[int, tuple[float, int]]) -> None:
        """jieba's maximum-probability route over the DAG (the same arithmetic, counts taken from the DAG)."""
        if not isinstance(DAG, _CountedDAG):
            super().calc(sentence, DAG, route)
            return
        n = len(sentence)
        route[n] = (0, 0)
        logtotal = log(self.total)
        for idx in range(n - 1, -1, -1):
            route[idx] = max(
                (log(count or 1) - logtotal + route[x + 1][0], x)
                for x, count in zip(DAG[idx], DAG.counts[idx], strict=True)
            )

    def add_word(self, *args: object, **kwargs: object) -> None:
        raise TypeError("the shared dictionary is read-only")

    def del_word(self, *args: object, **kwargs: object) -> None:
        raise TypeError("the shared dictionary is read-only")

    def load_userdict(self, *args: object, **kwargs: object) -> None:
        raise TypeError("the shared dictionary is read-only")


def _dictionary_path() -> Path:
    return Path(jieba.__file__).resolve().parent / "dict.txt"


def _cache_paths(dictionary: Path) -> tuple[Path, Path]:
    """The trie and counts files for `dictionary`, in the first cache folder that can be written: ZHIJIAN_CACHE_DIR,
    else $XDG_CACHE_HOME/zhijian (~/.cache/zhijian), else a folder of this user's in the temporary directory."""
    stat = dictionary.stat()
    key = hashlib.sha256(f"{_FORMAT}:{dictionary}:{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()[:16]
    folders = [Path(os.environ["ZHIJIAN_CACHE_DIR"])] if os.environ.get("ZHIJIAN_CACHE_DIR") else []
    folders.append(Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "zhijian")
    folders.append(Path(tempfile.gettempdir()) / f"zhijian-{os.getuid()}")
    for folder in folders:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        if os.access(folder, os.W_OK):
            break
    return folder / f"jieba-{key}.marisa", folder / f"jieba-{key}.counts"


def _build(dictionary: Path, words_path: Path, counts_path: Path) -> None:
    """Write the trie and the counts (a header — the total count as uint64, the longest word's length as uint64 —
    then the counts as uint32 in trie-id order) from jieba's dictionary,
    read by jieba's own parser; each file is written under a temporary name and renamed, so a process that finds
    a file finds it whole."""
    with dictionary.open("rb") as f:
        frequencies, total = jieba.Tokenizer.gen_pfdict(f)
    words = {word: count for word, count in frequencies.items() if count}
    del frequencies
    trie = marisa_trie.Trie(words)
    longest = max(map(len, words))
    counts = bytearray(_HEADER + 4 * len(trie))
    counts[:_HEADER] = total.to_bytes(8, "little") + longest.to_bytes(8, "little")
    view = memoryview(counts)[_HEADER:].cast("I")
    for word, count in words.items():
        view[trie[word]] = count
    view.release()
    partial = counts_path.with_name(f"{counts_path.name}.{os.getpid()}.partial")
    partial.write_bytes(counts)
    os.replace(partial, counts_path)
    partial = words_path.with_name(f"{words_path.name}.{os.getpid()}.partial")
    trie.save(str(partial))
    os.replace(partial, words_path)  # the trie last: it is what marks the pair complete


def _open(words_path: Path, counts_path: Path) -> CompactTokenizer:
    """The tokenizer over the cache files; ValueError when they are missing, damaged or do not match."""
    words = marisa_trie.Trie()
    try:
        words.mmap(str(words_path))
        with counts_path.open("rb") as f:
            mapped = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, RuntimeError, ValueError) as exc:
        raise ValueError(f"segmentation cache {words_path} unreadable: {exc}") from None
    if len(mapped) != _HEADER + 4 * len(words):
        raise ValueError(f"segmentation cache {counts_path} does not match {words_path}")
    total, longest = int.from_bytes(mapped[:8], "little"), int.from_bytes(mapped[8:_HEADER], "little")
    return CompactTokenizer(TrieFrequencies(words, memoryview(mapped)[_HEADER:].cast("I")), total, longest)


@cache
def tokenizer() -> CompactTokenizer:
    """The process's tokenizer over jieba's default dictionary: its trie is built into a cache folder on first use
    (see `_cache_paths`; ~1 s) and mapped from there afterwards; a damaged cache is built again."""
    jieba.setLogLevel(logging.WARNING)
    dictionary = _dictionary_path()
    words_path, counts_path = _cache_paths(dictionary)
    try:
        return _open(words_path, counts_path)
    except ValueError:
        _build(dictionary, words_path, counts_path)
        return _open(words_path, counts_path)
