"""Whether the evidence answers the question: a logistic regression over evidence signals.

The coefficients, the features' means and scales and the decision thresholds are data
(`verifier.json`, next to this module), fitted with scikit-learn by `python -m eval tune
verifier` on the gold set and applied here with numpy alone: p = σ(w · (x − μ) / s + b), the
probability that the cited evidence answers the question; the question is refused when p
falls below its language's threshold. A refusal says why, in the question's language.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from indexer.types import Hit

from ..catalogue import Report
from .refusals import Cause, explain
from .signals import Evidence, Signals, extract

PACKAGED = Path(__file__).with_name("verifier.json")


@dataclass(frozen=True, slots=True)
class Judgement:
    """The verifier's call: answerable or not, how likely the evidence answers (0..1), and
    for a refusal the reason, a sentence for the reader (`cause`: what it rests on)."""

    answerable: bool
    confidence: float
    reason: str | None = None
    cause: Cause | None = None


class Judge(Protocol):
    """Anything that judges signals (the Verifier; a recorder while fitting)."""

    def judge(self, signals: Signals, where: str | None = None) -> Judgement: ...


@dataclass(frozen=True, slots=True)
class Verifier:
    """A fitted logistic regression over named signals.

    Attributes:
        features: the signals it reads (names of Signals.features), in coefficient order.
        mean, scale: each feature's standardisation.
        coef, intercept: the model, on standardised features.
        thresholds: per language ("zh", "en"), the probability below which it refuses.
        fitted: how it was fitted (command, data, folds, seed, cross-validated scores).
    """

    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    thresholds: Mapping[str, float]
    fitted: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n = len(self.features)
        if not (self.mean.shape == self.scale.shape == self.coef.shape == (n,)):
            raise ValueError(
                f"verifier: {n} features but mean {self.mean.shape}, scale {self.scale.shape}, "
                f"coef {self.coef.shape}"
            )
        if "zh" not in self.thresholds:
            raise ValueError("verifier: thresholds need a 'zh' entry")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Verifier:
        try:
            return cls(
                features=tuple(data["features"]),
                mean=np.asarray(data["mean"], dtype=np.float64),
                scale=np.asarray(data["scale"], dtype=np.float64),
                coef=np.asarray(data["coef"], dtype=np.float64),
                intercept=float(data["intercept"]),
                thresholds={str(k): float(v) for k, v in data["thresholds"].items()},
                fitted=dict(data.get("fitted", {})),
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"verifier: malformed coefficients ({exc!r})") from exc

    @classmethod
    def load(cls, path: Path = PACKAGED) -> Verifier:
        """The verifier stored at path (by default the one shipped in the package)."""
        if path == PACKAGED:
            return _packaged()
        return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))

    def to_dict(self) -> dict[str, Any]:
        return {
            "features": list(self.features),
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "coef": self.coef.tolist(),
            "intercept": self.intercept,
            "thresholds": dict(self.thresholds),
            "fitted": dict(self.fitted),
        }

    def probability(self, signals: Signals) -> float:
        """P(the evidence answers the question), σ(w · (x − μ) / s + b); a signal that could
        not be measured (NaN) counts as its mean."""
        z = np.nan_to_num((signals.vector(self.features) - self.mean) / self.scale, nan=0.0)
        return _sigmoid(float(self.coef @ z) + self.intercept)

    def threshold(self, lang: str) -> float:
        return self.thresholds.get(lang, self.thresholds["zh"])

    def judge(self, signals: Signals, where: str | None = None) -> Judgement:
        """Answerable when the probability reaches the language's threshold; a refusal
        names its reason (`where`: how the reason names the report, default 报告)."""
        p = self.probability(signals)
        if p >= self.threshold(signals.lang):
            return Judgement(True, p)
        cause, reason = explain(signals, where)
        return Judgement(False, p, reason, cause)


WEAK = Judgement(False, 0.0, None, "weak")


@dataclass(frozen=True, slots=True)
class Decider:
    """Whether some sentences answer: the verifier's judgement of their evidence signals,
    or without a verifier (or evidence) whether the best of them reaches min_score."""

    min_score: float
    lang: str
    verifier: Judge | None
    evidence: Evidence | None

    def __call__(
        self,
        hits: Sequence[Hit],
        texts: Sequence[str],
        scores: np.ndarray,
        where: str | None = None,
        report: Report | None = None,
    ) -> Judgement:
        """Judge the hits' sentences (`texts`, scored `scores`); `report`: judged as if
        that report alone were searched."""
        if self.verifier is None or self.evidence is None:
            ok = len(texts) > 0 and float(scores.max()) >= self.min_score
            return Judgement(True, 1.0) if ok else WEAK
        evidence = self.evidence if report is None else self.evidence.within(report.doc_id)
        return self.verifier.judge(extract(evidence, hits, texts, scores), where)


@cache
def _packaged() -> Verifier:
    return Verifier.from_dict(json.loads(PACKAGED.read_text(encoding="utf-8")))


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def fitted_verifier(
    features: Sequence[str],
    mean: Sequence[float],
    scale: Sequence[float],
    coef: Sequence[float],
    intercept: float,
    thresholds: Mapping[str, float],
    fitted: Mapping[str, Any],
) -> Verifier:
    """A Verifier from fitted numbers (eval.tune writes its to_dict() as verifier.json)."""
    return Verifier(
        tuple(features),
        np.asarray(mean, dtype=np.float64),
        np.asarray(scale, dtype=np.float64),
        np.asarray(coef, dtype=np.float64),
        float(intercept),
        dict(thresholds),
        dict(fitted),
    )
