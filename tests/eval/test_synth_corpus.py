"""eval/synth_corpus.py: generated documents parse back to exactly the generator's plan (the oracle),
the same on every run, and every document prefix is the smaller corpus."""

from __future__ import annotations

import statistics
from pathlib import Path

import pytest

from eval.synth_corpus import (
    SYMBOL_SERIES,
    PlannedDocument,
    SentencePool,
    SynthSettings,
    plan_corpus,
    plan_document,
    prefix_for,
    write_corpus,
    write_manifest,
)
from rag.corpus.loader import load_manifest_documents, load_user_document

SMALL = SynthSettings(paragraphs=150, min_paragraphs=30, max_paragraphs=60, list_share=0.2)


@pytest.fixture(scope="module")
def pool(corpus) -> SentencePool:
    return SentencePool.from_corpus(corpus)


@pytest.fixture(scope="module")
def docs(pool) -> list[PlannedDocument]:
    return plan_corpus(pool, SMALL)


def _as_planned(doc) -> list[tuple]:
    return [(p.para, p.text, p.section, tuple((s.label, s.text) for s in p.subs)) for p in doc.paragraphs]


def test_documents_parse_back_to_their_plan(docs, tmp_path: Path) -> None:
    manifest = write_corpus(docs, tmp_path)
    parsed = load_manifest_documents(manifest)
    assert [d.doc_id for d in parsed] == [d.doc_id for d in docs]
    for plan, doc in zip(docs, parsed):
        assert _as_planned(doc) == [(p.para, p.text, p.section, p.subs) for p in plan.paragraphs]
        assert doc.meta.symbol == plan.symbol and doc.meta.title_zh == plan.title
        assert not doc.footnotes  # nothing of the header was taken for a footnote


def test_plan_has_the_corpus_shape(docs, corpus) -> None:
    assert sum(len(d.paragraphs) for d in docs) >= SMALL.paragraphs
    assert sum(len(d.paragraphs) for d in docs[:-1]) < SMALL.paragraphs  # whole documents, no extra one
    for d in docs:
        assert [p.para for p in d.paragraphs] == list(range(1, len(d.paragraphs) + 1))
        assert SMALL.min_paragraphs <= len(d.paragraphs) <= SMALL.max_paragraphs
        assert d.paragraphs[0].section[0].startswith("一. ")
    paragraphs = [p for d in docs for p in d.paragraphs]
    assert any(p.subs for p in paragraphs) and any(len(p.section) == 2 for p in paragraphs)
    assert all(p.subs == () or p.lead.endswith("：") for p in paragraphs)
    real = {p.text for p in corpus.paragraphs}
    copies = sum(p.text in real for p in paragraphs)  # a one-sentence paragraph may equal a real one
    assert copies < 0.2 * len(paragraphs), copies  # recombined, not copied


def test_mean_paragraph_length_is_the_real_one(pool, corpus) -> None:
    docs = plan_corpus(pool, SynthSettings(paragraphs=3000))
    real = statistics.mean(len(p.text) for p in corpus.paragraphs)
    generated = statistics.mean(len(p.text) for d in docs for p in d.paragraphs)
    assert abs(generated - real) / real < 0.15, (generated, real)


def test_deterministic_and_prefix_stable(pool, docs, tmp_path: Path) -> None:
    again = plan_corpus(pool, SMALL)
    assert [d.render() for d in again] == [d.render() for d in docs]
    bigger = plan_corpus(pool, SMALL.model_copy(update={"paragraphs": 400}))
    assert bigger[: len(docs)] == docs
    assert plan_document(pool, len(bigger) - 1, SMALL) == bigger[-1]  # document i needs no document before it
    other_seed = plan_corpus(pool, SMALL.model_copy(update={"seed": SMALL.seed + 1}))
    assert other_seed[0].render() != docs[0].render()
    a = write_manifest(docs[:2], tmp_path / "a.yaml").read_text(encoding="utf-8")
    b = write_manifest(bigger[:2], tmp_path / "b.yaml").read_text(encoding="utf-8")
    assert a == b


def test_symbols_are_unique_and_not_real(docs, corpus) -> None:
    symbols = [d.symbol for d in docs]
    assert len(set(symbols)) == len(symbols) and all(s.startswith(SYMBOL_SERIES + "/") for s in symbols)
    assert not set(symbols) & {d.meta.symbol for d in corpus.documents}


def test_a_rendered_document_is_a_user_document(pool, tmp_path: Path) -> None:
    """`uncac-qa ingest --add` reads it: the symbol from its header, the planned paragraphs."""
    plan = plan_document(pool, 900, SMALL)
    path = tmp_path / "new.txt"
    path.write_text(plan.render(), encoding="utf-8")
    doc = load_user_document(path)
    assert doc.meta.symbol == plan.symbol and doc.meta.language == "zh"
    assert [(p.para, p.text) for p in doc.paragraphs] == [(p.para, p.text) for p in plan.paragraphs]


def test_prefix_for(docs) -> None:
    sizes = [len(d.paragraphs) for d in docs]
    assert prefix_for(docs, 1) == 1
    assert prefix_for(docs, sizes[0]) == 1
    assert prefix_for(docs, sizes[0] + 1) == 2
    assert prefix_for(docs, 10**9) == len(docs)
