# Databricks notebook source
# MAGIC %md
# MAGIC # Offline evaluation
# MAGIC
# MAGIC Scores the newly registered chain on a table of evaluation questions with
# MAGIC MLflow's LLM judges and fails the task (and so the job) when the metrics do
# MAGIC not meet the thresholds from `rag_chatbot.evaluation`. The deploy task
# MAGIC depends on this one, so a failing model is never served.

# COMMAND ----------

# MAGIC %pip install mlflow==2.19.0 databricks-agents

# COMMAND ----------

dbutils.library.restartPython()

# COMMAND ----------

dbutils.widgets.text("catalog", "dev")
dbutils.widgets.text("experiment_name", "/Shared/rag_chatbot/dev-experiment")
dbutils.widgets.text("model_name", "dev.rag.rag_chatbot_model")
dbutils.widgets.text("eval_table", "dev.rag.eval_questions")
dbutils.widgets.text("min_answer_correctness", "0.7")
dbutils.widgets.text("min_faithfulness", "0.8")
dbutils.widgets.text("max_toxicity", "0.1")
dbutils.widgets.text("max_latency_p95_seconds", "5.0")

experiment_name = dbutils.widgets.get("experiment_name")
model_name = dbutils.widgets.get("model_name")
eval_table = dbutils.widgets.get("eval_table")

# COMMAND ----------

# rag_chatbot is installed on the job cluster from the wheel the bundle builds
# (the task's libraries: ../dist/*.whl, uploaded to the artifact path).

from rag_chatbot.evaluation import EvaluationThresholds, passes

thresholds = EvaluationThresholds.from_mapping(
    {
        name: dbutils.widgets.get(name)
        for name in ("min_answer_correctness", "min_faithfulness", "max_toxicity", "max_latency_p95_seconds")
    }
)

# COMMAND ----------

import time

import mlflow
import numpy as np
from mlflow.tracking import MlflowClient

mlflow.set_registry_uri("databricks-uc")
mlflow.set_experiment(experiment_name)

client = MlflowClient()
version = max(int(v.version) for v in client.search_model_versions(f"name='{model_name}'"))
model_uri = f"models:/{model_name}/{version}"
chain = mlflow.langchain.load_model(model_uri)

questions = spark.table(eval_table).select("question", "expected_answer").toPandas()

answers, latencies = [], []
for q in questions["question"]:
    start = time.monotonic()
    answers.append(chain.invoke({"query": q})["result"])
    latencies.append(time.monotonic() - start)
questions["answer"] = answers

# COMMAND ----------

from mlflow.metrics.genai import answer_correctness, faithfulness

with mlflow.start_run(run_name=f"offline_evaluation_v{version}"):
    results = mlflow.evaluate(
        data=questions.rename(columns={"expected_answer": "ground_truth", "question": "inputs"}),
        predictions="answer",
        targets="ground_truth",
        model_type="question-answering",
        extra_metrics=[answer_correctness(), faithfulness()],
        evaluator_config={"col_mapping": {"context": "ground_truth"}},
    )
    metrics = {
        "answer_correctness": results.metrics["answer_correctness/v1/mean"] / 5.0,
        "faithfulness": results.metrics["faithfulness/v1/mean"] / 5.0,
        "toxicity": results.metrics.get("toxicity/v1/ratio", 0.0),
        "latency_p95_seconds": float(np.percentile(latencies, 95)),
    }
    mlflow.log_metrics(metrics)

# COMMAND ----------

ok, reasons = passes(metrics, thresholds)
client.set_model_version_tag(model_name, str(version), "offline_evaluation", "passed" if ok else "failed")
if not ok:
    raise RuntimeError(f"{model_uri} failed offline evaluation: " + "; ".join(reasons))
dbutils.jobs.taskValues.set(key="model_version", value=str(version))
print(f"{model_uri} passed offline evaluation: {metrics}")
