"""Recordings to transcripts: jobs on a Redis stream, Vosk workers, segments on the ticket.

The transcription store (store.py: job state and segments) and the recording-access audit
(recording_audit.py) live here and work on the ticket database's engine; every seat's
recording of a call (a transfer's included) is found in recordings.py.
"""
