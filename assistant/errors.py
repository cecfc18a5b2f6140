"""Turn known failures into one clear sentence for the CLI and the UI (Vietnamese)."""
from __future__ import annotations


def user_message(exc: BaseException) -> str | None:
    """A message for errors the user can act on; None for bugs (let them surface)."""
    from assistant.ingest.articles import ArticleError
    from assistant.indexing.catalog import IndexCorruptError
    from assistant.config import ConfigError
    from assistant.indexing.embed.embeddings import ModelNotFoundError
    from assistant.indexing.indexer import IndexBusyError
    from assistant.answer.llm import LLMError
    from assistant.app.pipeline import QuestionError
    from assistant.indexing.vectorstore import VectorStoreError

    if isinstance(exc, (ArticleError, IndexCorruptError, ConfigError, ModelNotFoundError, IndexBusyError,
                        VectorStoreError, FileNotFoundError, LLMError, QuestionError)):
        return str(exc)
    return None
