"""Loaded only by the suite's runs under libfaketime (.ci/anyday puts this folder on PYTHONPATH).

With FAKETIME_DONT_FAKE_MONOTONIC=1, Debian's libfaketime 0.9.10 breaks Python 3.11's
time.sleep, which waits with clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME): every sleep
fails with EINVAL (libfaketime issue 426, fixed after 0.9.10). Everything else that waits
(select, Event.wait, Queue.get, socket timeouts) keeps working, so time.sleep waits on
select's relative timeout instead, in these runs only.
"""

import select
import time


def _sleep(seconds: float) -> None:
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    select.select([], [], [], seconds)


time.sleep = _sleep
