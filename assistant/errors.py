"""One base class for the assistant's own errors, and one clear sentence for the CLI and the UI.

Every error the assistant raises on purpose subclasses `AssistantError`; its message is Vietnamese
and meant for the user. Each subclass also keeps the built-in base it had before (ValueError,
RuntimeError, FileNotFoundError), so code that catches those still catches it:

- `config.ConfigError` (ValueError): a setting has an unusable value
- `ingest.articles.ArticleError`: an article file cannot be used
- `indexing.catalog.IndexCorruptError`, `indexing.indexer.IndexBusyError`,
  `indexing.vectorstore.VectorStoreError`, `indexing.embed.embeddings.ModelNotFoundError` (RuntimeError)
- `indexing.embed.model_convert.ModelFormatError` (ValueError)
- `answer.llm.LLMError` (RuntimeError) and `answer.local.gguf.LocalModelError` (an LLMError)
- `retrieve.fusion.FusionError` (ValueError): fusion parameters outside their supported values
- `app.pipeline.QuestionError` (ValueError): the question cannot be answered as given
- `learn.datasets.DataMissingError` (FileNotFoundError)

>>> from assistant.config import ConfigError
>>> user_message(ConfigError("ASSISTANT_K phải trong khoảng 1..100, không phải 0"))
'ASSISTANT_K phải trong khoảng 1..100, không phải 0'
>>> user_message(KeyError("a bug")) is None
True
"""
from __future__ import annotations


class AssistantError(Exception):
    """Base of every error the assistant raises on purpose; its message is meant for the user."""


def user_message(exc: BaseException) -> str | None:
    """A message for errors the user can act on; None for bugs (let them surface)."""
    if isinstance(exc, (AssistantError, FileNotFoundError)):
        return str(exc)
    return None
