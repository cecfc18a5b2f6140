"""Turn known failures into one clear sentence for the CLI and the UI (Vietnamese)."""
from __future__ import annotations


def user_message(exc: BaseException) -> str | None:
    """A message for errors the user can act on; None for bugs (let them surface)."""
    from .articles import ArticleError
    from .catalog import IndexCorruptError
    from .config import ConfigError
    from .embeddings import ModelNotFoundError
    from .indexer import IndexBusyError
    from .llm import LLMError
    from .pipeline import QuestionError
    from .vectorstore import VectorStoreError

    if isinstance(exc, (ArticleError, IndexCorruptError, ConfigError, ModelNotFoundError, IndexBusyError,
                        VectorStoreError, FileNotFoundError, LLMError, QuestionError)):
        return str(exc)
    return None
