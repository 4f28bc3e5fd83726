"""Brokers behind one contract: :mod:`.base` (the contract), :mod:`.memory`, :mod:`.redis`."""
