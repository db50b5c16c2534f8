"""Tier 1: small models that generalise over wording (大小模型协同的"小模型").

Per-code classifiers over character n-grams and multilingual-e5-small embeddings of each turn and its
context, with calibrated probabilities and per-code thresholds chosen on the development part of the
labelled sets. They add failures the regular expressions miss and veto regex hits they are sure of.
Importing this package is cheap: numpy and the embedding model load only when first used; training
(scikit-learn) lives in `tools.small_model.training` and is never imported by inference.
"""

from tools.small_model.tier import SmallModelTier

__all__ = ["SmallModelTier"]
