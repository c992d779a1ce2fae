"""The chat's handlers (ui/chat/handlers.py), called directly: streaming, validation (the engine's
QueryError said in the interface language), history, filters, start over, feedback."""

from __future__ import annotations

from types import SimpleNamespace

import gradio as gr
import pytest

from ui.chat import Turn

ZH = "工作组关于资产申报提出了什么建议？"


def test_answer_streams_searching_then_sentences_then_sources(chat, run):
    steps = run(ZH)
    assert len(steps) >= 3
    first_chat, first_src, _, first_box = steps[0]
    assert "正在检索文件" in first_chat[-1]["content"] and first_box == ""
    assert isinstance(first_src, type(gr.skip()))  # the sources panel keeps the last answer until this one is ready
    assert steps[1][0][-1]["content"].count('class="cite"') < steps[-1][0][-1]["content"].count('class="cite"')
    final_chat, final_src, turns, _ = steps[-1]
    assert [m["role"] for m in final_chat] == ["user", "assistant"]
    assert 'class="cite"' in final_chat[1]["content"] and "<mark>" in final_src
    assert turns[0].result is not None and turns[0].question == ZH


def test_follow_up_passes_the_conversation_as_history(chat, run):
    turns = run(ZH)[-1][2]
    run("那么2017年呢？", turns)
    assert chat.engine.calls[-1]["history"] == ((ZH, turns[0].result.answer),)


def test_filters_reach_the_engine(chat, run):
    run(ZH, docs=["wg4-report-2017"], bodies=["WG.4"], years=["2017"])
    f = chat.engine.calls[-1]["filters"]
    assert f.doc_ids == ("wg4-report-2017",) and f.bodies == ("WG.4",) and f.years == (2017,)


@pytest.mark.parametrize("question", ["", "   \n "])
def test_an_empty_question_is_a_notice_and_never_a_bubble(chat, question, run):
    n = len(chat.engine.calls)
    for lang, text in (("zh", "问题为空"), ("en", "The question is empty")):
        with pytest.warns(UserWarning, match=text):
            (step,) = run(question, lang=lang)
        assert all(isinstance(v, type(gr.skip())) for v in step)  # chat, sources, turns and box unchanged
    assert len(chat.engine.calls) == n


@pytest.mark.parametrize("question, zh, en", [
    ("字" * 2001, "问题太长（2001 个字符）", "too long (2001 characters); the limit is 2000"),
    ("资产\x07申报", "控制字符（U+0007）", "control character (U+0007)"),
])
def test_bad_input_is_a_clear_message_in_the_chat_without_asking(chat, question, zh, en, run):
    n = len(chat.engine.calls)
    for lang, text in (("zh", zh), ("en", en)):
        (step,) = run(question, lang=lang)
        assert text in step[0][-1]["content"] and 'class="msg error"' in step[0][-1]["content"]
        assert "Traceback" not in step[0][-1]["content"]
    assert len(chat.engine.calls) == n


def test_html_in_the_question_is_shown_escaped(chat, run):
    final = run("<img src=x onerror=alert(1)>资产申报<script>alert(2)</script>")[-1][0]
    shown = final[0]["content"]
    assert "<img" not in shown and "<script" not in shown and "&#60;script&#62;" in shown


def test_engine_failure_is_one_clean_line(chat, monkeypatch, run):
    monkeypatch.setattr(chat.engine, "ask_batch", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("boom secret")))
    final = run(ZH, lang="en")[-1][0][-1]["content"]
    assert "Internal error" in final and "boom secret" not in final


def test_filters_that_match_no_document_together_are_said_before_searching(chat, run):
    n = len(chat.engine.calls)
    (step,) = run("资产申报", lang="zh", docs=["wg4-report-2020"], years=["2011"])
    shown = step[0][-1]["content"]
    assert "没有共同匹配的文件" in shown and "年份：2011" in shown and 'class="msg error"' in shown
    assert "threshold" not in shown and "refused" not in shown and len(chat.engine.calls) == n


def test_new_conversation_clears_everything_but_the_question_being_typed(chat):
    chatbot, turns, last_feedback, sources, *exports = chat.fns["clear"]("en")
    assert chatbot == [] and turns == [] and last_feedback is None and "Ask a question" in sources
    assert len(exports) == 3 and all(not e.interactive and e.value is None for e in exports)


def test_exports_are_written_for_the_newest_answer(chat, run, tmp_path):
    import docx

    turns = run(ZH)[-1][2]
    txt, md, word = chat.fns["exports"](turns, "zh")
    assert all(b.interactive for b in (txt, md, word))
    txt, md, word = (b.value["path"] if isinstance(b.value, dict) else b.value for b in (txt, md, word))
    label = turns[0].result.citations[0].label_zh
    assert label in open(txt, encoding="utf-8").read() and "[^1]" in open(md, encoding="utf-8").read()
    notes = [p for p in docx.Document(word).part.package.parts if str(p.partname) == "/word/footnotes.xml"]
    assert notes and label in notes[0].blob.decode("utf-8")


def test_the_conversation_is_kept_and_restored_checked(chat, run):
    from ui.chat.turns import restored

    turns = run(ZH)[-1][2]
    kept = chat.fns["save"](turns, "en")
    assert kept["lang"] == "en" and restored(kept["turns"]) == turns
    forged = kept["turns"] + [{"question": "x", "result": {"question": 1}}, {"question": "y", "error": ["nope", {}]}]
    assert restored(forged) == turns  # what is not a turn is dropped, not shown


def test_like_and_comment_are_stored(chat, run):
    turns = run(ZH)[-1][2]
    dislike = SimpleNamespace(index=1, value="", liked=False)
    fid, box = chat.fns["on_like"](dislike, turns, "zh", "引用段落不对")
    assert box == ""
    chat.fns["on_comment"](fid, "应引用第 8 段", "zh")
    row = chat.assistant.store.rows()[-1]
    assert row.id == fid and row.rating == -1 and row.comment == "应引用第 8 段" and row.question == ZH
    assert row.config["ui"]["data_dir"] and row.citations  # the configuration that produced the answer
    n = len(chat.assistant.store.rows())
    up = SimpleNamespace(index=1, value="", liked=True)
    assert chat.fns["on_like"](up, turns, "zh", "")[0] == fid  # a changed mind replaces the vote
    assert chat.assistant.store.rows()[-1].rating == 1 and len(chat.assistant.store.rows()) == n
    user_message = SimpleNamespace(index=0, value="", liked=True)  # only answers can be rated
    with pytest.warns(UserWarning, match="只能评价回答"):
        chat.fns["on_like"](user_message, [Turn("q", turns[0].result)], "zh", "")
    withdrawn = SimpleNamespace(index=1, value="", liked=None)
    chat.fns["on_like"](withdrawn, turns, "zh", "")
    assert len(chat.assistant.store.rows()) == n
