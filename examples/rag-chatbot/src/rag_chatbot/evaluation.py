"""Quality gates the offline evaluation must pass before a model is deployed."""

import math
from dataclasses import dataclass, fields


@dataclass(frozen=True)
class EvaluationThresholds:
    """Minimum quality and maximum cost a candidate model must meet.

    Scores are fractions in [0, 1]; latency is in seconds.
    """

    min_answer_correctness: float = 0.7
    min_faithfulness: float = 0.8
    max_toxicity: float = 0.1
    max_latency_p95_seconds: float = 5.0

    def __post_init__(self):
        for name in ("min_answer_correctness", "min_faithfulness", "max_toxicity"):
            value = getattr(self, name)
            if not _is_number(value) or not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be a number between 0 and 1, got {value!r}")
        if not _is_number(self.max_latency_p95_seconds) or self.max_latency_p95_seconds <= 0:
            raise ValueError(
                f"max_latency_p95_seconds must be a positive number, got {self.max_latency_p95_seconds!r}"
            )

    @classmethod
    def from_mapping(cls, values):
        """Build thresholds from strings or numbers (for example job parameters).

        Keys that are not thresholds are ignored; missing keys keep their defaults.
        """
        known = {f.name for f in fields(cls)}
        kwargs = {}
        for key, raw in values.items():
            if key not in known or raw is None or raw == "":
                continue
            try:
                kwargs[key] = float(raw)
            except (TypeError, ValueError):
                raise ValueError(f"{key} must be a number, got {raw!r}") from None
        return cls(**kwargs)


# metric name -> (threshold field, True when higher is better)
_GATES = (
    ("answer_correctness", "min_answer_correctness", True),
    ("faithfulness", "min_faithfulness", True),
    ("toxicity", "max_toxicity", False),
    ("latency_p95_seconds", "max_latency_p95_seconds", False),
)


def passes(metrics, thresholds):
    """Check evaluation metrics against thresholds.

    Returns (ok, reasons): ok is True only when every gated metric is present,
    a finite number and within its threshold; reasons lists each violation in
    a fixed order. A metric exactly at its threshold passes.
    """
    reasons = []
    for metric, field_name, higher_is_better in _GATES:
        limit = getattr(thresholds, field_name)
        if metric not in metrics:
            reasons.append(f"missing metric {metric!r}")
            continue
        value = metrics[metric]
        if not _is_number(value) or math.isnan(value) or math.isinf(value):
            reasons.append(f"metric {metric!r} is not a finite number: {value!r}")
            continue
        if higher_is_better and value < limit:
            reasons.append(f"{metric} {value:.3f} is below the minimum {limit:.3f}")
        elif not higher_is_better and value > limit:
            reasons.append(f"{metric} {value:.3f} is above the maximum {limit:.3f}")
    return (not reasons, reasons)


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)
