"""Repairs after a build that died between its two renames: served from <dir>.old, then restored."""

from __future__ import annotations

import os

from embeddings.store import (
    read_manifest,
)
from tests.embeddings.fake_encoder import HashEncoder
from tests.embeddings.store.support import (
    build,
    load,
    results,
)


def test_crash_between_renames_is_served_from_old_and_recovered(tmp_path, small, settings):
    directory = tmp_path / "index"
    build(small, HashEncoder(), settings, directory=directory)
    expected = results(load(directory, HashEncoder(), settings), HashEncoder())
    os.replace(directory, tmp_path / "index.old")  # as if the process died after the first rename
    assert results(load(directory, HashEncoder(), settings), HashEncoder()) == expected
    assert read_manifest(directory)["n_chunks"] == len(small)
    report = build(small, HashEncoder(), settings, directory=directory)
    assert report.reused == len(small) and not (tmp_path / "index.old").exists()
