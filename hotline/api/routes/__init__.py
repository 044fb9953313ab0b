"""One router per domain. Each is a thin HTTP face over its domain package."""
