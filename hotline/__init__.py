"""The application layer: the `hotline` command (CLI), set-up (provisioning, migrations), the
supervised services, the background-jobs process, and the HTTP API (``hotline/api``).

It composes the domain packages and is imported by none of them.
"""
