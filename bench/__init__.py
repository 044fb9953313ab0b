"""Benchmarks: each runs its baseline in the same run and ends with a `name: value` line."""
