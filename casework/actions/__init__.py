"""One module per workflow action, each a function of a CaseContext (casework/workflow.py).

    close_direct.py  直办: answered on the call
    dispatch.py      转办: to a primary unit, with 协办 co-units; starts the clocks
    accept.py        签收
    send_back.py     退回: back to the hotline's dispatch queue, with a reason
    pass_down.py     下派: to a child unit
    progress.py      progress notes, and the contact the 2110 rule times
    reply.py         反馈: the result, and whether it is solved
    callback.py      回访: solved? satisfied? If not, 重办 to the unit
    archive.py       归档
    urge.py          催办, by the clock or a supervisor
    supervise.py     督办, by the clock (overdue) or a supervisor; and instructions
"""
