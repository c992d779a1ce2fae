"""The chat page's components, laid out inside an open ``gr.Blocks``: no event is wired here.

:func:`lay_out` places the page (header and language switch, chat, question box, examples, feedback
comment, filters, sources panel) or, ``compact``, the widget (title, chat, question box) and returns
the components as a :class:`ChatLayout`, which ``ui.chat.handlers`` and ``ui.chat.language`` wire.
Every label is in the configured start language; ``ui.chat.language`` re-labels them.

Example::

    with gr.Blocks() as demo:
        layout = lay_out(assistant, compact=False)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from ui.i18n import t
from ui.render import render_sources
from ui.style import COPY_JS

EXAMPLES: tuple[str, ...] = (
    "工作组关于资产申报提出了什么建议？",
    "2020年预防腐败问题工作组会议以什么形式举行？",
    "What has UNODC done to protect whistleblowers?",
    "What kinds of technical assistance did States parties need?",
)


@dataclass(frozen=True)
class ChatLayout:
    """The components of one chat page; the full page's extras are None in the widget (``compact``)."""

    compact: bool
    turns: gr.State  # list[Turn]: the conversation of this browser session
    lang: gr.State  # the interface language now
    last_feedback: gr.State  # id of the newest stored rating, which a comment is added to
    header: gr.Markdown
    chatbot: gr.Chatbot
    box: gr.Textbox
    send: gr.Button
    new: gr.Button
    lang_radio: gr.Radio | None = None
    examples: gr.Dataset | None = None
    comment: gr.Textbox | None = None
    send_comment: gr.Button | None = None
    filters_box: gr.Accordion | None = None
    docs: gr.Dropdown | None = None
    bodies: gr.Dropdown | None = None
    years: gr.Dropdown | None = None
    sources: gr.HTML | None = None

    @property
    def ask_inputs(self) -> list[Any]:
        """What ``respond`` reads: question, turns, language, then (full page) the three filters."""
        return [self.box, self.turns, self.lang] + ([] if self.compact else [self.docs, self.bodies, self.years])

    @property
    def ask_outputs(self) -> list[Any]:
        """What ``respond`` writes: the chat, (full page) the sources panel, the turns, the question box."""
        if self.compact:
            return [self.chatbot, self.turns, self.box]
        return [self.chatbot, self.sources, self.turns, self.box]


def header(lang: str) -> str:
    """The full page's title block (Markdown).

    >>> header("en").splitlines()[0].startswith("# ")
    True
    """
    return f"# {t('title', lang)}\n{t('subtitle', lang)}"


def widget_title(lang: str) -> str:
    """The widget's one-line title (Markdown)."""
    return f"**{t('widget_title', lang)}**"


def lay_out(assistant: Any, *, compact: bool) -> ChatLayout:
    """Create the components inside the current ``gr.Blocks``; ``assistant`` gives corpus and filter choices."""
    corpus = assistant.corpus
    lang0 = assistant.settings.ui.language
    choices = assistant.filter_choices(lang0)
    extras: dict[str, Any] = {}

    turns = gr.State([])
    lang = gr.State(lang0)
    last_feedback = gr.State(None)

    if compact:
        head = gr.Markdown(widget_title(lang0), elem_classes="widget-title")
    else:
        with gr.Row(equal_height=True):
            head = gr.Markdown(header(lang0), elem_classes="uncac-title")
            extras["lang_radio"] = gr.Radio(
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
                extras["examples"] = gr.Dataset(
                    components=[gr.Textbox(visible=False)], samples=[[q] for q in EXAMPLES],
                    label=t("examples", lang0), type="index", elem_id="examples",
                )
                with gr.Row(equal_height=True):
                    extras["comment"] = gr.Textbox(
                        label=t("feedback_comment", lang0), placeholder=t("feedback_placeholder", lang0),
                        lines=1, scale=5, elem_id="feedback-comment",
                    )
                    extras["send_comment"] = gr.Button(
                        t("feedback_send", lang0), size="sm", scale=1, min_width=80, elem_id="feedback-send"
                    )
                with gr.Accordion(t("filters", lang0), open=False, elem_id="filters") as filters_box:
                    extras["filters_box"] = filters_box
                    extras["docs"] = gr.Dropdown(
                        choices=choices.documents, multiselect=True, label=t("filter_docs", lang0), elem_id="f-docs"
                    )
                    with gr.Row():
                        extras["bodies"] = gr.Dropdown(
                            choices=choices.bodies, multiselect=True, label=t("filter_bodies", lang0), elem_id="f-bodies"
                        )
                        extras["years"] = gr.Dropdown(
                            choices=[str(y) for y in choices.years], multiselect=True,
                            label=t("filter_years", lang0), elem_id="f-years",
                        )
        if not compact:
            with gr.Column(scale=2, min_width=320):
                extras["sources"] = gr.HTML(render_sources(None, corpus, lang0), js_on_load=COPY_JS, elem_id="sources")

    return ChatLayout(compact, turns, lang, last_feedback, head, chatbot, box, send, new, **extras)
