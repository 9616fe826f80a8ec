# Databricks notebook source
# MAGIC %md
# MAGIC # ModelDeployment

# COMMAND ----------

dbutils.widgets.text("env", "staging")
