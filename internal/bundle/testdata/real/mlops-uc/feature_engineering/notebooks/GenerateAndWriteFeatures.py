# Databricks notebook source
# MAGIC %md
# MAGIC # GenerateAndWriteFeatures

# COMMAND ----------

dbutils.widgets.text("env", "staging")
