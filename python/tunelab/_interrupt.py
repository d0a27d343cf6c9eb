"""Ctrl-C that lands in a long loop's own code, between its steps.

Python runs a signal's handler at the next bytecode boundary of the main thread, wherever
that is. With the default handler the ``KeyboardInterrupt`` can be raised inside a weakref
callback or a ``__del__`` (a garbage collection running between two chunks), where Python
prints "Exception ignored in ..." and carries on: the loop then runs to its end. Inside
:class:`interruptible` (main thread, and only while SIGINT has Python's default handler, so a
user's own handler is left alone) the handler records the signal only, and the loop calls
``check()`` between steps, which raises ``KeyboardInterrupt`` there. On leaving, the previous
handler is restored, and a signal recorded after the last ``check()`` is raised then.

Nested loops (a study whose steps run chunked kernels) share the outermost handler.
"""

from __future__ import annotations

import signal
import threading
from types import TracebackType

__all__ = ["interruptible"]

_depth = 0  # nesting level of active ``interruptible`` blocks (main thread only)
_pending = False  # a SIGINT arrived and has not been raised yet


def _record(signum: int, frame: object) -> None:
    global _pending
    _pending = True


class interruptible:
    """``with interruptible() as check: ... check() ...`` (see the module docstring).

    ``enabled=False`` gives a no-op (for a loop that waits on an executor, where the default
    handler's immediate ``KeyboardInterrupt`` is what cancels the pending futures).
    """

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.active = False

    def __enter__(self) -> interruptible:
        global _depth, _pending
        self.active = False
        if not self.enabled:
            return self
        if threading.current_thread() is not threading.main_thread():
            return self  # signals are delivered to the main thread only: nothing to defer
        if _depth == 0:
            if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
                return self  # SIG_IGN, SIG_DFL or the user's own handler: leave it in charge
            _pending = False
            self.previous = signal.signal(signal.SIGINT, _record)
        _depth += 1
        self.active = True
        return self

    def __call__(self) -> None:
        """Raise ``KeyboardInterrupt`` if SIGINT arrived since the last check."""
        global _pending
        if self.active and _pending:
            _pending = False
            raise KeyboardInterrupt

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        global _depth, _pending
        if not self.active:
            return
        _depth -= 1
        self.active = False
        if _depth > 0:
            return
        signal.signal(signal.SIGINT, self.previous)
        if _pending:
            _pending = False
            if not isinstance(exc, KeyboardInterrupt):
                raise KeyboardInterrupt  # chained to ``exc`` (as its context) when there is one
