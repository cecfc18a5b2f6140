"""Embedding: the sentence-transformers embedder, the fast traced encoder, model conversion."""
