"""Caller screening: the harassing-caller rule, blocks and the allow-list, in Redis."""
