"""Seats (a SIP endpoint at a desk) and the agents who work them."""
