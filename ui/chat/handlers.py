"""What the chat does when a delegate acts: ask (streamed), start over, rate an answer, comment, and
the ``ask`` API for gradio_client.

:class:`ChatHandlers` holds the shared :class:`ui.service.Assistant`; its methods are the Gradio
event handlers, and :meth:`ChatHandlers.wire` attaches them to a :class:`ui.chat.layout.ChatLayout`.
The method names are the handlers' names in ``demo.fns`` (``respond``, ``clear``, ``on_like``,
``on_comment``, ``ask``).

A question is validated in one place, ``Engine.request`` (through ``Assistant.request``): a rule
the question breaks comes back as ``QueryError.key``/``params``, which the chat says in the
interface language without asking anything.

Example::

    handlers = ChatHandlers(assistant, compact=False)
    steps = list(handlers.respond("资产申报？", [], "zh", [], [], []))   # (chat, sources, turns, box) each
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr
from pydantic import ValidationError

from rag.errors import BusyError, QueryError, UncacQAError
from rag.request import Filters
from ui.api import AskBody, validation_message
from ui.chat.layout import EXAMPLES, EXPORT_LABELS, ChatLayout
from ui.chat.turns import Turn, context_of, filters_of, history_of, last_result, messages, new_answer_id, saved
from ui.export import FORMATS, export_answer
from ui.feedback import FeedbackError
from ui.i18n import t
from ui.render import answer_steps, describe_filters, render_filter_marker, render_sources, snippet
from ui.service import Assistant

log = logging.getLogger(__name__)

STREAM_DELAY_S = 0.04  # between streamed sentences: enough for the eye, nothing for the latency
SHOWN_QUESTION_CHARS = 600  # a rejected over-long question is echoed shortened
CONCURRENCY_LIMIT = 4  # questions one page streams at once; the batcher answers them together


class ChatHandlers:
    """The event handlers of one chat page (``compact``: the widget, which has no sources panel)."""

    def __init__(self, assistant: Assistant, *, compact: bool) -> None:
        self.assistant = assistant
        self.corpus = assistant.corpus
        self.compact = compact

    # --- asking --------------------------------------------------------------------------------------

    def _emit(self, chat: Any, sources: Any, turns: Any, box: Any) -> tuple[Any, ...]:
        return (chat, turns, box) if self.compact else (chat, sources, turns, box)

    def respond(self, question: str, history: list[Turn], lang_now: str, *filter_values: Any) -> Iterator[tuple[Any, ...]]:
        """Stream one answer: the question and "searching…", then sentence by sentence, then sources."""
        corpus, skip = self.corpus, gr.skip
        history = list(history or [])
        filters = filters_of(*filter_values) if filter_values else Filters()
        past = history_of(history)
        failure: Exception | None = None
        try:
            request = self.assistant.request(question, filters=filters, history=past)
        except QueryError as e:
            if e.key == "empty":  # nothing to show as a question: a notice beside the box, no bubble
                gr.Warning(t("empty", lang_now))
                yield self._emit(skip(), skip(), skip(), skip())
                return
            if e.key == "no_match":  # each filter exists, not together: said at once, nothing searched
                history.append(Turn(question.strip(), error=("no_match", {"filters": describe_filters(filters, lang_now, corpus)})))
                yield self._emit(messages(history, lang_now, corpus), skip(), history, skip())
                return
            if e.key != "bad_input":  # a rule the question breaks (too long...): said at once, nothing asked
                shown = question if isinstance(question, str) else ""
                if len(shown) > SHOWN_QUESTION_CHARS:
                    shown = snippet(shown, SHOWN_QUESTION_CHARS)
                history.append(Turn(shown, error=(e.key, e.params)))
                yield self._emit(messages(history, lang_now, corpus), skip(), history, skip())
                return
            failure = e  # a filter or the history: reported in the answer's place, as an engine error is
        except Exception as e:  # noqa: BLE001 - reported below, after the question is shown
            failure = e
        q = question.strip()
        context = context_of(filters, past)
        yield self._emit(messages(history, lang_now, corpus, pending=q), skip(), history, "")
        try:
            if failure is not None:
                raise failure
            result = self.assistant.answer(request)
        except BusyError:
            history.append(Turn(q, error=("busy", {}), context=context))
            yield self._emit(messages(history, lang_now, corpus), skip(), history, skip())
            return
        except UncacQAError as e:
            history.append(Turn(q, error=("bad_input", {"msg": str(e)}), context=context))
            yield self._emit(messages(history, lang_now, corpus), skip(), history, skip())
            return
        except Exception:  # the log has the traceback; the delegate gets one clear line
            log.exception("answering %r failed", q)
            history.append(Turn(q, error=("internal_error", {}), context=context))
            yield self._emit(messages(history, lang_now, corpus), skip(), history, skip())
            return
        for i in range(1, answer_steps(result)):
            yield self._emit(messages(history, lang_now, corpus, pending=q, partial=(result, i)), skip(), history, skip())
            time.sleep(STREAM_DELAY_S)
        history.append(Turn(q, result, context=context, answer_id=new_answer_id()))
        yield self._emit(messages(history, lang_now, corpus), render_sources(result, corpus, lang_now), history, skip())

    def clear(self, lang_now: str) -> tuple[Any, ...]:
        """A new conversation: empty chat, turns and rating (and the sources panel's start text, no export).

        The question box is left alone: a delegate may already be typing the next question when the
        reset lands.
        """
        cleared = ([], [], None)
        if self.compact:
            return cleared
        return (*cleared, render_sources(None, self.corpus, lang_now), *self.exports([], lang_now))

    # --- keeping the conversation in the browser, exporting an answer, the filter marker -------------

    @staticmethod
    def save(history: list[Turn], lang_now: str) -> dict[str, Any]:
        """What the browser keeps (``gr.BrowserState``): the interface language and the conversation."""
        return {"lang": lang_now, "turns": saved(history or [])}

    def exports(self, history: list[Turn], lang_now: str) -> tuple[Any, ...]:
        """The three download buttons for the newest answer (txt, md, docx), disabled before the first.

        The files are written when the answer arrives (a few ms), so one click downloads: a button that
        first had to produce its file would need a second click.
        """
        result = last_result(history or [])
        out = []
        for fmt in FORMATS:
            label = t(EXPORT_LABELS[fmt], lang_now)
            if result is None:
                out.append(gr.DownloadButton(label, value=None, interactive=False))
                continue
            exported = export_answer(result, fmt, lang_now, self.corpus)
            folder = Path(tempfile.mkdtemp(prefix="uncac-export-"))
            path = folder / exported.filename
            path.write_bytes(exported.data)
            out.append(gr.DownloadButton(label, value=str(path), interactive=True))
        return tuple(out)

    def marker(self, docs: Any, bodies: Any, years: Any, lang_now: str) -> str:
        """The "filtered: …" line under the question box; empty when no filter is set."""
        return render_filter_marker(filters_of(docs, bodies, years), lang_now, self.corpus)

    # --- feedback ------------------------------------------------------------------------------------

    def may_write(self, request: gr.Request | None, lang_now: str) -> bool:
        """The per-client feedback limit (``server.feedback_per_minute``); warns when it is reached."""
        client = getattr(getattr(request, "client", None), "host", None) or "unknown"
        limiter = self.assistant.feedback_limiter
        if limiter.allow(client):
            return True
        gr.Warning(t("feedback_too_many", lang_now, n=limiter.per_minute))
        return False

    def on_like(self, data: gr.LikeData, history: list[Turn], lang_now: str, text: str = "", request: gr.Request = None):
        """Store a thumbs up/down on an answer (with the comment typed so far); returns (rating id, box)."""
        index = data.index[0] if isinstance(data.index, (list, tuple)) else data.index
        turn = history[index // 2] if isinstance(index, int) and 0 <= index // 2 < len(history) else None
        rating = {True: 1, False: -1}.get(data.liked) if isinstance(data.liked, bool) else None
        if rating is None:  # a rating withdrawn: the stored one stays, as it was given
            return gr.skip(), gr.skip()
        if turn is None or turn.result is None or index % 2 == 0:
            gr.Warning(t("feedback_not_answer", lang_now))
            return gr.skip(), gr.skip()
        if not self.may_write(request, lang_now):
            return gr.skip(), gr.skip()
        try:
            fid = self.assistant.store.add(
                turn.result, rating=rating, comment=text or "", config=self.assistant.config(),
                context=turn.context, ui_lang=lang_now, answer_id=turn.answer_id,
            )
        except FeedbackError as e:
            gr.Warning(t("feedback_rejected", lang_now, msg=str(e)))
            return gr.skip(), gr.skip()
        gr.Info(t("feedback_thanks", lang_now))
        return fid, ""

    def on_like_compact(self, data: gr.LikeData, history: list[Turn], lang_now: str, request: gr.Request = None):
        """The widget's rating: no comment box, so only the rating id comes back."""
        return self.on_like(data, history, lang_now, request=request)[0]

    def on_comment(self, fid: int | None, text: str, lang_now: str, request: gr.Request = None):
        """Add the comment to the newest rating of this session; returns the emptied comment box."""
        if fid is None:
            gr.Warning(t("feedback_none", lang_now))
            return gr.skip()
        if not self.may_write(request, lang_now):
            return gr.skip()
        try:
            self.assistant.store.set_comment(fid, text or "")
        except FeedbackError as e:
            gr.Warning(t("feedback_rejected", lang_now, msg=str(e)))
            return gr.skip()
        gr.Info(t("feedback_comment_saved", lang_now))
        return ""

    # --- API for gradio_client -----------------------------------------------------------------------

    def ask(
        self,
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
            result = self.assistant.ask(body.question, filters=filters, k=body.k, history=tuple(body.history))
        except UncacQAError as e:
            raise gr.Error(str(e)) from None
        return result.to_json()

    # --- wiring --------------------------------------------------------------------------------------

    def wire(self, ui: ChatLayout) -> None:
        """Attach the handlers to the page's events (inside its ``gr.Blocks``), all private to the page;
        the one API, :meth:`ask`, is published by ``build_chat``."""
        quiet = {"api_visibility": "private", "show_progress": "hidden"}  # the chat shows its own progress
        after_answer = [(self.save, [ui.turns, ui.lang], [ui.saved])]
        if not self.compact:
            after_answer.append((self.exports, [ui.turns, ui.lang], list(ui.exports)))

        def then_all(event: Any) -> None:
            for fn, inputs, outputs in after_answer:
                event.then(fn, inputs, outputs, **quiet)

        for trigger in (ui.box.submit, ui.send.click):
            then_all(trigger(self.respond, ui.ask_inputs, ui.ask_outputs, concurrency_limit=CONCURRENCY_LIMIT, **quiet))
        example = ui.examples.click(lambda i: EXAMPLES[i], [ui.examples], [ui.box], **quiet)
        then_all(example.then(self.respond, ui.ask_inputs, ui.ask_outputs, **quiet))

        clear_outputs = [ui.chatbot, ui.turns, ui.last_feedback] + ([] if self.compact else [ui.sources, *ui.exports])
        for trigger in (ui.new.click, ui.chatbot.clear):  # the button, and the chat's own 🗑
            trigger(self.clear, [ui.lang], clear_outputs, **quiet).then(self.save, [ui.turns, ui.lang], [ui.saved], **quiet)

        if self.compact:
            ui.chatbot.like(self.on_like_compact, [ui.turns, ui.lang], [ui.last_feedback], **quiet)
            return
        ui.chatbot.like(self.on_like, [ui.turns, ui.lang, ui.comment], [ui.last_feedback, ui.comment], **quiet)
        ui.send_comment.click(self.on_comment, [ui.last_feedback, ui.comment, ui.lang], [ui.comment], **quiet)
        for dropdown in ui.filters:
            dropdown.change(self.marker, [*ui.filters, ui.lang], [ui.filter_marker], **quiet)
