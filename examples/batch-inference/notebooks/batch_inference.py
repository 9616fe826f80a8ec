# Databricks notebook source
# MAGIC %md
# MAGIC # Batch inference
# MAGIC
# MAGIC Answers every question of the chatbot's evaluation table with the
# MAGIC registered model's `champion` version (the one the chatbot's model
# MAGIC workflow serves after its offline evaluation passed) and writes the
# MAGIC answers, with the model version and the time, to a predictions table.

# COMMAND ----------

# MAGIC %pip install mlflow==2.19.0

# COMMAND ----------

dbutils.library.restartPython()

# COMMAND ----------

dbutils.widgets.text("model_name", "dev.rag.rag_chatbot_model")
dbutils.widgets.text("model_alias", "champion")
dbutils.widgets.text("input_table", "dev.rag.eval_questions")
dbutils.widgets.text("output_table", "dev.rag.eval_predictions")

model_name = dbutils.widgets.get("model_name")
model_alias = dbutils.widgets.get("model_alias")
input_table = dbutils.widgets.get("input_table")
output_table = dbutils.widgets.get("output_table")

# COMMAND ----------

import mlflow
from mlflow import MlflowClient
from pyspark.sql import functions as F

mlflow.set_registry_uri("databricks-uc")
version = MlflowClient().get_model_version_by_alias(model_name, model_alias).version
model_uri = f"models:/{model_name}@{model_alias}"

# The chain takes a "messages" list and returns the answer as a string.
questions = spark.read.table(input_table).select("question")
predict = mlflow.pyfunc.spark_udf(spark, model_uri, result_type="string")
messages = F.array(F.struct(F.lit("user").alias("role"), F.col("question").alias("content")))

predictions = (
    questions.withColumn("prediction", predict(F.struct(messages.alias("messages"))))
    .withColumn("model_version", F.lit(str(version)))
    .withColumn("predicted_at", F.current_timestamp())
)

# COMMAND ----------

# Each run appends one batch; model_version and predicted_at tell them apart.
predictions.write.mode("append").option("mergeSchema", "true").saveAsTable(output_table)
print(f"wrote {predictions.count()} predictions of {model_name} version {version} to {output_table}")
