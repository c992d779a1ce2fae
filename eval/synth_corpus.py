"""A synthetic UN-style corpus of any size, recombined from the real corpus' own sentences.

The scale benchmark (issue 13) needs >= 50,000 paragraphs of *realistic* text: what the encoder, the
chunker, BM25 and the reader see must look like the five real documents, and every document must parse
exactly as planned, so that an index built from it is the product's index of real-looking text.
Random strings would make BM25 postings and the encoder's cost unrealistic; copies of the real
paragraphs would make every vector a cache hit. So each paragraph is 1-4 sentences drawn from the real
corpus' sentences (:func:`rag.answer.units.paragraph_units`), as long on average as a real paragraph,
in documents laid out like the real .txt files: a header (symbol line, distribution, date, language),
a title, Chinese-numbered chapters ("一. 导言"), some lettered sections ("A. 会议开幕"), consecutive
paragraph numbers, and some paragraphs introducing sub-items "(a) …".

Determinism: document ``i`` depends only on ``(seed, i)`` (its own ``random.Random``), so the first D
documents of a 50,000-paragraph corpus are exactly the D-document corpus: every prefix of the big
corpus is a benchmark size, and vectors cached while encoding a prefix serve every larger one.
Symbols are ``CAC/COSP/SYN/2031/<i+1>``, a series the UN never issued, so none collides with a real
document.

Example::

    pool = SentencePool.from_settings(load_settings())
    docs = plan_corpus(pool, SynthSettings(paragraphs=50_000))
    write_corpus(docs, Path("data/bench-scale/corpus"))      # zh/*.txt + manifest.yaml (all documents)
    write_manifest(docs[:20], Path("data/bench-scale/corpus/manifest-20.yaml"))   # a prefix

    python -m eval.synth_corpus --paragraphs 50000 --out data/bench-scale/corpus
"""

from __future__ import annotations

import argparse
import bisect
import datetime as dt
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field

from rag.answer.units import paragraph_units
from rag.config import Settings, load_settings
from rag.corpus.loader import Corpus, load_corpus
from rag.corpus.parser import CN_NUMERALS, _classify, _Notes

#: The series of the generated symbols: "CAC/COSP/SYN/2031/1", … (no real UN document has it).
SYMBOL_SERIES = "CAC/COSP/SYN/2031"
_LETTERS = "abcdefghijklmnopqrstuvwxyz"
# Inline "(a) … (b) …" in a sentence is read by the parser as sub-items of the paragraph (and so it
# should): a sentence holding one would make its paragraph parse otherwise than planned.
_INLINE_SUB = re.compile(r"[(（](?:a|一)[)）]")
_MARKER = re.compile(rf"^(?:[{CN_NUMERALS}]+|[A-Z])[.．、]\s*")


class SynthSettings(BaseModel):
    """How big and how shaped the generated corpus is."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    paragraphs: int = Field(50_000, ge=1, description="Paragraphs to generate at least (whole documents: the last one may overshoot).")
    seed: int = Field(13, description="Seed of every document's random stream (document i uses (seed, i) only).")
    min_paragraphs: int = Field(60, ge=1, description="Fewest numbered paragraphs in one document.")
    max_paragraphs: int = Field(140, ge=1, description="Most numbered paragraphs in one document (real documents have 18-130).")
    max_sentences: int = Field(4, ge=1, description="Most sentences in one paragraph.")
    list_share: float = Field(0.06, ge=0, le=1, description="Share of paragraphs that introduce sub-items '(a) …' (4% of real ones do).")
    min_items: int = Field(2, ge=1, description="Fewest sub-items of a list paragraph.")
    max_items: int = Field(5, ge=1, description="Most sub-items of a list paragraph.")
    min_chapters: int = Field(3, ge=1, description="Fewest Chinese-numbered chapters ('一. …') in one document.")
    max_chapters: int = Field(7, ge=1, description="Most chapters in one document.")
    section_share: float = Field(0.5, ge=0, le=1, description="Share of chapters divided into lettered sections ('A. …').")
    max_sections: int = Field(4, ge=2, description="Most lettered sections in a divided chapter.")
    first_date: dt.date = Field(dt.date(2031, 1, 6), description="Date of document 0; document i is i days later (a year no real document has).")


DEFAULTS = SynthSettings()


@dataclass(frozen=True)
class PlannedParagraph:
    """A paragraph as the generator writes it, and as the parser must read it back."""

    para: int
    lead: str  # the paragraph's own sentences (the list's introducing sentence for a list paragraph)
    section: tuple[str, ...]  # heading lines above it, outermost first ("二. 结论和建议", "A. …")
    subs: tuple[tuple[str, str], ...] = ()  # (label, text) of its sub-items

    @property
    def text(self) -> str:
        """The paragraph's text as the parser gives it (``Paragraph.text``): sub-items on their own lines."""
        return "\n".join([self.lead, *(f"({label}) {text}" for label, text in self.subs)])


@dataclass(frozen=True)
class PlannedDocument:
    """One generated document: metadata, and the paragraphs in order."""

    index: int
    title: str
    date: dt.date
    paragraphs: tuple[PlannedParagraph, ...]

    @property
    def doc_id(self) -> str:
        return f"syn-2031-{self.index + 1:05d}"

    @property
    def symbol(self) -> str:
        return f"{SYMBOL_SERIES}/{self.index + 1}"

    @property
    def file(self) -> str:
        return f"zh/{self.doc_id}.txt"

    def render(self) -> str:
        """The .txt file: a header as the real Word exports have, then headings and numbered paragraphs."""
        lines = [
            self.symbol, "联合国反腐败公约 缔约国会议", "", "Distr.: General", f"{self.date.day} {self.date:%B %Y}",
            "Chinese", "Original: English", "", f"第{_cn_number(self.index % 12 + 1)}届会议", "", self.title, "",
        ]
        section: tuple[str, ...] = ()
        for p in self.paragraphs:
            for depth, heading in enumerate(p.section):
                if section[depth : depth + 1] != (heading,):
                    lines += [heading, ""]
            section = p.section
            lines.append(f"{p.para}. {p.lead}")
            lines += [f" - ({label}) {text}" for label, text in p.subs]
            lines.append("")
        return "\n".join(lines)

    def manifest_entry(self) -> dict:
        return {
            "file": self.file, "doc_id": self.doc_id, "symbol": self.symbol,
            "short_ref": self.symbol, "short_ref_zh": self.symbol, "language": "zh",
            "date": self.date.isoformat(), "body": "CoSP", "doc_type": "report",
            "title_zh": self.title, "official_url": None,
        }


@dataclass(frozen=True)
class SentencePool:
    """What documents are recombined from: the real corpus' sentences, list leads and items, headings,
    titles, and its paragraph lengths (the target each generated paragraph is filled up to)."""

    sentences: tuple[str, ...]  # self-contained sentences ending in "。"
    leads: tuple[str, ...]  # sentences that introduce a list ("…履行下列职能：")
    items: tuple[str, ...]  # sub-item texts
    chapters: tuple[str, ...]  # chapter titles without their numeral ("结论和建议")
    sections: tuple[str, ...]  # lettered section titles without their letter
    titles: tuple[str, ...]
    lengths: tuple[int, ...]  # sorted lengths of the real paragraphs' own text

    @classmethod
    def from_corpus(cls, corpus: Corpus) -> SentencePool:
        sentences, leads, items, chapters, sections = [], [], [], [], []
        for p in corpus.paragraphs:
            for u in paragraph_units(p):
                text = u.text.strip()
                if not _plain(text):
                    continue
                if u.sub is not None:
                    items.append(text)
                elif text.endswith("。"):
                    sentences.append(text)
                elif text.endswith("："):
                    leads.append(text)
            for heading in p.section:
                title = _MARKER.sub("", heading)
                if heading[:1] in CN_NUMERALS:
                    chapters.append(title)
                elif re.match(r"^[A-Z][.．]", heading):
                    sections.append(title)
        lengths = sorted(len(p.text) for p in corpus.paragraphs if not p.subs)
        titles = [d.meta.title for d in corpus.documents]
        return cls(*(tuple(dict.fromkeys(x)) for x in (sentences, leads, items, chapters, sections, titles)),
                   lengths=tuple(lengths))

    @classmethod
    def from_settings(cls, settings: Settings) -> SentencePool:
        return cls.from_corpus(load_corpus(settings))


def _plain(text: str) -> bool:
    """A sentence that reads back as itself on a paragraph's line: one line, no footnote mark, no
    inline sub-item run, and (for a sub-item's text) no marker the parser would take for a new line."""
    if "\n" in text or "*" in text or any(c in "⁰¹²³⁴⁵⁶⁷⁸⁹" for c in text) or _INLINE_SUB.search(text):
        return False
    return _classify(text, _Notes()).kind == "text"


def _cn_number(n: int) -> str:
    """1 -> 一, 10 -> 十, 12 -> 十二, 20 -> 二十 (chapter numerals, as the real documents write them)."""
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else CN_NUMERALS[tens - 1] + "十")
    return head + (CN_NUMERALS[ones - 1] if ones else "")


def _rng(seed: int, index: int) -> random.Random:
    # A str seed is hashed with SHA-512 by random.Random: the same stream on every run and platform.
    return random.Random(f"synth-corpus:{seed}:{index}")


def _paragraph_text(pool: SentencePool, rng: random.Random, cfg: SynthSettings) -> str:
    target = pool.lengths[rng.randrange(len(pool.lengths))]
    text = rng.choice(pool.sentences)
    for _ in range(cfg.max_sentences - 1):
        if len(text) >= target:
            break
        text += rng.choice(pool.sentences)
    return text


def plan_document(pool: SentencePool, index: int, cfg: SynthSettings = DEFAULTS) -> PlannedDocument:
    """Document ``index`` of the corpus: a function of (cfg, index) and the pool only."""
    rng = _rng(cfg.seed, index)
    n = rng.randint(cfg.min_paragraphs, cfg.max_paragraphs)
    n_chapters = rng.randint(cfg.min_chapters, min(cfg.max_chapters, n))
    # Where each chapter starts: paragraph 1, then n_chapters - 1 distinct later paragraphs.
    starts = sorted([1, *rng.sample(range(2, n + 1), n_chapters - 1)])
    section_starts: dict[int, tuple[str, ...]] = {}
    for c, start in enumerate(starts):
        end = starts[c + 1] if c + 1 < len(starts) else n + 1
        chapter = f"{_cn_number(c + 1)}. {rng.choice(pool.chapters)}"
        section_starts[start] = (chapter,)
        if end - start >= 4 and rng.random() < cfg.section_share:
            k = rng.randint(2, min(cfg.max_sections, (end - start) // 2))
            for s, sub_start in enumerate(sorted([start, *rng.sample(range(start + 1, end), k - 1)])):
                section_starts[sub_start] = (chapter, f"{'ABCDEFGH'[s]}. {rng.choice(pool.sections)}")
    paragraphs = []
    section: tuple[str, ...] = ()
    for para in range(1, n + 1):
        section = section_starts.get(para, section)
        if pool.leads and pool.items and rng.random() < cfg.list_share:
            k = rng.randint(cfg.min_items, cfg.max_items)
            subs = tuple((_LETTERS[j], rng.choice(pool.items)) for j in range(k))
            paragraphs.append(PlannedParagraph(para, rng.choice(pool.leads), section, subs))
        else:
            paragraphs.append(PlannedParagraph(para, _paragraph_text(pool, rng, cfg), section))
    title = f"{rng.choice(pool.titles)}（综合文件第{index + 1}号）"
    return PlannedDocument(index, title, cfg.first_date + dt.timedelta(days=index), tuple(paragraphs))


def plan_corpus(pool: SentencePool, cfg: SynthSettings = DEFAULTS) -> list[PlannedDocument]:
    """Documents 0, 1, … until they hold at least ``cfg.paragraphs`` paragraphs."""
    docs: list[PlannedDocument] = []
    total = 0
    while total < cfg.paragraphs:
        docs.append(plan_document(pool, len(docs), cfg))
        total += len(docs[-1].paragraphs)
    return docs


def prefix_for(docs: Sequence[PlannedDocument], paragraphs: int) -> int:
    """How many leading documents hold at least ``paragraphs`` paragraphs (all of them if they hold fewer)."""
    cumulative = []
    total = 0
    for d in docs:
        total += len(d.paragraphs)
        cumulative.append(total)
    return min(len(docs), bisect.bisect_left(cumulative, paragraphs) + 1)


def write_manifest(docs: Sequence[PlannedDocument], path: Path) -> Path:
    """A manifest listing ``docs`` (their files relative to ``path``'s folder, where write_corpus puts them)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    body = yaml.safe_dump({"documents": [d.manifest_entry() for d in docs]}, allow_unicode=True, sort_keys=False)
    path.write_text("# Generated by eval/synth_corpus.py; do not edit.\n" + body, encoding="utf-8")
    return path


def write_document(doc: PlannedDocument, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(doc.render(), encoding="utf-8")
    return path


def write_corpus(docs: Sequence[PlannedDocument], out: Path) -> Path:
    """Every document under ``out/zh/`` and ``out/manifest.yaml`` listing them all; returns the manifest."""
    for d in docs:
        write_document(d, out / d.file)
    return write_manifest(docs, out / "manifest.yaml")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m eval.synth_corpus", description=__doc__.split("\n\n")[0])
    ap.add_argument("--paragraphs", type=int, default=DEFAULTS.paragraphs, help="paragraphs to generate at least")
    ap.add_argument("--seed", type=int, default=DEFAULTS.seed)
    ap.add_argument("--out", type=Path, default=Path("data/bench-scale/corpus"), help="folder for zh/*.txt and manifest.yaml")
    ap.add_argument("--config", type=Path, default=None, help="config whose corpus gives the sentences (default: the project's)")
    args = ap.parse_args(argv)
    pool = SentencePool.from_settings(load_settings(args.config))
    docs = plan_corpus(pool, SynthSettings(paragraphs=args.paragraphs, seed=args.seed))
    manifest = write_corpus(docs, args.out)
    n = sum(len(d.paragraphs) for d in docs)
    chars = sum(len(p.text) for d in docs for p in d.paragraphs) / n
    print(f"{len(docs)} documents, {n} paragraphs (mean {chars:.0f} characters) from {len(pool.sentences)} "
          f"real sentences; manifest {manifest}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
