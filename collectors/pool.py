"""A thread pool whose workers never hold the process open.

``concurrent.futures.ThreadPoolExecutor`` joins its workers when the interpreter exits.
A collector abandoned at its timeout may still have a request in flight (a read that
waits 60 s, three times); with an executor, ``posture collect`` printed "timed out after
20s" and then sat until 182 s, waiting for those threads. These workers are daemon
threads: the engine has already given up on them, so at exit they are simply dropped.
"""

from __future__ import annotations

import contextvars
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any

_STOP = None


class DaemonPool(Executor):
    """Up to ``workers`` daemon threads running submitted calls in order (an Executor:
    ``submit``, ``shutdown``, and a context manager that waits for the calls)."""

    def __init__(self, workers: int, name: str) -> None:
        self._workers = max(1, workers)
        self._name = name
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._closed = False

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("cannot submit to a pool that was shut down")
            # The caller's context variables go with the call, as asyncio does.
            self._queue.put((future, contextvars.copy_context(), fn, args, kwargs))
            if len(self._threads) < self._workers:
                thread = threading.Thread(
                    target=self._work, name=f"{self._name}-{len(self._threads)}", daemon=True
                )
                self._threads.append(thread)
                thread.start()
        return future

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            future, context, fn, args, kwargs = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = context.run(fn, *args, **kwargs)
            except BaseException as error:  # handed to whoever waits on the future
                future.set_exception(error)
            else:
                future.set_result(result)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            self._closed = True
            threads = list(self._threads)
        if cancel_futures:
            while True:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is not _STOP:
                    item[0].cancel()
        for _ in threads:
            self._queue.put(_STOP)
        if wait:
            for thread in threads:
                thread.join()
