# Databricks notebook source
# MAGIC %md
# MAGIC # MonitoredMetricViolationCheck

# COMMAND ----------

dbutils.widgets.text("env", "staging")
