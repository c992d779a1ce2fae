"""Fault injection into what ``uncac-qa ingest`` stores: every file of the index directory (as the
store lists them) and of the answer-unit cache is truncated, deleted, made unreadable or swapped for
another build's file. ``uncac-qa ask`` then either answers exactly as before (the store healed itself)
or says in one line that ``uncac-qa ingest`` fixes it; ``uncac-qa ingest`` alone then repairs it.

Also: a build killed between its two renames, a killed cache save, stale temporary files.
All on a one-document site with the hashing fake encoder (tests/rag/small_site.py).
"""

from __future__ import annotations

import builtins
import io
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from embeddings import store
from embeddings.encoders import factory
from rag.answer.unit_index import UnitIndex
from tests.embeddings.fake_encoder import HashEncoder
from tests.rag.small_site import QUESTION, Site, answer_of, cli, make_site

# --- the sites: one built, one of another version (the document edited), copied per case --------------


@pytest.fixture(scope="module")
def sites(tmp_path_factory):
    """(built site, its answer to QUESTION, another version's built site); never modified."""
    from rag.cli import main
    from rag import engine as ask_command

    built = make_site(tmp_path_factory.mktemp("built"))
    other = make_site(tmp_path_factory.mktemp("other"))
    text = other.document.read_text(encoding="utf-8")
    other.document.write_text(text.replace("工作组", "工作小组", 3), encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(factory, "create_encoder", lambda _s: HashEncoder())
        mp.setattr(ask_command, "_ENGINES", {})
        for site in (built, other):
            assert main([*site.args, "ingest"]) == 0
        assert main([*built.args, "ask", QUESTION, "--json"]) == 0
    return built, other


def copy_site(site: Site, root: Path) -> Site:
    for name in ("corpus", "index", "index.units"):
        shutil.copytree(site.root / name, root / name)
    return Site(root)


def stored_files(site: Site) -> list[Path]:
    """Every file ``ingest`` stores: the index's, as the store lists them, and the unit cache's."""
    files = [site.index / name for name in store.index_files(site.index)]
    files += sorted(p for p in site.units.iterdir() if p.is_file())
    assert len(files) >= 6 and all(p.is_file() for p in files)
    return files


def deny_inode(monkeypatch, path: Path) -> None:
    """This very file (its inode) cannot be opened, as after ``chmod 000`` for anyone but root; a new
    file written in its place by a repair is readable again."""
    st = path.stat()
    bad = (st.st_dev, st.st_ino, st.st_mtime_ns)
    real_open = builtins.open

    def guarded(file, *args, **kwargs):
        if not isinstance(file, int):
            try:
                s = os.stat(file)
            except OSError:
                s = None
            if s is not None and (s.st_dev, s.st_ino, s.st_mtime_ns) == bad:
                raise PermissionError(13, "Permission denied", os.fspath(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", guarded)
    monkeypatch.setattr(io, "open", guarded)


def truncate(path: Path, _other: Path, _mp) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def delete(path: Path, _other: Path, _mp) -> None:
    path.unlink()


def unreadable(path: Path, _other: Path, mp) -> None:
    deny_inode(mp, path)


def swap(path: Path, other: Path, _mp) -> None:
    shutil.copyfile(other, path)


FAULTS: dict[str, Callable[[Path, Path, pytest.MonkeyPatch], None]] = {
    "truncated": truncate, "deleted": delete, "unreadable": unreadable, "swapped": swap,
}
#: Warning lines a healed unit cache prints: a missing cache, or another version's (some units to
#: encode), is the ordinary state after a corpus edit; a damaged one is worth saying.
CACHE_WARNINGS = {"truncated": 1, "deleted": 0, "unreadable": 1, "swapped": 0}


def one_line_naming_ingest(rc: int, out: str, err: str) -> bool:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    return (rc == 2 and out == "" and len(lines) == 1 and lines[0].startswith("uncac-qa: error: ")
            and "uncac-qa ingest" in lines[0])


def leftovers(site: Site) -> list[str]:
    """Temporary files or directories a build or a save left behind."""
    names = [p.name for p in site.root.iterdir()] + [p.name for p in site.units.iterdir()]
    return [n for n in names if ".tmp" in n or n.endswith(".old")]


@pytest.mark.parametrize("fault", FAULTS)
def test_every_stored_file_broken_is_one_line_or_healed_then_ingest_repairs(fault, sites, capsys, monkeypatch,
                                                                           tmp_path, hash_encoders):
    built, other = sites
    rc, base, _ = cli(capsys, *copy_site(built, tmp_path / "base").args, "ask", QUESTION, "--json")
    assert rc == 0
    expected = answer_of(base)
    problems = []
    for i, original in enumerate(stored_files(built)):
        site = copy_site(built, tmp_path / f"case{i}")
        target = site.root / original.relative_to(built.root)
        in_units = target.parent == site.units
        twin = other.root / original.relative_to(built.root)
        with pytest.MonkeyPatch.context() as mp:
            FAULTS[fault](target, twin, mp)
            rc, out, err = cli(capsys, *site.args, "ask", QUESTION, "--json")
            healed = rc == 0 and answer_of(out) == expected and "Traceback" not in err
            if in_units and not (healed and err.count("\n") == CACHE_WARNINGS[fault]):
                problems.append(f"{target.name} {fault}: the unit cache must heal itself (with one warning): rc {rc}, {err!r}")
            elif not (healed or one_line_naming_ingest(rc, out, err)):
                problems.append(f"{target.name} {fault}: ask gave rc {rc}, stderr {err!r}")
            rc, out, err = cli(capsys, *site.args, "ingest")
            if rc != 0 or "Traceback" in err:
                problems.append(f"{target.name} {fault}: ingest did not repair it: rc {rc}, {err!r}")
            rc, out, err = cli(capsys, *site.args, "ask", QUESTION, "--json")
            if not (rc == 0 and answer_of(out) == expected and err == ""):
                problems.append(f"{target.name} {fault}: after ingest, ask gave rc {rc}, {err!r}")
        if leftovers(site):
            problems.append(f"{target.name} {fault}: left {leftovers(site)}")
    assert not problems, "\n".join(problems)


def test_unreadable_file_for_real_when_not_root(sites, capsys, tmp_path, hash_encoders):
    """The same with a real ``chmod 000`` where it blocks reading (not as root)."""
    if os.geteuid() == 0:
        pytest.skip("root reads a chmod 000 file; the simulated variant above covers it")
    site = copy_site(sites[0], tmp_path / "s")
    for target in (site.index / "vectors.npy", next(site.units.iterdir())):
        target.chmod(0)
        rc, _, err = cli(capsys, *site.args, "ask", QUESTION, "--json")
        assert rc in (0, 2) and "Traceback" not in err
        assert cli(capsys, *site.args, "ingest")[0] == 0
        assert cli(capsys, *site.args, "ask", QUESTION, "--json")[0] == 0


def test_ingest_rebuild_repairs_a_truncated_unit_cache(sites, capsys, tmp_path, hash_encoders):
    site = copy_site(sites[0], tmp_path / "s")
    cache = next(site.units.iterdir())
    truncate(cache, cache, None)
    rc, _, err = cli(capsys, *site.args, "ingest", "--rebuild")  # re-encodes without reading it
    assert rc == 0 and "Traceback" not in err
    with np.load(cache) as z:
        assert z["vectors"].shape[0] == len(z["keys"]) > 0 and str(z["fingerprint"]) == HashEncoder().fingerprint
    rc, _, err = cli(capsys, *site.args, "ask", QUESTION, "--json")
    assert rc == 0 and err == ""


# --- 4. a build killed between its two renames -------------------------------------------------------


def test_index_left_as_old_by_a_killed_build_is_restored_with_one_warning(sites, capsys, tmp_path, hash_encoders):
    site = copy_site(sites[0], tmp_path / "s")
    rc, base, _ = cli(capsys, *site.args, "ask", QUESTION, "--json")
    os.replace(site.index, site.root / "index.old")  # as if the process died after the first rename
    (site.root / ".index.tmp-dead").mkdir()  # and a build that died while writing
    rc, out, err = cli(capsys, *site.args, "ask", QUESTION, "--json")
    assert rc == 0 and answer_of(out) == answer_of(base)
    assert err.count("\n") == 1 and err.startswith("uncac-qa: warning: ") and "index.old" in err, err
    assert site.index.is_dir() and leftovers(site) == []
    assert store.recover_index(site.index) is False  # nothing left to do
    rc, _, err = cli(capsys, *site.args, "ask", QUESTION, "--json")
    assert rc == 0 and err == ""


def test_recover_index_leaves_a_running_build_alone(sites, tmp_path):
    from filelock import FileLock

    site = copy_site(sites[0], tmp_path / "s")
    os.replace(site.index, site.root / "index.old")
    (site.root / ".index.tmp-live").mkdir()
    with FileLock(site.root / ".index.lock"):  # a build holds the index lock: it is mid-swap
        assert store.recover_index(site.index, timeout=0.1) is False
        assert (site.root / ".index.tmp-live").is_dir() and not site.index.exists()
    assert store.recover_index(site.index) is True and site.index.is_dir()
    assert not (site.root / ".index.tmp-live").exists()


# --- 3. the answer-unit cache ------------------------------------------------------------------------


def unit_index(site: Site) -> UnitIndex:
    from rag.config import load_settings
    from rag.corpus.loader import load_corpus

    s = load_settings(None, {"corpus.manifest": str(site.manifest), "index.dir": str(site.index)})
    return UnitIndex(load_corpus(s), HashEncoder(), site.units)


def test_killed_cache_save_leaves_the_old_cache_and_no_temp_file(sites, tmp_path, monkeypatch):
    site = copy_site(sites[0], tmp_path / "s")
    cache = next(site.units.iterdir())
    good = unit_index(site).load()
    # temp files of saves killed before this fix (tmp*.npz.tmp) and after it
    (site.units / "tmpab12cd.npz.tmp").write_bytes(b"half")
    (site.units / f".{cache.name}.tmp-dead").write_bytes(b"half")
    shutil.copyfile(sites[1].units / cache.name, cache)  # another version's cache: some units to encode
    older = cache.read_bytes()

    def killed(*_a, **_k):
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", killed)
    with pytest.raises(KeyboardInterrupt):
        unit_index(site).load()
    monkeypatch.undo()
    assert cache.read_bytes() == older
    assert sorted(p.name for p in site.units.iterdir()) == [cache.name]  # old temp files gone, none new
    units = unit_index(site).load()
    assert units.encoded > 0 and np.array_equal(units.vectors, good.vectors)
    again = unit_index(site).load()
    assert again.encoded == 0 and np.array_equal(again.vectors, good.vectors)


def test_cache_of_another_encoder_under_this_name_is_not_served(sites, tmp_path, caplog):
    site = copy_site(sites[0], tmp_path / "s")
    cache = next(site.units.iterdir())
    good = unit_index(site).load()
    salted = UnitIndex(good.corpus, HashEncoder(salt="v2"), tmp_path / "v2").load()
    shutil.copyfile(salted.cache_file, cache)  # same texts, vectors of another model
    again = unit_index(site).load()
    assert again.encoded == UnitIndex(good.corpus, HashEncoder(), tmp_path / "empty").load().encoded  # all
    assert np.array_equal(again.vectors, good.vectors)
    assert "another encoder" in caplog.text
