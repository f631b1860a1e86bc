"""Order events out: TMF622 events (and dro's own, one per journal record) sent to registered listeners.

The order's journal is the outbox: every record has a seq and is on disk before anything is sent.
Each listener's delivery state lives beside the journal, so a crash loses nothing (at least once).
"""
