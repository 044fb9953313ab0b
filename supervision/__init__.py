"""Supervision: live statistics, the wallboard's figures, the queue_log, /metrics, listening in.

One source of truth: every figure comes from the ACD's event stream (`acd:events`).
`definitions.py` says what each figure counts. The HTTP routes are in hotline/api/routes.
"""
