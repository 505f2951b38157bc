"""Which views of a channel's landing page count as visits (the funnel's first
counter): one per device and channel in a window, a reload is not another visit;
and from one address at most ``PER_ADDRESS`` in a window, since a device id is
only a cookie, which a script can leave out or make up at will.

Kept in each process's memory and written nowhere, so a view costs a microsecond
or two (counting it in the shared rate-limit counters would add two rows per
resident to their sync; even the salted client hash took 9 µs, 3% of a landing
page). Devices and addresses are kept as Python's hash of them (keyed anew in
each process), not as the cookie or the address. The price: a device whose reloads reach several
processes counts once in each (gunicorn: one process per CPU core), and so does
an address's allowance.
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter

from survey.operations.process_local import of_this_process

#: The window (seconds) in which a device's views of a channel's landing page count once.
WINDOW = 600
#: Visits counted from one address in a window (one community's Wi-Fi: many residents).
PER_ADDRESS = 60


class _Seen:
    """This process's devices and addresses of the current window, forgotten with it."""

    def __init__(self):
        self.pid = os.getpid()
        self.lock = threading.Lock()
        self.window = -1
        self.devices: set[tuple[int, int]] = set()
        self.addresses: Counter = Counter()

    def first(self, channel_id: int, device: str, address: str, now: float) -> bool:
        window = int(now // WINDOW)
        with self.lock:
            if window != self.window:
                self.window, self.devices, self.addresses = window, set(), Counter()
            seen = (channel_id, hash(device))
            if seen in self.devices:
                return False
            self.devices.add(seen)
            address_key = hash(address)
            if self.addresses[address_key] >= PER_ADDRESS:
                return False
            self.addresses[address_key] += 1
            return True


def is_new_visit(app, channel_id: int, device: str, address: str, now: float | None = None) -> bool:
    """Whether this view of *channel_id*'s landing page, from device id *device* and
    client address *address*, counts as a visit."""
    seen = of_this_process(app, "survey_visits", _Seen)
    return seen.first(channel_id, device, address, time.time() if now is None else now)
