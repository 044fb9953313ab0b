"""Recordings to transcripts: jobs on a Redis stream, Vosk workers, segments on the ticket."""
