"""Shared infrastructure: settings, secrets, the AMI and Redis clients, the database engine.

The lowest layer: it imports no other package of the project.
"""
