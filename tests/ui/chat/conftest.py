"""The chat's fixture: one full page around the fake engine, its handlers called by name (no browser).

``run(question, turns, lang, docs, bodies, years)`` asks through ``respond`` and returns every
streamed step.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from ui.chat import build_chat
from ui.feedback import FeedbackStore
from ui.service import Assistant

ZH = "工作组关于资产申报提出了什么建议？"


@pytest.fixture(scope="module")
def chat(fake_engine, tmp_path_factory):
    assistant = Assistant(fake_engine, FeedbackStore(tmp_path_factory.mktemp("chat") / "feedback.sqlite3"))
    demo = build_chat(assistant)
    fns = {f.name: f.fn for f in demo.fns.values()}
    return SimpleNamespace(assistant=assistant, demo=demo, fns=fns, engine=fake_engine)


@pytest.fixture
def run(chat):
    def ask(question, turns=(), lang="zh", docs=(), bodies=(), years=()):
        return list(chat.fns["respond"](question, list(turns), lang, list(docs), list(bodies), list(years)))

    return ask
