# Databricks notebook source
# MAGIC %md
# MAGIC # Chatbot chain
# MAGIC
# MAGIC Builds a retrieval chain over the chunk table (a Vector Search index synced
# MAGIC from it) and a foundation model chat endpoint, then logs and registers it
# MAGIC with MLflow in Unity Catalog.

# COMMAND ----------

# MAGIC %pip install mlflow==2.19.0 databricks-vectorsearch==0.40 langchain==0.3.14 langchain-community==0.3.14

# COMMAND ----------

dbutils.library.restartPython()

# COMMAND ----------

dbutils.widgets.text("catalog", "dev")
dbutils.widgets.text("chunk_table", "dev.rag.pdf_chunks")
dbutils.widgets.text("embedding_endpoint", "databricks-gte-large-en")
dbutils.widgets.text("llm_endpoint", "databricks-meta-llama-3-3-70b-instruct")
dbutils.widgets.text("experiment_name", "/Shared/rag_chatbot/dev-experiment")
dbutils.widgets.text("model_name", "dev.rag.rag_chatbot_model")

catalog = dbutils.widgets.get("catalog")
chunk_table = dbutils.widgets.get("chunk_table")
embedding_endpoint = dbutils.widgets.get("embedding_endpoint")
llm_endpoint = dbutils.widgets.get("llm_endpoint")
experiment_name = dbutils.widgets.get("experiment_name")
model_name = dbutils.widgets.get("model_name")

index_name = f"{chunk_table}_index"
vector_search_endpoint = "rag_chatbot_vs"

# COMMAND ----------

from databricks.vector_search.client import VectorSearchClient

vsc = VectorSearchClient(disable_notice=True)
existing = [e["name"] for e in vsc.list_endpoints().get("endpoints", [])]
if vector_search_endpoint not in existing:
    vsc.create_endpoint_and_wait(name=vector_search_endpoint, endpoint_type="STANDARD")

indexes = [i["name"] for i in vsc.list_indexes(vector_search_endpoint).get("vector_indexes", [])]
if index_name in indexes:
    vsc.get_index(vector_search_endpoint, index_name).sync()
else:
    vsc.create_delta_sync_index_and_wait(
        endpoint_name=vector_search_endpoint,
        index_name=index_name,
        source_table_name=chunk_table,
        pipeline_type="TRIGGERED",
        primary_key="chunk_id",
        embedding_dimension=1024,
        embedding_vector_column="embedding",
    )

# COMMAND ----------

from langchain.chains import RetrievalQA
from langchain.prompts import PromptTemplate
from langchain_community.chat_models import ChatDatabricks
from langchain_community.embeddings import DatabricksEmbeddings
from langchain_community.vectorstores import DatabricksVectorSearch

PROMPT = PromptTemplate(
    input_variables=["context", "question"],
    template=(
        "You answer questions about the documents below. If the answer is not in them, say you do not know.\n\n"
        "{context}\n\nQuestion: {question}\nAnswer:"
    ),
)


def get_retriever(persist_dir=None):
    index = VectorSearchClient(disable_notice=True).get_index(vector_search_endpoint, index_name)
    store = DatabricksVectorSearch(
        index,
        text_column="content",
        embedding=DatabricksEmbeddings(endpoint=embedding_endpoint),
        columns=["source"],
    )
    return store.as_retriever(search_kwargs={"k": 4})


chain = RetrievalQA.from_chain_type(
    llm=ChatDatabricks(endpoint=llm_endpoint, max_tokens=500, temperature=0.1),
    chain_type="stuff",
    retriever=get_retriever(),
    chain_type_kwargs={"prompt": PROMPT},
)

# COMMAND ----------

import mlflow
from mlflow.models import infer_signature

mlflow.set_registry_uri("databricks-uc")
mlflow.set_experiment(experiment_name)

question = {"query": "What does the document say about data retention?"}
answer = chain.invoke(question)

with mlflow.start_run(run_name="rag_chatbot_chain") as run:
    info = mlflow.langchain.log_model(
        chain,
        artifact_path="chain",
        loader_fn=get_retriever,
        registered_model_name=model_name,
        signature=infer_signature(question, {"result": answer["result"]}),
        input_example=question,
    )

dbutils.jobs.taskValues.set(key="model_version", value=str(info.registered_model_version))
print(f"registered {model_name} version {info.registered_model_version} from run {run.info.run_id}")
