"""Tickets (工单): one per call, from the IVR to the hang-up and the agent's form; the
taxonomy; readable ids; the buffered writes of the call path (outbox).

The store's modules use only the standard library and SQLAlchemy: the fallback script
imports them inside the Asterisk root (an import contract checks it).
"""
