# Databricks notebook source
# MAGIC %md
# MAGIC # BatchInference

# COMMAND ----------

dbutils.widgets.text("env", "staging")
