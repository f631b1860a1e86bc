"""The runner's threads (runtime/workers.py): results by key, errors raised where they are taken, shutdown."""

from __future__ import annotations

import threading

import pytest

from dro_cli.runtime.workers import Workers


def test_every_result_comes_back_with_its_key() -> None:
    pool: Workers[str, int, int] = Workers(lambda n: n * n, 4, "test-square")
    try:
        for n in range(20):
            pool.put(f"k{n}", n)
        results: dict[str, int] = {}
        while pool.running:
            results.update(pool.take(None))
    finally:
        pool.shutdown(wait=True)
    assert results == {f"k{n}": n * n for n in range(20)} and pool.running == 0


def test_an_exception_of_the_work_is_raised_where_results_are_taken() -> None:
    def work(n: int) -> int:
        if n == 3:
            raise KeyError("three")
        return n

    pool: Workers[int, int, int] = Workers(work, 2, "test-raise")
    try:
        pool.put(3, 3)
        with pytest.raises(KeyError, match="three"):
            while pool.running:
                pool.take(None)
    finally:
        pool.shutdown(wait=True)


def test_nothing_done_within_the_timeout_is_no_results() -> None:
    release = threading.Event()
    pool: Workers[int, int, bool] = Workers(lambda _: release.wait(10), 1, "test-timeout")
    try:
        pool.put(1, 1)
        assert pool.take(0.01) == [] and pool.running == 1
        release.set()
        assert pool.take(10) == [(1, True)] and pool.running == 0
    finally:
        pool.shutdown(wait=True)


def test_threads_start_as_the_work_needs_them_and_never_more_than_the_size() -> None:
    release = threading.Event()
    pool: Workers[int, int, bool] = Workers(lambda _: release.wait(10), 3, "test-size")

    def mine() -> int:
        return sum(t.name.startswith("test-size_") for t in threading.enumerate())

    try:
        pool.put(0, 0)
        assert mine() == 1
        for n in range(1, 6):
            pool.put(n, n)
        assert mine() == 3
    finally:
        release.set()
        pool.shutdown(wait=True)
    assert mine() == 0


def test_a_shutdown_drops_what_no_thread_started_and_may_leave_the_rest_running() -> None:
    started: list[int] = []
    release = threading.Event()

    def work(n: int) -> int:
        started.append(n)
        release.wait(10)
        return n

    pool: Workers[int, int, int] = Workers(work, 1, "test-drop")
    pool.put(0, 0)
    while not started:  # the one thread is busy with item 0
        threading.Event().wait(0.001)
    for n in range(1, 4):
        pool.put(n, n)
    pool.shutdown(wait=False)
    assert pool.running == 1  # item 0: the others were dropped
    release.set()
    pool.shutdown(wait=True)
    assert started == [0]
