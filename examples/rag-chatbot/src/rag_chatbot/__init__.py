"""Pure helpers of the RAG chatbot: text chunking and evaluation gates.

Nothing here talks to Databricks, so it is unit tested with pytest alone.
"""
