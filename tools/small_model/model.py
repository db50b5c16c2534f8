"""The tier-1 artifact: per-code linear classifiers with Platt calibration, policies and an example library.

Stored as `manifest.json` (version, features, policies, training sizes, cross-validated figures) beside
`weights.npz` (vocabulary, idf, coefficients, optional example embeddings); loading needs numpy only."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
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
FORMAT = 3  # 3: n-grams of the Mandarin reading (tools/dialect.py); 唔 no longer dropped as a filler
DEFAULT_MODEL_DIR = Path(__file__).resolve().parents[2] / "knowledge" / "models" / "tier1"


class ModelArtifactError(ZhijianError):
    """A tier-1 model folder is missing, incomplete or of another format."""


@dataclass(frozen=True)
class CodePolicy:
    """How tier 1 may act on one code.

    It adds a failure when the best unit reaches `threshold` (None: never), looking only at the last `window`
    units of the code's role when the code is about the end of the call (None: every unit); it overturns a rule
    failure whose evidence units all score below `veto` (None: never)."""

    code: str
    role: Role
    threshold: float | None
    veto: float | None
    platt: tuple[float, float]
    window: int | None = None


@dataclass
class TierOneModel:
    """Per-code classifiers over [TF-IDF(turn) ⊕ TF-IDF(context) ⊕ e5(turn) ⊕ e5(context)], calibrated.

    The embedding blocks are optional: a model trained without them has zero-row `coef_text`/`coef_context` and
    needs no embedding model at inference."""

    version: str
    policies: list[CodePolicy]
    vocabulary: dict[str, int]
    idf: npt.NDArray[np.float32]
    coef_ngrams: Matrix  # vocabulary × codes
    coef_context_ngrams: Matrix  # vocabulary × codes
    coef_text: Matrix  # embedding dim (or 0) × codes
    coef_context: Matrix  # embedding dim (or 0) × codes
    intercept: Matrix  # codes
    example_codes: list[str]
    example_texts: list[str]
    example_vectors: Matrix  # examples × embedding dim (l2-normalised); 0 columns without embeddings
    manifest: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def ngrams(self) -> NgramWeights:
        """The TF-IDF rows of this model's vocabulary (built once; it caches rows by text)."""
        return NgramWeights(self.vocabulary, self.idf)

    @property
    def codes(self) -> list[str]:
        """The codes the model scores, in column order."""
        return [p.code for p in self.policies]

    @property
    def uses_embeddings(self) -> bool:
        """Whether scoring needs turn embeddings (otherwise TF-IDF alone, numpy only)."""
        return bool(self.coef_text.shape[0])

    def policy(self, code: str) -> CodePolicy | None:
        """The policy of one code, if the model scores it."""
        return next((p for p in self.policies if p.code == code), None)

    def logits(
        self, units: list[Unit], text_vectors: Matrix | None = None, context_vectors: Matrix | None = None
    ) -> Matrix:
        """Uncalibrated scores of each unit for each code (units × codes), role not yet applied."""
        ngrams = self.ngrams
        result: Matrix = (
            ngrams.scores([u.text for u in units], self.coef_ngrams)
            + ngrams.scores([u.context for u in units], self.coef_context_ngrams)
            + self.intercept
        )
        if self.uses_embeddings:
            if text_vectors is None or context_vectors is None:
                raise ValueError(f"tier-1 model {self.version} scores embeddings: pass the turn and context vectors")
            result = result + text_vectors @ self.coef_text + context_vectors @ self.coef_context
        return result

    def probabilities(
        self, units: list[Unit], text_vectors: Matrix | None = None, context_vectors: Matrix | None = None
    ) -> Matrix:
        """Calibrated violation probability of each unit for each code (units × codes); 0 where roles differ."""
        if not units:
            return np.zeros((0, len(self.policies)), dtype=np.float32)
        logits = self.logits(units, text_vectors, context_vectors)
        slope = np.asarray([p.platt[0] for p in self.policies], dtype=np.float32)
        offset = np.asarray([p.platt[1] for p in self.policies], dtype=np.float32)
        calibrated = 1.0 / (1.0 + np.exp(-(slope * logits + offset)))
        roles = np.asarray([[u.role is p.role for p in self.policies] for u in units])
        return np.where(roles, calibrated, 0.0).astype(np.float32)

    def nearest_example(self, code: str, text: str, vector: Matrix | None = None) -> str | None:
        """The labelled violation of `code` most similar to a turn (by embedding when stored, else by TF-IDF)."""
        rows = [i for i, c in enumerate(self.example_codes) if c == code]
        if not rows:
            return None
        if vector is not None and self.example_vectors.shape[1]:
            similarity = self.example_vectors[rows] @ vector
            return self.example_texts[rows[int(np.argmax(similarity))]]
        columns, weights = self.ngrams.rows([text])[0]
        query = np.zeros(len(self.vocabulary), dtype=np.float32)
        query[columns] = weights
        example_rows, example_columns, example_weights = self._example_rows[code]
        overlap = np.bincount(example_rows, weights=example_weights * query[example_columns], minlength=len(rows))
        return self.example_texts[rows[int(np.argmax(overlap))]]

    @cached_property
    def _example_rows(self) -> dict[str, tuple[npt.NDArray[np.int32], npt.NDArray[np.int32], Matrix]]:
        """Per code, the TF-IDF rows of its labelled examples flattened into (example, column, weight) arrays, so
        that one sparse product scores a turn against all of them (built on the first explanation)."""
        by_code: dict[str, list[str]] = {}
        for code, text in zip(self.example_codes, self.example_texts, strict=True):
            by_code.setdefault(code, []).append(text)
        flattened = {}
        for code, texts in by_code.items():
            rows = [self.ngrams.compute_row(text) for text in texts]
            flattened[code] = (
                np.concatenate([np.full(len(c), i, dtype=np.int32) for i, (c, _) in enumerate(rows)]),
                np.concatenate([c for c, _ in rows]).astype(np.int32),
                np.concatenate([w for _, w in rows]),
            )
        return flattened

    def save(self, folder: Path) -> None:
        """Write manifest.json and weights.npz into `folder`."""
        folder.mkdir(parents=True, exist_ok=True)
        words = sorted(self.vocabulary, key=self.vocabulary.__getitem__)
        np.savez_compressed(
            folder / WEIGHTS,
            vocabulary=np.asarray(words, dtype=str),
            idf=self.idf.astype(np.float32),
            coef_ngrams=self.coef_ngrams.astype(np.float16),
            coef_context_ngrams=self.coef_context_ngrams.astype(np.float16),
            coef_text=self.coef_text.astype(np.float32),
            coef_context=self.coef_context.astype(np.float32),
            intercept=self.intercept.astype(np.float32),
            example_vectors=self.example_vectors.astype(np.float16),
        )
        manifest = {
            **self.manifest,
            "format": FORMAT,
            "version": self.version,
            "features": "tfidf+e5" if self.uses_embeddings else "tfidf",
            "policies": [
                {
                    "code": p.code,
                    "role": p.role.value,
                    "threshold": p.threshold,
                    "veto": p.veto,
                    "window": p.window,
                    "platt": list(p.platt),
                }
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
            arrays = dict(np.load(folder / WEIGHTS, allow_pickle=False))
        except (OSError, ValueError) as exc:
            raise ModelArtifactError(
                f"{folder}: not a tier-1 model folder ({exc}); build one with `zhijian train`"
            ) from None
        if manifest.get("format") != FORMAT:
            raise ModelArtifactError(
                f"{folder}: model format {manifest.get('format')!r}, expected {FORMAT}; retrain with `zhijian train`"
            )
        policies = [
            CodePolicy(
                code=p["code"],
                role=Role(p["role"]),
                threshold=p["threshold"],
                veto=p["veto"],
                platt=(float(p["platt"][0]), float(p["platt"][1])),
                window=p.get("window"),
            )
            for p in manifest["policies"]
        ]
        examples = manifest.pop("examples")
        return cls(
            version=manifest["version"],
            policies=policies,
            vocabulary={str(w): i for i, w in enumerate(arrays["vocabulary"].tolist())},
            idf=arrays["idf"],
            coef_ngrams=arrays["coef_ngrams"].astype(np.float32),
            coef_context_ngrams=arrays["coef_context_ngrams"].astype(np.float32),
            coef_text=arrays["coef_text"],
            coef_context=arrays["coef_context"],
            intercept=arrays["intercept"],
            example_codes=[e["code"] for e in examples],
            example_texts=[e["text"] for e in examples],
            example_vectors=arrays["example_vectors"].astype(np.float32),
            manifest=manifest,
        )
