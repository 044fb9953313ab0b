"""Supervision: live statistics, the wallboard, the queue_log and /metrics.

One source of truth: every figure comes from the ACD's event stream (`acd:events`).
`definitions.py` says what each figure counts.
"""
