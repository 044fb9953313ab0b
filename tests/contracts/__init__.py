"""Import contracts of our own, for import-linter (configured in pyproject.toml)."""
