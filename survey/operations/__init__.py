"""Operations: the small documented functions that change data.

They are the only place that commits (through ``db.write()``); views and CLI
commands call them.
"""
