"""Hybrid retrieval: dense and keyword candidates fused into ranked hits."""
