"""Switching the interface language (ui/chat/language.py) re-renders the chat from its turns."""

from __future__ import annotations

ZH = "工作组关于资产申报提出了什么建议？"



def test_language_switch_re_renders_citations(chat, run):
    turns = run(ZH)[-1][2]
    outputs = chat.fns["set_language"]("en", turns)
    html = str(outputs[1].value[1]["content"])
    first_label = html.split('class="cite"')[1].split("</a>")[0]
    assert "para." in first_label and "第" not in first_label
    assert outputs[0] == "en" and "Sources" in outputs[-1]
