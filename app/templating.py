"""Templates compiled once per process, whatever number of apps the process builds.

Jinja compiles each template the first time an app's environment loads it, and every app has
an environment of its own. A served process builds one app, so this changes nothing there; a
process that builds many (the test suite builds one per test, the CLI one per command) would
otherwise parse and compile every template again for each, which cost more than half of a
typical test's time. Jinja's bytecode cache keys a template by its file and checks its source's
checksum, so an edited template is compiled afresh (the debug reloader still sees edits).
"""

from __future__ import annotations

import threading

from jinja2 import BytecodeCache
from jinja2.bccache import Bucket


class ProcessBytecodeCache(BytecodeCache):
    """Compiled templates held in this process's memory, shared by every app in it."""

    def __init__(self) -> None:
        self._compiled: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def load_bytecode(self, bucket: Bucket) -> None:
        with self._lock:
            compiled = self._compiled.get(bucket.key)
        if compiled is not None:
            bucket.bytecode_from_string(compiled)

    def dump_bytecode(self, bucket: Bucket) -> None:
        compiled = bucket.bytecode_to_string()
        with self._lock:
            self._compiled[bucket.key] = compiled

    def clear(self) -> None:
        with self._lock:
            self._compiled.clear()


COMPILED = ProcessBytecodeCache()
