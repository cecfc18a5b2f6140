"""Vietnamese language knowledge: normalization, tokens, provinces, figures, questions, names."""
