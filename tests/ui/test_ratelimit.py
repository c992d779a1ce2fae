"""The per-client write limit (ui/ratelimit.py): a sliding window per key, bounded memory."""

from __future__ import annotations

import pytest

from ui.ratelimit import RateLimiter


def test_each_key_has_its_own_window():
    r = RateLimiter(1)
    assert r.allow("a", now=0) and r.allow("b", now=0)
    assert not r.allow("a", now=59.9) and r.allow("a", now=60)


def test_a_refused_write_is_not_counted():
    r = RateLimiter(1)
    assert r.allow("a", now=0)
    assert not any(r.allow("a", now=s) for s in range(1, 60))
    assert r.allow("a", now=60)  # the refusals did not push the window on


def test_the_least_recently_seen_key_is_forgotten_first():
    r = RateLimiter(1, max_keys=2)
    r.allow("a", now=0), r.allow("b", now=1), r.allow("c", now=2)
    assert r.allow("a", now=3)  # "a" was forgotten: a fresh window
    assert not r.allow("c", now=4)  # "c" is still remembered


def test_a_limit_below_one_is_refused_naming_it():
    with pytest.raises(ValueError, match="per_minute 0 must be >= 1"):
        RateLimiter(0)
