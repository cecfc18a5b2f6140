"""The opt-in local GGUF backend: model file, engine, answerer."""
