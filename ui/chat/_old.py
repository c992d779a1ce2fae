"""The Gradio chat: streamed, cited answers, a sources panel, filters, examples, feedback, zh/en.

``build_chat(assistant)`` is the full page; ``build_chat(assistant, compact=True)`` the embeddable
widget (chat only). Both keep the conversation in per-session state as ``Turn`` records and rebuild
the chat messages from them, so switching the interface language re-renders every answer's
citations in the new language.

Gradio API: ``ask`` (``Client(url).predict(question, api_name="/ask")``) returns
``AnswerResult.to_json()``, the same object as ``POST /api/ask``.

Example::

    demo = build_chat(Assistant(engine))
    gr.mount_gradio_app(app, demo, path="/")
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import gradio as gr
from pydantic import ValidationError

from rag.errors import BusyError, UncacQAError
from rag.request import Filters
from rag.result import AnswerResult
from ui.api import AskBody, validation_message
from ui.feedback import FeedbackError
from ui.i18n import LANGS, t
from ui.render import answer_steps, render_answer, render_message, render_question, render_sources, snippet
from ui.service import Assistant, question_problem
from ui.style import COPY_JS

log = logging.getLogger(__name__)

EXAMPLES: tuple[str, ...] = (
    "工作组关于资产申报提出了什么建议？",
    "2020年预防腐败问题工作组会议以什么形式举行？",
    "What has UNODC done to protect whistleblowers?",
    "What kinds of technical assistance did States parties need?",
)
STREAM_DELAY_S = 0.04  # between streamed sentences: enough for the eye, nothing for the latency
SHOWN_QUESTION_CHARS = 600  # a rejected over-long question is echoed shortened


@dataclass(frozen=True)
class Turn:
    """One exchange: the question, then its result or the interface message explaining why there is none."""

    question: str
    result: AnswerResult | None = None
    error: tuple[str, dict[str, Any]] | None = None  # (interface string key, its arguments)
    context: dict[str, Any] = field(default_factory=dict)  # filters and history it was asked with


def history_of(turns: Sequence[Turn]) -> tuple[tuple[str, str], ...]:
    """The conversation so far as the engine takes it: (question, answer) of every answered turn."""
    return tuple((tr.question, tr.result.answer) for tr in turns if tr.result is not None)


def filters_of(docs: Sequence[str] | None, bodies: Sequence[str] | None, years: Sequence[Any] | None) -> Filters:
    return Filters(tuple(docs or ()), tuple(bodies or ()), tuple(int(y) for y in years or ()))


def messages(
    turns: Sequence[Turn], lang: str, corpus: Any, *, pending: str | None = None,
    partial: tuple[AnswerResult, int] | None = None,
) -> list[dict[str, str]]:
    """Chat messages (user, assistant) for every turn, then the one being answered, if any."""
    out: list[dict[str, str]] = []
    for tr in turns:
        out.append({"role": "user", "content": render_question(tr.question)})
        if tr.result is not None:
            body = render_answer(tr.result, lang, corpus)
        elif tr.error is not None:
            body = render_message(t(tr.error[0], lang, **tr.error[1]), "msg error")
        else:
            body = render_message(t("searching", lang), "msg pending")
        out.append({"role": "assistant", "content": body})
    if pending is not None:
        out.append({"role": "user", "content": render_question(pending)})
        if partial is not None:
            body = render_answer(partial[0], lang, corpus, upto=partial[1])
        else:
            body = render_message(t("searching", lang), "msg pending")
        out.append({"role": "assistant", "content": body})
    return out


def last_result(turns: Sequence[Turn]) -> AnswerResult | None:
    return next((tr.result for tr in reversed(turns) if tr.result is not None), None)


def build_chat(assistant: Assistant, *, compact: bool = False) -> gr.Blocks:
    """The Blocks of the chat page (or, ``compact``, of the widget). Event handlers close over ``assistant``."""
    corpus = assistant.corpus
    lang0 = assistant.settings.ui.language
    choices = assistant.filter_choices(lang0)

    with gr.Blocks(title=t("widget_title" if compact else "title", lang0), fill_height=compact) as demo:
        turns = gr.State([])
        lang = gr.State(lang0)
        last_feedback = gr.State(None)

        if compact:
            header = gr.Markdown(f"**{t('widget_title', lang0)}**", elem_classes="widget-title")
            lang_radio = None
        else:
            with gr.Row(equal_height=True):
                header = gr.Markdown(_header(lang0), elem_classes="uncac-title")
                lang_radio = gr.Radio(
                    [("中文", "zh"), ("English", "en")], value=lang0, label=t("language", lang0),
                    scale=0, min_width=250, elem_id="lang",
                )

        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(
                    value=[], label=t("chat", lang0), show_label=False, height=420 if compact else 560, elem_id="chatbot",
                    placeholder=t("chat_placeholder", lang0),
                    sanitize_html=True, latex_delimiters=[], feedback_options=("Like", "Dislike"),
                    buttons=["copy"], autoscroll=True,
                )
                with gr.Row(equal_height=True):
                    box = gr.Textbox(
                        label=t("question", lang0), placeholder=t("placeholder", lang0), lines=2, max_lines=6,
                        scale=6, elem_id="question", show_label=False,
                    )
                    send = gr.Button(t("send", lang0), variant="primary", scale=1, min_width=80, elem_id="send")
                new = gr.Button(t("new_chat", lang0), size="sm", elem_id="new-chat")
                if not compact:
                    examples = gr.Dataset(
                        components=[gr.Textbox(visible=False)], samples=[[q] for q in EXAMPLES],
                        label=t("examples", lang0), type="index", elem_id="examples",
                    )
                    with gr.Row(equal_height=True):
                        comment = gr.Textbox(
                            label=t("feedback_comment", lang0), placeholder=t("feedback_placeholder", lang0),
                            lines=1, scale=5, elem_id="feedback-comment",
                        )
                        send_comment = gr.Button(
                            t("feedback_send", lang0), size="sm", scale=1, min_width=80, elem_id="feedback-send"
                        )
                    with gr.Accordion(t("filters", lang0), open=False, elem_id="filters") as filters_box:
                        docs = gr.Dropdown(
                            choices=choices.documents, multiselect=True, label=t("filter_docs", lang0), elem_id="f-docs"
                        )
                        with gr.Row():
                            bodies = gr.Dropdown(
                                choices=choices.bodies, multiselect=True, label=t("filter_bodies", lang0), elem_id="f-bodies"
                            )
                            years = gr.Dropdown(
                                choices=[str(y) for y in choices.years], multiselect=True,
                                label=t("filter_years", lang0), elem_id="f-years",
                            )
            if not compact:
                with gr.Column(scale=2, min_width=320):
                    sources = gr.HTML(render_sources(None, corpus, lang0), js_on_load=COPY_JS, elem_id="sources")

        # --- asking --------------------------------------------------------------------------------

        def respond(question: str, history: list[Turn], lang_now: str, *filter_values: Any):
            """Stream one answer: the question and "searching…", then sentence by sentence, then sources."""

            def emit(chat: Any, src: Any, state: Any, text: Any) -> tuple[Any, ...]:
                return (chat, state, text) if compact else (chat, src, state, text)

            history = list(history or [])
            problem = question_problem(question, assistant.max_chars)
            if problem is not None:
                shown = question if isinstance(question, str) else ""
                history.append(Turn(snippet(shown, SHOWN_QUESTION_CHARS) if len(shown) > SHOWN_QUESTION_CHARS else shown, error=problem))
                yield emit(messages(history, lang_now, corpus), gr.skip(), history, gr.skip())
                return
            q = question.strip()
            filters = filters_of(*filter_values) if filter_values else Filters()
            past = history_of(history)
            context = {
                "filters": {"doc_ids": list(filters.doc_ids), "bodies": list(filters.bodies), "years": list(filters.years)},
                "history": [list(h) for h in past],
            }
            yield emit(messages(history, lang_now, corpus, pending=q), gr.skip(), history, "")
            try:
                result = assistant.ask(q, filters=filters, history=past)
            except BusyError:
                history.append(Turn(q, error=("busy", {}), context=context))
                yield emit(messages(history, lang_now, corpus), gr.skip(), history, gr.skip())
                return
            except UncacQAError as e:
                history.append(Turn(q, error=("bad_input", {"msg": str(e)}), context=context))
                yield emit(messages(history, lang_now, corpus), gr.skip(), history, gr.skip())
                return
            except Exception:  # the log has the traceback; the delegate gets one clear line
                log.exception("answering %r failed", q)
                history.append(Turn(q, error=("internal_error", {}), context=context))
                yield emit(messages(history, lang_now, corpus), gr.skip(), history, gr.skip())
                return
            for i in range(1, answer_steps(result)):
                yield emit(messages(history, lang_now, corpus, pending=q, partial=(result, i)), gr.skip(), history, gr.skip())
                time.sleep(STREAM_DELAY_S)
            history.append(Turn(q, result, context=context))
            yield emit(messages(history, lang_now, corpus), render_sources(result, corpus, lang_now), history, gr.skip())

        ask_inputs = [box, turns, lang] + ([] if compact else [docs, bodies, years])
        ask_outputs = [chatbot, turns, box] if compact else [chatbot, sources, turns, box]
        for trigger in (box.submit, send.click):
            # No progress overlay: the chat itself shows "searching…" and then the streamed sentences.
            trigger(respond, ask_inputs, ask_outputs, api_visibility="private", concurrency_limit=4, show_progress="hidden")

        def clear(lang_now: str):
            cleared = ([], [], None, "")
            return cleared if compact else (*cleared, render_sources(None, corpus, lang_now))

        clear_outputs = [chatbot, turns, last_feedback, box] + ([] if compact else [sources])
        new.click(clear, [lang], clear_outputs, api_visibility="private", show_progress="hidden")
        chatbot.clear(clear, [lang], clear_outputs, api_visibility="private", show_progress="hidden")  # the chat's own 🗑 button

        if not compact:
            examples.click(lambda i: EXAMPLES[i], [examples], [box], api_visibility="private", show_progress="hidden").then(
                respond, ask_inputs, ask_outputs, api_visibility="private", show_progress="hidden"
            )

        # --- feedback ------------------------------------------------------------------------------

        def may_write(request: gr.Request | None, lang_now: str) -> bool:
            """The per-client feedback limit (``server.feedback_per_minute``); warns when it is reached."""
            client = getattr(getattr(request, "client", None), "host", None) or "unknown"
            if assistant.feedback_limiter.allow(client):
                return True
            gr.Warning(t("feedback_too_many", lang_now, n=assistant.feedback_limiter.per_minute))
            return False

        def on_like(data: gr.LikeData, history: list[Turn], lang_now: str, text: str = "", request: gr.Request = None):
            index = data.index[0] if isinstance(data.index, (list, tuple)) else data.index
            turn = history[index // 2] if isinstance(index, int) and 0 <= index // 2 < len(history) else None
            rating = {True: 1, False: -1}.get(data.liked) if isinstance(data.liked, bool) else None
            if rating is None:  # a rating withdrawn: the stored one stays, as it was given
                return gr.skip(), gr.skip()
            if turn is None or turn.result is None or index % 2 == 0:
                gr.Warning(t("feedback_not_answer", lang_now))
                return gr.skip(), gr.skip()
            if not may_write(request, lang_now):
                return gr.skip(), gr.skip()
            try:
                fid = assistant.store.add(
                    turn.result, rating=rating, comment=text or "", config=assistant.config(),
                    context=turn.context, ui_lang=lang_now,
                )
            except FeedbackError as e:
                gr.Warning(t("feedback_rejected", lang_now, msg=str(e)))
                return gr.skip(), gr.skip()
            gr.Info(t("feedback_thanks", lang_now))
            return fid, ""

        if compact:

            def on_like_compact(data: gr.LikeData, history: list[Turn], lang_now: str, request: gr.Request = None):
                return on_like(data, history, lang_now, request=request)[0]

            chatbot.like(on_like_compact, [turns, lang], [last_feedback], api_visibility="private", show_progress="hidden")
        else:
            chatbot.like(on_like, [turns, lang, comment], [last_feedback, comment], api_visibility="private", show_progress="hidden")

            def on_comment(fid: int | None, text: str, lang_now: str, request: gr.Request = None):
                if fid is None:
                    gr.Warning(t("feedback_none", lang_now))
                    return gr.skip()
                if not may_write(request, lang_now):
                    return gr.skip()
                try:
                    assistant.store.set_comment(fid, text or "")
                except FeedbackError as e:
                    gr.Warning(t("feedback_rejected", lang_now, msg=str(e)))
                    return gr.skip()
                gr.Info(t("feedback_comment_saved", lang_now))
                return ""

            send_comment.click(
                on_comment, [last_feedback, comment, lang], [comment], api_visibility="private", show_progress="hidden"
            )

        # --- interface language --------------------------------------------------------------------

        localized: list[tuple[Any, Callable[[str, list[Turn]], Any]]] = [
            (lang, lambda ln, h: ln),
            (chatbot, lambda ln, h: gr.Chatbot(
                value=messages(h, ln, corpus), label=t("chat", ln), placeholder=t("chat_placeholder", ln)
            )),
            (box, lambda ln, h: gr.Textbox(label=t("question", ln), placeholder=t("placeholder", ln))),
            (send, lambda ln, h: gr.Button(t("send", ln))),
            (new, lambda ln, h: gr.Button(t("new_chat", ln))),
        ]
        if compact:
            localized.append((header, lambda ln, h: gr.Markdown(f"**{t('widget_title', ln)}**")))
        else:
            localized += [
                (header, lambda ln, h: gr.Markdown(_header(ln))),
                (lang_radio, lambda ln, h: gr.Radio(value=ln, label=t("language", ln))),
                (examples, lambda ln, h: gr.Dataset(label=t("examples", ln))),
                (comment, lambda ln, h: gr.Textbox(label=t("feedback_comment", ln), placeholder=t("feedback_placeholder", ln))),
                (send_comment, lambda ln, h: gr.Button(t("feedback_send", ln))),
                (filters_box, lambda ln, h: gr.Accordion(label=t("filters", ln))),
                (docs, lambda ln, h: gr.Dropdown(choices=assistant.filter_choices(ln).documents, label=t("filter_docs", ln))),
                (bodies, lambda ln, h: gr.Dropdown(label=t("filter_bodies", ln))),
                (years, lambda ln, h: gr.Dropdown(label=t("filter_years", ln))),
                (sources, lambda ln, h: render_sources(last_result(h), corpus, ln)),
            ]
        loc_outputs = [c for c, _ in localized]

        def set_language(ln: str, history: list[Turn]):
            ln = ln if ln in LANGS else lang0
            return tuple(f(ln, list(history or [])) for _, f in localized)

        def initial_language(history: list[Turn], request: gr.Request):
            """``?lang=en`` in the page address picks the interface language (for the embedded widget)."""
            wanted = request.query_params.get("lang") if request is not None else None
            if wanted not in LANGS or wanted == lang0:
                return tuple(gr.skip() for _ in localized)
            return set_language(wanted, history)

        if lang_radio is not None:
            lang_radio.input(set_language, [lang_radio, turns], loc_outputs, api_visibility="private", show_progress="hidden")
        demo.load(initial_language, [turns], loc_outputs, api_visibility="private", show_progress="hidden")

        # --- API for gradio_client -----------------------------------------------------------------

        if not compact:

            def ask(
                question: str,
                doc_ids: list[str] | None = None,
                bodies: list[str] | None = None,
                years: list[int] | None = None,
                k: int | None = None,
                history: list[list[str]] | None = None,
            ) -> dict:
                """Answer a question over the documents; returns AnswerResult.to_json() (citations, retrieved, timings)."""
                # Gradio passes the JSON values as they came: validated by the same model as POST /api/ask,
                # so a bad value is one line naming the field, never Python's own text.
                fields = {"question": question, "doc_ids": doc_ids, "bodies": bodies, "years": years, "k": k, "history": history}
                try:
                    body = AskBody.model_validate({n: v for n, v in fields.items() if v is not None})
                except ValidationError as e:
                    raise gr.Error(validation_message(e)) from None
                except RecursionError:
                    raise gr.Error("a field is nested too deeply; send flat values") from None
                filters = Filters(tuple(body.doc_ids), tuple(body.bodies), tuple(body.years))
                try:
                    result = assistant.ask(body.question, filters=filters, k=body.k, history=tuple(body.history))
                except UncacQAError as e:
                    raise gr.Error(str(e)) from None
                return result.to_json()

            gr.api(ask, api_name="ask")

    return demo


def _header(lang: str) -> str:
    return f"# {t('title', lang)}\n{t('subtitle', lang)}"
