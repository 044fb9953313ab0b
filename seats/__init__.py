"""Seats (a SIP endpoint at a desk) and the agents who work them: registration (presence),
the SIP registration guard, and the desk's screen pop."""
