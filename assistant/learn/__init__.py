"""Learned parts of the answer stage: the answer-quality data and what is fitted on it."""
