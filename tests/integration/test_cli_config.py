"""Configuration through the real command line: a bad ASSISTANT_* value is a clear error, not a traceback."""
from __future__ import annotations


def test_cli_error_on_bad_environment(run_cli):
    proc = run_cli("index", "--help")  # help works regardless of settings
    assert proc.returncode == 0
    proc = run_cli("articles", env={"ASSISTANT_K": "zero"})
    assert proc.returncode == 2
    assert "ASSISTANT_K" in proc.stderr and "Traceback" not in proc.stderr
