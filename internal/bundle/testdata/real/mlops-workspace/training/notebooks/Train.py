# Databricks notebook source
# MAGIC %md
# MAGIC # Train

# COMMAND ----------

dbutils.widgets.text("env", "staging")
