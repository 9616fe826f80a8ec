# Databricks notebook source
# MAGIC %md
# MAGIC # PDF chunks and embeddings
# MAGIC
# MAGIC Reads the PDFs in a Unity Catalog volume, splits their text into overlapping
# MAGIC chunks with `rag_chatbot.chunking`, embeds each chunk with a Databricks
# MAGIC foundation model endpoint and writes the result to a Delta table.

# COMMAND ----------

# MAGIC %pip install pypdf==5.1.0 databricks-sdk==0.40.0

# COMMAND ----------

dbutils.library.restartPython()

# COMMAND ----------

dbutils.widgets.text("catalog", "dev")
dbutils.widgets.text("schema", "rag")
dbutils.widgets.text("source_volume", "/Volumes/dev/rag/pdfs")
dbutils.widgets.text("chunk_table", "dev.rag.pdf_chunks")
dbutils.widgets.text("embedding_endpoint", "databricks-gte-large-en")
dbutils.widgets.text("max_chars", "1000")
dbutils.widgets.text("overlap", "150")

catalog = dbutils.widgets.get("catalog")
schema = dbutils.widgets.get("schema")
source_volume = dbutils.widgets.get("source_volume")
chunk_table = dbutils.widgets.get("chunk_table")
embedding_endpoint = dbutils.widgets.get("embedding_endpoint")
max_chars = int(dbutils.widgets.get("max_chars"))
overlap = int(dbutils.widgets.get("overlap"))

# COMMAND ----------

# rag_chatbot is installed on the job cluster from the wheel the bundle builds
# (the task's libraries: ../dist/*.whl, uploaded to the artifact path).

from rag_chatbot.chunking import chunk_text

# COMMAND ----------

import io

from pypdf import PdfReader
from pyspark.sql import functions as F
from pyspark.sql import types as T

spark.sql(f"CREATE SCHEMA IF NOT EXISTS {catalog}.{schema}")

pdfs = spark.read.format("binaryFile").option("pathGlobFilter", "*.pdf").load(source_volume)


def pdf_to_chunks(content):
    reader = PdfReader(io.BytesIO(content))
    text = "\n".join(page.extract_text() or "" for page in reader.pages)
    return chunk_text(text, max_chars=max_chars, overlap=overlap)


chunks_udf = F.udf(pdf_to_chunks, T.ArrayType(T.StringType()))

chunks = (
    pdfs.select(F.col("path").alias("source"), F.explode(chunks_udf("content")).alias("content"))
    .withColumn("chunk_id", F.sha2(F.concat_ws("|", "source", "content"), 256))
)

# COMMAND ----------

from databricks.sdk import WorkspaceClient

BATCH = 64


def embed_partition(rows):
    client = WorkspaceClient()
    rows = list(rows)
    for start in range(0, len(rows), BATCH):
        batch = rows[start : start + BATCH]
        response = client.serving_endpoints.query(name=embedding_endpoint, input=[r.content for r in batch])
        for row, item in zip(batch, response.data):
            yield (row.chunk_id, row.source, row.content, item.embedding)


schema_out = T.StructType(
    [
        T.StructField("chunk_id", T.StringType(), False),
        T.StructField("source", T.StringType(), False),
        T.StructField("content", T.StringType(), False),
        T.StructField("embedding", T.ArrayType(T.DoubleType()), False),
    ]
)

embedded = spark.createDataFrame(chunks.rdd.mapPartitions(embed_partition), schema_out)

(
    embedded.write.format("delta")
    .mode("overwrite")
    .option("overwriteSchema", "true")
    .option("delta.enableChangeDataFeed", "true")
    .saveAsTable(chunk_table)
)

# COMMAND ----------

count = spark.table(chunk_table).count()
if count == 0:
    raise RuntimeError(f"no chunks were written to {chunk_table}: check that {source_volume} holds PDF files")
dbutils.jobs.taskValues.set(key="chunk_count", value=count)
print(f"wrote {count} chunks to {chunk_table}")
