"""The call flows: what a caller hears and which keys lead where (GB/T 33358: no menus)."""
