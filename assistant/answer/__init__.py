"""Answer backends over retrieved passages: extractive, fact-check, verification, LLMs."""
