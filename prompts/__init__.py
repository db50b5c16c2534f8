"""Prompt templates as files: front matter (name, version, language), then `## system` and `## user` sections.

Rendered with explicit variables only (str.format on the template; values are inserted, never parsed).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

PROMPTS_DIR = Path(__file__).resolve().parent
_SECTION = re.compile(r"^## (system|user)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Prompt:
    name: str
    version: str
    language: str
    system: str
    user: str

    def render(self, **variables: str) -> tuple[str, str]:
        """(system, user) with the variables filled in; a missing variable is a KeyError naming it."""
        return self.system.format(**variables), self.user.format(**variables)


@cache
def load_prompt(name: str, language: str = "zh") -> Prompt:
    """Load prompts/<name>.<language>.md."""
    path = PROMPTS_DIR / f"{name}.{language}.md"
    text = path.read_text(encoding="utf-8")
    _, front, body = text.split("---", 2)
    meta = yaml.safe_load(front)
    parts = _SECTION.split(body)
    sections = {parts[i]: parts[i + 1].strip() for i in range(1, len(parts) - 1, 2)}
    return Prompt(
        name=meta["name"],
        version=str(meta["version"]),
        language=meta["language"],
        system=sections["system"],
        user=sections["user"],
    )
