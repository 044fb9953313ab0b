"""Accounts: users with a role (agent, supervisor, admin), hashed passwords, signed tokens."""
