"""The runner's threads: attempts go to them through one queue and their outcomes come back through another.

concurrent.futures would do, at a price the runner pays for every step: a Future with
its own lock and condition per attempt, and a `wait` that takes and releases the lock
of every running future each round, and hangs a waiter on each. Here an attempt is one
tuple through a SimpleQueue each way, and waiting is one blocking get.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")  # the key an item's result comes back with
T = TypeVar("T")  # an item of work
R = TypeVar("R")  # its result


class Workers(Generic[K, T, R]):
    """Up to `size` threads calling `work` on the items put in, started as the work needs them. Used by
    one thread (the runner's): it puts items in, takes the results out and shuts the threads down."""

    def __init__(self, work: Callable[[T], R], size: int, name: str) -> None:
        self._work = work
        self._size = max(1, size)
        self._name = name
        self._todo: queue.SimpleQueue[tuple[K, T] | None] = queue.SimpleQueue()
        self._done: queue.SimpleQueue[tuple[K, R | None, BaseException | None]] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self.running = 0  # items put in whose results were not taken out yet

    def put(self, key: K, item: T) -> None:
        self.running += 1
        if len(self._threads) < min(self._size, self.running):  # every thread is busy: one more
            thread = threading.Thread(target=self._loop, name=f"{self._name}_{len(self._threads)}")
            thread.start()
            self._threads.append(thread)
        self._todo.put((key, item))

    def take(self, timeout: float | None) -> list[tuple[K, R]]:
        """The results of the items done, in the order they finished: waits up to `timeout` seconds (None:
        as long as it takes) for one, then takes whatever else is done by then. An exception an item's
        `work` raised is raised here, as Future.result() would."""
        try:
            got = [self._done.get(timeout=timeout)]
        except queue.Empty:
            return []
        while True:
            try:
                got.append(self._done.get_nowait())
            except queue.Empty:
                break
        self.running -= len(got)
        results: list[tuple[K, R]] = []
        for key, result, error in got:
            if error is not None:
                raise error
            results.append((key, result))  # type: ignore[arg-type]  # R, when there is no error
        return results

    def shutdown(self, *, wait: bool) -> None:
        """Drop the items no thread has started; each thread stops once its current item is done; with
        `wait`, return when they all have."""
        while True:
            try:
                item = self._todo.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                self.running -= 1
        for _ in self._threads:
            self._todo.put(None)
        if wait:
            for thread in self._threads:
                thread.join()

    def _loop(self) -> None:
        todo, done, work = self._todo, self._done, self._work
        while (entry := todo.get()) is not None:
            key, item = entry
            try:
                done.put((key, work(item), None))
            except BaseException as error:  # handed to the runner's thread, which raises it
                done.put((key, None, error))
            del entry, item  # not kept alive while the thread waits for the next
