"""Document text as a reader should see it: the corpus keeps the source text exactly as it is, but a
Markdown link left in it by the conversion ("（[CAC/COSP/WG.4/2017/3](#)）" in the 2017 report) is shown
as its text — linked when it names a document that is indexed — never as literal brackets.

Example::

    runs("背景文件（[CAC/COSP/WG.4/2017/3](#)）。")
    # (('背景文件（', None), ('CAC/COSP/WG.4/2017/3', '#'), ('）。', None))
"""

from __future__ import annotations

import re

# [text](target): text without brackets or newlines, target without spaces or parentheses.
MD_LINK = re.compile(r"\[([^\[\]\n]{1,200})\]\(([^()\s]{0,500})\)")


def runs(text: str) -> tuple[tuple[str, str | None], ...]:
    """``text`` as runs of (shown text, link target or None); a Markdown link becomes its text and target.

    >>> runs("见（[CAC/COSP/WG.4/2017/3](#)）。")
    (('见（', None), ('CAC/COSP/WG.4/2017/3', '#'), ('）。', None))
    >>> runs("no link")
    (('no link', None),)
    """
    out: list[tuple[str, str | None]] = []
    pos = 0
    for m in MD_LINK.finditer(text):
        if m.start() > pos:
            out.append((text[pos : m.start()], None))
        out.append((m.group(1), m.group(2)))
        pos = m.end()
    if pos < len(text) or not out:
        out.append((text[pos:], None))
    return tuple(out)


def plain(text: str) -> str:
    """``text`` with each Markdown link replaced by its text: what is copied, exported and highlighted.

    >>> plain("背景文件（[CAC/COSP/WG.4/2017/3](#)）。")
    '背景文件（CAC/COSP/WG.4/2017/3）。'
    """
    return MD_LINK.sub(lambda m: m.group(1), text)
