"""YAML documents as plain data (mappings, lists, scalars), never objects.

The files shipped with the product (the packaged rule pack, lexicons, check defaults, catalogues) are read with
libyaml's safe loader where PyYAML has it: about ten times faster than the pure-Python one, and they are read at
every start. Anything else — a tenant's uploaded scorecard, an operator's file — goes through the pure-Python safe
loader: libyaml crashes the process (a segmentation fault) on a document nested a few hundred thousand levels deep,
where the pure-Python loader raises RecursionError, which callers turn into a clear error.
"""

from __future__ import annotations

from typing import Any

import yaml

_PACKAGED_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str, *, packaged: bool = False) -> Any:
    """The document in `text` as plain data; `packaged`: a file shipped with the product (see the module docstring).
    Raises yaml.YAMLError when it is not valid YAML, RecursionError when nested too deeply."""
    return yaml.load(text, Loader=_PACKAGED_LOADER if packaged else yaml.SafeLoader)  # safe loaders only
