"""Helpers the tests import (never fixtures, never benchmarks): paths, processes, the fake LLM, load clients."""
