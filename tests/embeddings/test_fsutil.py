"""The shared file helpers: atomic file writes, the directory swap, stale temporaries, checksums."""

from __future__ import annotations

import hashlib
import os

import pytest

from embeddings import fsutil


def test_write_atomic_replaces_whole_or_not_at_all(tmp_path):
    target = tmp_path / "cache.bin"
    fsutil.write_atomic(target, lambda f: f.write(b"old"))

    def dies(f):
        f.write(b"half")
        raise RuntimeError("simulated crash")

    with pytest.raises(RuntimeError):
        fsutil.write_atomic(target, dies)
    assert target.read_bytes() == b"old" and sorted(p.name for p in tmp_path.iterdir()) == ["cache.bin"]
    assert fsutil.sha256_file(target) == hashlib.sha256(b"old").hexdigest()


def test_stale_temps_are_found_and_removed(tmp_path):
    target = tmp_path / "index"
    (tmp_path / (fsutil.temp_prefix(target) + "dead")).mkdir()
    (tmp_path / "tmpabc.npz.tmp").write_bytes(b"")  # a legacy name
    (tmp_path / "other").write_bytes(b"")
    found = fsutil.remove_stale_temps(target, "tmp*.npz.tmp")
    assert sorted(p.name for p in found) == [".index.tmp-dead", "tmpabc.npz.tmp"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other"]


def test_lock_lives_beside_its_target(tmp_path):
    assert fsutil.lock(tmp_path / "index").lock_file == str(tmp_path / ".index.lock")


def test_replace_dir_swaps_and_rolls_back(tmp_path, monkeypatch):
    target, new = tmp_path / "model", tmp_path / ".model.tmp-1"
    target.mkdir()
    (target / "a").write_text("old")
    new.mkdir()
    (new / "a").write_text("new")
    fsutil.replace_dir(new, target)
    assert (target / "a").read_text() == "new" and sorted(p.name for p in tmp_path.iterdir()) == ["model"]

    again = tmp_path / ".model.tmp-2"
    again.mkdir()
    real, calls = os.replace, []

    def second_fails(src, dst):
        calls.append(src)
        if len(calls) == 2:
            raise OSError("simulated crash between renames")
        return real(src, dst)

    monkeypatch.setattr(os, "replace", second_fails)
    with pytest.raises(OSError, match="between renames"):
        fsutil.replace_dir(again, target)
    monkeypatch.undo()
    assert (target / "a").read_text() == "new" and not fsutil.aside(target).exists()
