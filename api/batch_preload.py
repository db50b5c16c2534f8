"""Imported by the batch's fork server only (`api.batch`), never by the CLI itself: loads the evaluation stack and
the models every worker uses whatever the settings (jieba's dictionary, the LAC name tagger), so the workers forked
from the server share those pages copy-on-write instead of each loading its own copy.

The garbage collector's bookkeeping would otherwise write to every shared object on the first collection in each
worker (copying the pages), so everything loaded here is frozen out of collection.
"""

from __future__ import annotations

import gc
import importlib
import logging

import jieba

from tools.ner import default_tagger

# The evaluation stack (LangGraph, SQLAlchemy, the rule engine's and tier 1's libraries).
for _module in ("graphs.supervisor", "graphs.wiring", "core.store_batch", "tools.small_model"):
    importlib.import_module(_module)
jieba.setLogLevel(logging.WARNING)
jieba.initialize()
default_tagger()
gc.freeze()
