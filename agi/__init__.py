"""The only place that drives a live call: FastAGI sessions and the pyst2 fallback script.

Kept free of imports: the fallback runs inside the Asterisk root's Python.
"""
