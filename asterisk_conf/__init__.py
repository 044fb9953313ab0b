"""Generates Asterisk's whole configuration from the project's settings.

One module per Asterisk file; `generate.write_config` writes them all.
"""
