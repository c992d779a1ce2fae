"""Plain-text documents (.txt, .md, .markdown): UTF-8, with or without a byte-order mark.

The text is passed on as it is; Markdown markers (``#`` headings, ``**1.**``, ``- (a)``) are read by
the parser itself. Example::

    TextReader().read("notes.md").text     # '# Notes\\n\\n1. 工作组讨论了…'
"""

from __future__ import annotations

from pathlib import Path

from rag.corpus.readers.base import DocumentReader, ReadDocument
from rag.errors import CorpusError
from rag.fsutil import decode_problem


class TextReader(DocumentReader):
    """UTF-8 text; CorpusError naming the file when it is in another encoding."""

    format = "text"
    suffixes = (".txt", ".md", ".markdown")
    name = "text"

    def _read(self, path: Path) -> ReadDocument:
        try:
            text = path.read_text(encoding="utf-8-sig")  # universal newlines, as the manifest documents
        except UnicodeDecodeError as e:
            raise CorpusError(f"{str(path)!r} is not UTF-8 text ({decode_problem(e)}); save it as UTF-8") from None
        return ReadDocument(path, text, self.format, self.name)
