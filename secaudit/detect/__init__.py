"""Sigma detection: load and compile rules, match events, correlate matches."""
