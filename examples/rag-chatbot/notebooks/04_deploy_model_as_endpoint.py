# Databricks notebook source
# MAGIC %md
# MAGIC # Deploy the model as a serving endpoint
# MAGIC
# MAGIC Points the `champion` alias at the version that passed offline evaluation
# MAGIC and updates the serving endpoint to serve it, waiting until it is ready.

# COMMAND ----------

dbutils.widgets.text("model_name", "dev.rag.rag_chatbot_model")
dbutils.widgets.text("endpoint_name", "dev-rag-chatbot")

model_name = dbutils.widgets.get("model_name")
endpoint_name = dbutils.widgets.get("endpoint_name")

# COMMAND ----------

import mlflow
from mlflow.tracking import MlflowClient

mlflow.set_registry_uri("databricks-uc")
client = MlflowClient()

version = dbutils.jobs.taskValues.get(taskKey="offline_evaluation", key="model_version", debugValue="1")
tag = client.get_model_version(model_name, version).tags.get("offline_evaluation")
if tag != "passed":
    raise RuntimeError(f"{model_name} version {version} has not passed offline evaluation (tag is {tag!r})")
client.set_registered_model_alias(model_name, "champion", version)

# COMMAND ----------

from datetime import timedelta

from databricks.sdk import WorkspaceClient
from databricks.sdk.service.serving import ServedEntityInput

w = WorkspaceClient()
served = [
    ServedEntityInput(
        entity_name=model_name,
        entity_version=str(version),
        workload_size="Small",
        scale_to_zero_enabled=True,
    )
]

names = {e.name for e in w.serving_endpoints.list()}
if endpoint_name in names:
    w.serving_endpoints.update_config_and_wait(
        name=endpoint_name, served_entities=served, timeout=timedelta(minutes=40)
    )
else:
    from databricks.sdk.service.serving import EndpointCoreConfigInput

    w.serving_endpoints.create_and_wait(
        name=endpoint_name,
        config=EndpointCoreConfigInput(served_entities=served),
        timeout=timedelta(minutes=40),
    )

state = w.serving_endpoints.get(endpoint_name).state
print(f"{endpoint_name} serves {model_name} version {version}: ready={state.ready}, config_update={state.config_update}")
