# Databricks notebook source
# MAGIC %md
# MAGIC # ModelValidation

# COMMAND ----------

dbutils.widgets.text("env", "staging")
