"""YAML documents read with libyaml's safe loader when PyYAML was built with it (about ten times faster than the
pure-Python one: the rule pack, lexicons and catalogues are read at every start), else the pure-Python safe loader.
Both build only plain data (mappings, lists, scalars), never objects."""

from __future__ import annotations

from typing import Any

import yaml

_SafeLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str) -> Any:
    """The document in `text` as plain data (raises yaml.YAMLError when it is not valid YAML)."""
    return yaml.load(text, Loader=_SafeLoader)  # a safe loader (C or Python), never yaml.Loader
