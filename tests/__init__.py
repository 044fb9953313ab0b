"""The suite: tests/unit (no Asterisk, under a minute), tests/stack (the real stack), and the
importable helpers in tests/support."""
