"""Configuration: ASSISTANT_* variables, flags that override them, clear errors for bad values."""
from __future__ import annotations

from pathlib import Path

import pytest

from assistant.config import ConfigError, Settings

# Every variable DESIGN.md promises, with a value and the field it must land in.
DESIGN_VARS = {
    "ASSISTANT_CORPUS_DIR": ("corpus_dir", "/data/articles", Path("/data/articles")),
    "ASSISTANT_INDEX_DIR": ("index_dir", "/data/idx", Path("/data/idx")),
    "ASSISTANT_EMBEDDING_MODEL": ("embedding_model", "intfloat/multilingual-e5-base", "intfloat/multilingual-e5-base"),
    "ASSISTANT_BACKEND": ("backend", "openai", "openai"),
    "ASSISTANT_LLM_BASE_URL": ("llm_base_url", "http://127.0.0.1:8000/v1", "http://127.0.0.1:8000/v1"),
    "ASSISTANT_LLM_MODEL": ("llm_model", "qwen2.5", "qwen2.5"),
    "ASSISTANT_LLM_API_KEY": ("llm_api_key", "sk-test", "sk-test"),
    "ASSISTANT_CHROMA_URL": ("chroma_url", "http://127.0.0.1:8001", "http://127.0.0.1:8001"),
    "ASSISTANT_HOST": ("host", "0.0.0.0", "0.0.0.0"),
    "ASSISTANT_PORT": ("port", "8080", 8080),
    "ASSISTANT_AUTH": ("auth", "an:mat-khau", "an:mat-khau"),
}


@pytest.mark.parametrize("var", sorted(DESIGN_VARS))
def test_each_design_variable_is_read_with_its_type(var):
    field, raw, expected = DESIGN_VARS[var]
    s = Settings.from_env({var: raw})
    assert getattr(s, field) == expected
    assert type(getattr(s, field)) is type(expected)


def test_variables_without_the_prefix_are_ignored():
    s = Settings.from_env({"PORT": "1234", "BACKEND": "openai", "assistant_port": "1234"})
    assert s.port == Settings().port and s.backend == "extractive"


def test_from_env_reads_os_environ_by_default(monkeypatch):
    monkeypatch.setenv("ASSISTANT_K", "7")
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", "~/idx")
    s = Settings.from_env()
    assert s.k == 7
    assert s.index_dir == Path("~/idx").expanduser()


def test_flags_override_environment():
    env = {"ASSISTANT_PORT": "8000", "ASSISTANT_K": "3", "ASSISTANT_CORPUS_DIR": "/env/corpus",
           "ASSISTANT_BACKEND": "openai"}
    s = Settings.from_env(env, port=9000, k=9, corpus_dir=Path("/flag/corpus"), backend="extractive")
    assert (s.port, s.k, s.corpus_dir, s.backend) == (9000, 9, Path("/flag/corpus"), "extractive")


def test_unset_flags_do_not_override():
    # argparse gives None for flags the user did not pass; the environment must then win.
    s = Settings.from_env({"ASSISTANT_K": "4", "ASSISTANT_INDEX_DIR": "/env/idx"}, k=None, index_dir=None)
    assert s.k == 4 and s.index_dir == Path("/env/idx")


def test_flag_paths_given_as_strings_become_paths():
    s = Settings.from_env({}, corpus_dir="some/where")
    assert s.corpus_dir == Path("some/where")


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"ASSISTANT_PORT": "abc"}, "ASSISTANT_PORT"),
        ({"ASSISTANT_PORT": "70000"}, "ASSISTANT_PORT"),
        ({"ASSISTANT_K": "0"}, "ASSISTANT_K"),
        ({"ASSISTANT_K": "many"}, "ASSISTANT_K"),
        ({"ASSISTANT_LLM_TIMEOUT": "soon"}, "ASSISTANT_LLM_TIMEOUT"),
        ({"ASSISTANT_BACKEND": "gpt"}, "ASSISTANT_BACKEND"),
        ({"ASSISTANT_EMBEDDING_DTYPE": "fp8"}, "ASSISTANT_EMBEDDING_DTYPE"),
    ],
)
def test_bad_values_raise_config_error_naming_the_variable(env, needle):
    with pytest.raises(ConfigError) as info:
        Settings.from_env(env)
    msg = str(info.value)
    assert needle in msg
    # The offending value is shown so the user can find it.
    assert next(iter(env.values())) in msg


def test_bad_auth_is_rejected_without_echoing_the_secret():
    with pytest.raises(ConfigError, match="ASSISTANT_AUTH") as info:
        Settings.from_env({"ASSISTANT_AUTH": "an:ok,hunter2"})
    assert "hunter2" not in str(info.value)


def test_bad_flag_value_raises_config_error():
    with pytest.raises(ConfigError, match="ASSISTANT_K"):
        Settings.from_env({}, k=500)


def test_unknown_override_is_rejected():
    with pytest.raises(ConfigError, match="colour"):
        Settings.from_env({}, colour="blue")


def test_config_error_is_a_value_error_for_callers():
    assert issubclass(ConfigError, ValueError)


def test_auth_pairs_parsed():
    s = Settings.from_env({"ASSISTANT_AUTH": "an:mk1,binh:mk:2"})
    assert s.auth_pairs == [("an", "mk1"), ("binh", "mk:2")]
    assert Settings.from_env({}).auth_pairs == []


def test_secrets_not_in_repr():
    s = Settings.from_env({"ASSISTANT_LLM_API_KEY": "sk-secret", "ASSISTANT_AUTH": "an:secret-pw"})
    assert "sk-secret" not in repr(s) and "secret-pw" not in repr(s)
