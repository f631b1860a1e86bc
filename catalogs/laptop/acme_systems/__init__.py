"""The Acme systems the laptop catalog calls out to, simulated: one module per system, plus what they share.

`wms` (reservations, picks), `licenses` (entitlements), `carrier` (shipments): each
turns a checked request (`api.Call`) into a status and a JSON body. `faults` says
what goes wrong on purpose. `../simulator.py` serves them all on one port.
"""
