"""Glue: settings, secrets, the `hotline` command and the processes it runs."""
