"""The automatic call distributor: who talks to whom. State lives in Redis.

Vocabulary (after Twilio TaskRouter): a call waits in a queue; a seat's agent is offered
it (a reservation); every change appends an event to the `acd:events` stream.
"""
