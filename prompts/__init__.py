"""Prompt templates as files: front matter (name, version, language), then `## <section>` sections.

`## system` and `## user` make the chat messages; further sections (e.g. `## rule`, `## repair`) are pieces
the caller renders on their own. Rendered with explicit variables only (str.format on the template; values are
inserted, never parsed).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

PROMPTS_DIR = Path(__file__).resolve().parent
_SECTION = re.compile(r"^## ([a-z_]+)\s*$", re.MULTILINE)


class PromptSectionMissing(KeyError):
    """A prompt file has no section of the requested name."""


@dataclass(frozen=True)
class Prompt:
    """One prompt file: its version travels with every verdict rendered from it."""

    name: str
    version: str
    language: str
    system: str
    user: str
    sections: dict[str, str] = field(default_factory=dict)

    def render(self, **variables: str) -> tuple[str, str]:
        """(system, user) with the variables filled in; a missing variable is a KeyError naming it."""
        return self.system.format(**variables), self.user.format(**variables)

    def render_section(self, section: str, **variables: str) -> str:
        """Another section of the file with the variables filled in."""
        if section not in self.sections:
            raise PromptSectionMissing(f"prompt {self.name}.{self.language} has no section '## {section}'")
        return self.sections[section].format(**variables)


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
        system=sections.pop("system"),
        user=sections.pop("user"),
        sections=sections,
    )
