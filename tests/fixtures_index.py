"""The `fake_index` fixture: a started FakeIndex on 127.0.0.1, closed after the test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from reqhash_check.index.http import HttpClient, HttpSettings
from tests.fakeindex import FakeIndex


@pytest.fixture
def fake_index() -> Iterator[FakeIndex]:
    index = FakeIndex().start()
    try:
        yield index
    finally:
        index.close()


def fast_http(**overrides: float) -> HttpClient:
    """An HttpClient for tests: no backoff waits, short timeout, few retries."""
    values: dict[str, float] = {"timeout": 5.0, "retries": 2, "backoff": 0.0}
    values.update(overrides)
    return HttpClient(
        HttpSettings(
            timeout=values["timeout"],
            retries=int(values["retries"]),
            backoff=values["backoff"],
            max_wait=values.get("max_wait", 30.0),
            concurrency=int(values.get("concurrency", 8)),
        )
    )
