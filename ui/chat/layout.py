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
from ui.render import escape, render_sources
from ui.style import COPY_JS

EXAMPLES: tuple[str, ...] = (
    "工作组关于资产申报提出了什么建议？",
    "2020年预防腐败问题工作组会议以什么形式举行？",
    "What has UNODC done to protect whistleblowers?",
    "What kinds of technical assistance did States parties need?",
)


# The download buttons' labels, by export format (ui.export.FORMATS).
EXPORT_LABELS = {"txt": "export_txt", "md": "export_md", "docx": "export_docx"}


@dataclass(frozen=True)
class ChatLayout:
    """The components of one chat page; the full page's extras are None in the widget (``compact``)."""

    compact: bool
    turns: gr.State  # list[Turn]: the conversation of this browser session
    lang: gr.State  # the interface language now
    last_feedback: gr.State  # id of the newest stored rating, which a comment is added to
    saved: gr.BrowserState  # {"lang": ..., "turns": [...]}: the conversation, kept in the browser
    header: gr.Markdown | gr.HTML  # the page's title (Markdown), the widget's (HTML)
    chatbot: gr.Chatbot
    box: gr.Textbox
    send: gr.Button
    new: gr.Button
    examples: gr.Dataset
    links: gr.HTML | None = None
    lang_radio: gr.Radio | None = None
    comment: gr.Textbox | None = None
    send_comment: gr.Button | None = None
    filters_box: gr.Accordion | None = None
    filter_marker: gr.HTML | None = None
    docs: gr.Dropdown | None = None
    bodies: gr.Dropdown | None = None
    years: gr.Dropdown | None = None
    sources: gr.HTML | None = None
    exports: tuple[gr.DownloadButton, ...] = ()  # txt, md, docx of the newest answer

    @property
    def filters(self) -> list[Any]:
        return [] if self.compact else [self.docs, self.bodies, self.years]

    @property
    def ask_inputs(self) -> list[Any]:
        """What ``respond`` reads: question, turns, language, then (full page) the three filters."""
        return [self.box, self.turns, self.lang, *self.filters]

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


def header_links(lang: str) -> str:
    """The header's links: the document library (what the answers come from), in the page language.

    >>> 'id="library-link" href="/source/?lang=en"' in header_links("en")
    True
    """
    return (
        f'<nav class="header-links" data-ui-lang="{lang}"><a id="library-link" href="/source/?lang={lang}" target="_blank" rel="noopener">'
        f'{escape(t("library", lang))}</a></nav>'
    )


def widget_title(lang: str) -> str:
    """The widget's one-line title (HTML), carrying the interface language for ``<html lang>``.

    >>> widget_title("en")
    '<div class="widget-title" data-ui-lang="en">UNCAC CoSP document Q&#38;A</div>'
    """
    return f'<div class="widget-title" data-ui-lang="{lang}">{escape(t("widget_title", lang))}</div>'


def lay_out(assistant: Any, *, compact: bool, storage_key: str) -> ChatLayout:
    """Create the components inside the current ``gr.Blocks``; ``assistant`` gives corpus and filter choices.

    The page reads top to bottom as a delegate uses it: the chat, the question box with the filters
    right under it (and a marker when one is active), then new conversation and export; the sources
    panel beside the chat (below it on a phone, where CSS also moves the question box first).
    """
    corpus = assistant.corpus
    lang0 = assistant.settings.ui.language
    choices = assistant.filter_choices(lang0)
    extras: dict[str, Any] = {}

    turns = gr.State([])
    lang = gr.State(lang0)
    last_feedback = gr.State(None)
    # The browser keeps the conversation under a fixed key; its secret is per server process, so a
    # restarted server starts a fresh conversation rather than reading what it did not write.
    saved = gr.BrowserState({"lang": None, "turns": []}, storage_key=storage_key)

    if compact:
        head = gr.HTML(widget_title(lang0))
    else:
        with gr.Row(equal_height=True, elem_id="header-row"):
            head = gr.Markdown(header(lang0), elem_classes="uncac-title")
            with gr.Column(scale=0, min_width=250, elem_id="header-side"):
                extras["links"] = gr.HTML(header_links(lang0), elem_id="header-links")
                extras["lang_radio"] = gr.Radio(
                    [("中文", "zh"), ("English", "en")], value=lang0, label=t("language", lang0), elem_id="lang",
                )

    with gr.Row(equal_height=False, elem_id="main-row"):
        with gr.Column(scale=3, elem_id="chat-column"):
            chatbot = gr.Chatbot(
                value=[], label=t("chat", lang0), show_label=False, height=420 if compact else 560, elem_id="chatbot",
                placeholder=t("chat_placeholder", lang0),
                sanitize_html=True, latex_delimiters=[], feedback_options=("Like", "Dislike"),
                buttons=["copy"], autoscroll=False,  # the page script scrolls the new question into view
            )
            with gr.Group(elem_id="ask-group"):
                with gr.Row(equal_height=True, elem_id="ask-row"):
                    # lines=1 with max_lines: Enter sends and Shift+Enter adds a line (Gradio's rule for
                    # one-line boxes); the box still grows to six lines as a long question is typed.
                    box = gr.Textbox(
                        label=t("question", lang0), placeholder=t("placeholder", lang0), lines=1, max_lines=6,
                        scale=6, elem_id="question", show_label=False, info=None,
                    )
                    send = gr.Button(t("send", lang0), variant="primary", scale=1, min_width=80, elem_id="send")
                if not compact:
                    with gr.Row(equal_height=True, elem_id="filter-row"):
                        with gr.Accordion(t("filters", lang0), open=False, elem_id="filters") as filters_box:
                            extras["filters_box"] = filters_box
                            extras["docs"] = gr.Dropdown(
                                choices=choices.documents, multiselect=True, label=t("filter_docs", lang0),
                                elem_id="f-docs",
                            )
                            with gr.Row():
                                extras["bodies"] = gr.Dropdown(
                                    choices=choices.bodies, multiselect=True, label=t("filter_bodies", lang0),
                                    elem_id="f-bodies",
                                )
                                extras["years"] = gr.Dropdown(
                                    choices=[str(y) for y in choices.years], multiselect=True,
                                    label=t("filter_years", lang0), elem_id="f-years",
                                )
                        extras["filter_marker"] = gr.HTML("", elem_id="filter-marker")
            with gr.Row(equal_height=True, elem_id="turn-tools"):
                new = gr.Button(t("new_chat", lang0), size="sm", elem_id="new-chat", scale=0, min_width=120)
                if not compact:
                    extras["exports"] = tuple(
                        gr.DownloadButton(
                            t(EXPORT_LABELS[fmt], lang0), value=None, size="sm",
                            interactive=False, elem_id=f"export-{fmt}", scale=0, min_width=120,
                        )
                        for fmt in EXPORT_LABELS
                    )
            examples = gr.Dataset(
                components=[gr.Textbox(visible=False)], samples=[[q] for q in EXAMPLES],
                label=t("examples", lang0), type="index", elem_id="examples",
            )
        if not compact:
            with gr.Column(scale=2, min_width=320, elem_id="sources-column"):
                extras["sources"] = gr.HTML(render_sources(None, corpus, lang0), js_on_load=COPY_JS, elem_id="sources")
    if not compact:
        with gr.Row(equal_height=True, elem_id="feedback-row"):
            extras["comment"] = gr.Textbox(
                label=t("feedback_comment", lang0), placeholder=t("feedback_placeholder", lang0),
                lines=1, scale=5, elem_id="feedback-comment",
            )
            extras["send_comment"] = gr.Button(
                t("feedback_send", lang0), size="sm", scale=1, min_width=80, elem_id="feedback-send"
            )

    return ChatLayout(compact, turns, lang, last_feedback, saved, head, chatbot, box, send, new, examples, **extras)
