"""The tier-1 artifact: per-code linear classifiers with Platt calibration, thresholds and example library.

Stored as `manifest.json` (version, codes, thresholds, training sizes, cross-validated figures) beside
`weights.npz` (vocabulary, idf, coefficients, example embeddings); loading needs numpy only."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from core.errors import ZhijianError
from core.models import Role
from tools.small_model.features import Matrix, NgramWeights
from tools.small_model.units import Unit

MANIFEST = "manifest.json"
WEIGHTS = "weights.npz"
FORMAT = 1
DEFAULT_MODEL_DIR = Path(__file__).resolve().parents[2] / "knowledge" / "models" / "tier1"


class ModelArtifactError(ZhijianError):
    """A tier-1 model folder is missing, incomplete or of another format."""


@dataclass(frozen=True)
class CodePolicy:
    """How tier 1 may act on one code: add failures at/above `threshold`, veto rule failures below `veto`."""

    code: str
    role: Role
    threshold: float | None
    veto: float | None
    platt: tuple[float, float]


@dataclass
class TierOneModel:
    """Per-code classifiers over [TF-IDF(turn) ⊕ e5(turn) ⊕ e5(context)], calibrated, with policies."""

    version: str
    policies: list[CodePolicy]
    vocabulary: dict[str, int]
    idf: npt.NDArray[np.float32]
    coef_ngrams: Matrix  # vocabulary × codes
    coef_text: Matrix  # embedding dim × codes
    coef_context: Matrix  # embedding dim × codes
    intercept: Matrix  # codes
    example_codes: list[str]
    example_texts: list[str]
    example_vectors: Matrix  # examples × embedding dim (l2-normalised)
    manifest: dict[str, Any] = field(default_factory=dict)

    @property
    def codes(self) -> list[str]:
        """The codes the model scores, in column order."""
        return [p.code for p in self.policies]

    def policy(self, code: str) -> CodePolicy | None:
        """The policy of one code, if the model scores it."""
        return next((p for p in self.policies if p.code == code), None)

    def probabilities(self, units: list[Unit], text_vectors: Matrix, context_vectors: Matrix) -> Matrix:
        """Calibrated violation probability of each unit for each code (units × codes); 0 where roles differ."""
        if not units:
            return np.zeros((0, len(self.policies)), dtype=np.float32)
        ngrams = NgramWeights(self.vocabulary, self.idf)
        logits = (
            ngrams.scores([u.text for u in units], self.coef_ngrams)
            + text_vectors @ self.coef_text
            + context_vectors @ self.coef_context
            + self.intercept
        )
        slope = np.asarray([p.platt[0] for p in self.policies], dtype=np.float32)
        offset = np.asarray([p.platt[1] for p in self.policies], dtype=np.float32)
        calibrated = 1.0 / (1.0 + np.exp(-(slope * logits + offset)))
        roles = np.asarray([[u.role is p.role for p in self.policies] for u in units])
        return np.where(roles, calibrated, 0.0).astype(np.float32)

    def nearest_example(self, code: str, vector: Matrix) -> str | None:
        """The labelled violation of `code` most similar to a turn's embedding."""
        rows = [i for i, c in enumerate(self.example_codes) if c == code]
        if not rows:
            return None
        similarity = self.example_vectors[rows] @ vector
        return self.example_texts[rows[int(np.argmax(similarity))]]

    def save(self, folder: Path) -> None:
        """Write manifest.json and weights.npz into `folder`."""
        folder.mkdir(parents=True, exist_ok=True)
        words = sorted(self.vocabulary, key=self.vocabulary.__getitem__)
        np.savez_compressed(
            folder / WEIGHTS,
            vocabulary=np.asarray(words, dtype=str),
            idf=self.idf.astype(np.float32),
            coef_ngrams=self.coef_ngrams.astype(np.float16),
            coef_text=self.coef_text.astype(np.float32),
            coef_context=self.coef_context.astype(np.float32),
            intercept=self.intercept.astype(np.float32),
            example_vectors=self.example_vectors.astype(np.float16),
        )
        manifest = {
            **self.manifest,
            "format": FORMAT,
            "version": self.version,
            "policies": [
                {"code": p.code, "role": p.role.value, "threshold": p.threshold, "veto": p.veto, "platt": list(p.platt)}
                for p in self.policies
            ],
            "examples": [{"code": c, "text": t} for c, t in zip(self.example_codes, self.example_texts, strict=True)],
        }
        (folder / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> TierOneModel:
        """Read a model folder written by `save`."""
        try:
            manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
            arrays = np.load(folder / WEIGHTS, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise ModelArtifactError(
                f"{folder}: not a tier-1 model folder ({exc}); build one with `zhijian train`"
            ) from None
        if manifest.get("format") != FORMAT:
            raise ModelArtifactError(f"{folder}: model format {manifest.get('format')!r}, expected {FORMAT}")
        policies = [
            CodePolicy(
                code=p["code"],
                role=Role(p["role"]),
                threshold=p["threshold"],
                veto=p["veto"],
                platt=(float(p["platt"][0]), float(p["platt"][1])),
            )
            for p in manifest["policies"]
        ]
        examples = manifest.pop("examples")
        return cls(
            version=manifest["version"],
            policies=policies,
            vocabulary={str(w): i for i, w in enumerate(arrays["vocabulary"])},
            idf=arrays["idf"],
            coef_ngrams=arrays["coef_ngrams"].astype(np.float32),
            coef_text=arrays["coef_text"],
            coef_context=arrays["coef_context"],
            intercept=arrays["intercept"],
            example_codes=[e["code"] for e in examples],
            example_texts=[e["text"] for e in examples],
            example_vectors=arrays["example_vectors"].astype(np.float32),
            manifest=manifest,
        )
