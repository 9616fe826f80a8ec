import math

import pytest

from rag_chatbot.evaluation import EvaluationThresholds, passes

GOOD = {
    "answer_correctness": 0.82,
    "faithfulness": 0.91,
    "toxicity": 0.01,
    "latency_p95_seconds": 2.4,
}


def test_good_metrics_pass():
    assert passes(GOOD, EvaluationThresholds()) == (True, [])


def test_metrics_exactly_at_thresholds_pass():
    thresholds = EvaluationThresholds()
    metrics = {
        "answer_correctness": thresholds.min_answer_correctness,
        "faithfulness": thresholds.min_faithfulness,
        "toxicity": thresholds.max_toxicity,
        "latency_p95_seconds": thresholds.max_latency_p95_seconds,
    }
    assert passes(metrics, thresholds) == (True, [])


def test_low_correctness_and_high_toxicity_fail_with_reasons():
    metrics = dict(GOOD, answer_correctness=0.5, toxicity=0.3)
    ok, reasons = passes(metrics, EvaluationThresholds())
    assert not ok
    assert reasons == [
        "answer_correctness 0.500 is below the minimum 0.700",
        "toxicity 0.300 is above the maximum 0.100",
    ]


def test_slow_model_fails():
    ok, reasons = passes(dict(GOOD, latency_p95_seconds=9.0), EvaluationThresholds())
    assert not ok
    assert reasons == ["latency_p95_seconds 9.000 is above the maximum 5.000"]


def test_missing_metric_fails():
    metrics = dict(GOOD)
    del metrics["faithfulness"]
    assert passes(metrics, EvaluationThresholds()) == (False, ["missing metric 'faithfulness'"])


def test_nan_metric_fails():
    ok, reasons = passes(dict(GOOD, faithfulness=math.nan), EvaluationThresholds())
    assert not ok
    assert reasons == ["metric 'faithfulness' is not a finite number: nan"]


def test_thresholds_out_of_range_are_rejected():
    with pytest.raises(ValueError, match="min_faithfulness"):
        EvaluationThresholds(min_faithfulness=1.5)


def test_non_positive_latency_is_rejected():
    with pytest.raises(ValueError, match="max_latency_p95_seconds"):
        EvaluationThresholds(max_latency_p95_seconds=0)


def test_from_mapping_reads_job_parameter_strings():
    thresholds = EvaluationThresholds.from_mapping(
        {"min_answer_correctness": "0.6", "max_toxicity": "0.05", "catalog": "dev", "min_faithfulness": ""}
    )
    assert thresholds == EvaluationThresholds(min_answer_correctness=0.6, max_toxicity=0.05)


def test_from_mapping_rejects_non_numbers():
    with pytest.raises(ValueError, match="max_toxicity must be a number, got 'low'"):
        EvaluationThresholds.from_mapping({"max_toxicity": "low"})
