"""What the garbage collector walks: not what a process loaded to start.

A GMBot process loads Django, Celery, pyTelegramBotAPI and every feature's handlers: a heap that
lives as long as the process and holds no garbage. CPython's collector still walks all of it:
- at every full collection, with the GIL held: a pause for every thread of the process (about
  0.3 s in a `high` worker at 3,000 updates/min, `bench/enforcement.py`), so the job that
  happens to trigger it, and every job beside it, is that much later;
- at exit, several times over, as the interpreter clears its modules: about 0.8 s of CPU per
  process (`.venv/bin/python bench/process_exit.py`), paid by every worker, web process and
  command at each deploy and restart, and by the tests, which start hundreds.

`freeze_what_is_loaded()` moves everything alive into the collector's permanent generation, once
a process has started (a worker's pool process or thread pool, a web worker). An exit handler
does the same at exit, registered while gmbot is imported so that it runs after the others
(atexit runs the last registered first). Nothing is lost: objects are still released by
reference counting, every other exit handler (logging's flush, Sentry's, the metrics files') has
run by then, and the operating system takes back the rest. What start-up left as cyclic garbage
(little: the heap is modules, classes and functions) stays for the life of the process.
"""

from __future__ import annotations

import atexit
import gc


def freeze_what_is_loaded() -> None:
    """Leave everything alive now out of every later collection."""
    gc.collect()  # what start-up left as garbage goes first, rather than being kept for good
    gc.freeze()


def _leave_the_heap_out_of_the_final_collections() -> None:
    gc.freeze()


atexit.register(_leave_the_heap_out_of_the_final_collections)
