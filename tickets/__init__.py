"""Tickets (工单): one per call, from the IVR to the hang-up and the agent's form; the
taxonomy; readable ids; the buffered writes of the call path (outbox).

    store.py         TicketStore: the ticket's lifecycle (open, events, queued, answered, close)
    records.py       what the store returns (TicketRecord, EventRecord, TicketNotFound)
    checks.py        checks of the values handed to the stores
    models.py        the ORM models (the transcription tables' too: one database)
    participants.py  which seats spoke on a ticket, and so may open it
    form.py          the desk's ticket form and the screen pop's history
    outbox.py        BufferedTicketStore: writes that wait out a database outage

The store's modules use only the standard library and SQLAlchemy: the fallback script
imports them inside the Asterisk root (an import contract checks it).
"""
