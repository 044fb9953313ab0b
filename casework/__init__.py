"""The ticket's life after the call: dispatch to units, their replies, urging and supervision,
the citizen's callback and the archive (the chronicle's ten steps)."""
