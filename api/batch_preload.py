"""Imported by the batch's fork server only (`api.batch`), never by the CLI itself: loads the evaluation stack and
the models every worker uses, so the workers forked from the server share those pages copy-on-write instead of each
loading its own copy.

What does not depend on the settings is loaded for any batch: jieba's dictionary, the LAC name tagger, the
libraries. The rule engine and tier 1 are built from the settings the server sees (its environment: the defaults
unless ZHIJIAN_* variables say otherwise) and used by a worker only when its batch has the same ones
(`reusable_context`); a sample conversation is evaluated once, without storing anything, so that what the first
evaluation loads or caches is shared too. The garbage collector's bookkeeping would otherwise write to every shared
object on the first collection in each worker (copying the pages), so everything loaded here is frozen out of it.
"""

from __future__ import annotations

import gc
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agents.qm.context import QMContext
    from core.settings import Settings


def _judging_settings(settings: Settings) -> dict[str, Any]:
    """The settings a QM context's rule engine, tier 1 and ticket policy are built from."""
    return settings.model_dump(
        include={"rule_pack", "small_models", "small_model_path", "max_turn_chars", "ticket_due_days"}
    )


def _preload() -> tuple[dict[str, Any], QMContext] | None:
    from api.batch import warm
    from core.settings import Settings
    from graphs.wiring import build_qm_context, load_small_models
    from tools.ner import default_tagger
    from tools.segment import tokenizer

    tokenizer()
    default_tagger()
    settings = Settings()
    try:
        context = build_qm_context(settings, store=None, small_models=load_small_models(settings))
        warm(context)
    except Exception:  # a pack or model these settings cannot load: workers build theirs (and say why)
        return None
    return _judging_settings(settings), context


def reusable_context(settings: Settings) -> QMContext | None:
    """The context built here, when `settings` would build the same rule engine, tier 1 and ticket policy."""
    if _PRELOADED is None or _judging_settings(settings) != _PRELOADED[0]:
        return None
    return _PRELOADED[1]


# No collection while loading (it would leave freed holes in pages the workers then write to), then everything
# frozen out of the collector; each worker turns it back on (api.batch._start_worker).
gc.disable()
_PRELOADED = _preload()
gc.freeze()
