"""Benchmarks (kept out of the default test run; see README "Benchmarks")."""
