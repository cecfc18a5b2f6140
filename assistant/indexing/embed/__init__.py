"""Embedding: the model's tokenizer, the OpenVINO encoder (every path), the sentence-transformers one (fallback), model conversion."""
