"""The doctests really run: every module under assistant/ imports without side effects, and enough examples are
attempted that "all skipped" or "no examples" cannot pass (pytest --doctest-modules runs them; see pytest.ini)."""
from __future__ import annotations

import doctest
import importlib
import pkgutil

import assistant
from tests.support.paths import ROOT

# Examples that are not marked SKIP, summed over assistant/ (55 when this was written, while the package
# was being reorganized). Raise it when doctests are added; it must never fall to zero.
MIN_EXAMPLES = 40
NOT_IMPORTED = {"assistant.__main__"}  # runs the command line when imported


def assistant_modules() -> list[str]:
    names = ["assistant"]
    for info in pkgutil.walk_packages(assistant.__path__, "assistant."):
        if info.name not in NOT_IMPORTED:
            names.append(info.name)
    return names


def attempted_examples(module) -> int:
    """Examples doctest will run in `module` (its own docstrings only, SKIP-marked examples left out)."""
    finder = doctest.DocTestFinder(exclude_empty=True)
    return sum(1 for t in finder.find(module) for ex in t.examples if not ex.options.get(doctest.SKIP))


def test_every_module_imports_and_the_doctests_attempt_enough_examples():
    counts = {name: attempted_examples(importlib.import_module(name)) for name in assistant_modules()}
    assert len(counts) >= 30, sorted(counts)  # the walk found the sub-packages
    total = sum(counts.values())
    assert total >= MIN_EXAMPLES, {k: v for k, v in counts.items() if v}


def test_every_python_file_under_assistant_is_a_walked_module():
    files = {".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
             for p in (ROOT / "assistant").rglob("*.py")}
    assert files - set(assistant_modules()) == NOT_IMPORTED
