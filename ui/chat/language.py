"""The chat's interface language: which component shows which string, and switching all of them.

:func:`localized` is the table (component, how it looks in language ``ln`` with turns ``h``);
:class:`LanguageSwitch` applies it when the language radio changes (``set_language``) and when a page
is opened with ``?lang=en`` (``initial_language``, for the embedded widget). The chat is re-rendered
from its turns, so every citation label changes language too.

Example::

    switch = LanguageSwitch(assistant, layout)
    switch.wire(layout, demo)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gradio as gr

from ui.chat.layout import EXPORT_LABELS, ChatLayout, header, header_links, widget_title
from ui.chat.turns import Turn, last_result, messages, restored
from ui.export import FORMATS
from ui.i18n import LANGS, t
from ui.render import render_sources

Localizer = Callable[[str, list[Turn]], Any]


def localized(assistant: Any, ui: ChatLayout) -> list[tuple[Any, Localizer]]:
    """Every component whose text depends on the language, with its update for a language and turns.

    The first entry is the language state itself; the full page's last is the sources panel.
    """
    corpus = assistant.corpus
    table: list[tuple[Any, Localizer]] = [
        (ui.lang, lambda ln, h: ln),
        (ui.chatbot, lambda ln, h: gr.Chatbot(
            value=messages(h, ln, corpus), label=t("chat", ln), placeholder=t("chat_placeholder", ln)
        )),
        (ui.box, lambda ln, h: gr.Textbox(label=t("question", ln), placeholder=t("placeholder", ln))),
        (ui.send, lambda ln, h: gr.Button(t("send", ln))),
        (ui.new, lambda ln, h: gr.Button(t("new_chat", ln))),
    ]
    table.append((ui.examples, lambda ln, h: gr.Dataset(label=t("examples", ln))))
    if ui.compact:
        return table + [(ui.header, lambda ln, h: widget_title(ln))]
    return table + [
        (ui.header, lambda ln, h: gr.Markdown(header(ln))),
        (ui.links, lambda ln, h: header_links(ln)),
        (ui.lang_radio, lambda ln, h: gr.Radio(value=ln, label=t("language", ln))),
        (ui.comment, lambda ln, h: gr.Textbox(label=t("feedback_comment", ln), placeholder=t("feedback_placeholder", ln))),
        (ui.send_comment, lambda ln, h: gr.Button(t("feedback_send", ln))),
        (ui.filters_box, lambda ln, h: gr.Accordion(label=t("filters", ln))),
        (ui.docs, lambda ln, h: gr.Dropdown(choices=assistant.filter_choices(ln).documents, label=t("filter_docs", ln))),
        (ui.bodies, lambda ln, h: gr.Dropdown(label=t("filter_bodies", ln))),
        (ui.years, lambda ln, h: gr.Dropdown(label=t("filter_years", ln))),
        *[(button, _export_label(fmt)) for fmt, button in zip(FORMATS, ui.exports)],
        (ui.sources, lambda ln, h: render_sources(last_result(h), corpus, ln)),
    ]


def _export_label(fmt: str) -> Localizer:
    return lambda ln, h: gr.DownloadButton(t(EXPORT_LABELS[fmt], ln))


# The page's <html lang> follows the interface language (screen readers, hyphenation, CJK fonts).
# It reads the language from the header (``data-ui-lang``), which every switch re-renders: a gr.State's
# value never reaches the browser.
HTML_LANG_JS = (
    "() => { const e = document.querySelector('[data-ui-lang]');"
    " if (e) document.documentElement.lang = e.dataset.uiLang === 'zh' ? 'zh-Hans' : 'en'; }"
)


class LanguageSwitch:
    """Re-labels one chat page; an unknown language falls back to the configured one (``ui.language``)."""

    def __init__(self, assistant: Any, ui: ChatLayout) -> None:
        self.default = assistant.settings.ui.language
        self.table = localized(assistant, ui)

    @property
    def outputs(self) -> list[Any]:
        return [c for c, _ in self.table]

    def set_language(self, ln: str, history: list[Turn]) -> tuple[Any, ...]:
        """Every localized component in language ``ln``, the chat re-rendered from ``history``."""
        ln = ln if ln in LANGS else self.default
        return tuple(f(ln, list(history or [])) for _, f in self.table)

    def restore(self, kept: Any, request: gr.Request) -> tuple[Any, ...]:
        """The page as it was: the conversation and language the browser kept (``gr.BrowserState``);
        ``?lang=en`` in the page address (the embedded widget) overrides the kept language.

        Returns every localized component, then the turns.
        """
        kept = kept if isinstance(kept, dict) else {}
        turns = restored(kept.get("turns"))
        wanted = request.query_params.get("lang") if request is not None else None
        ln = next((x for x in (wanted, kept.get("lang")) if x in LANGS), self.default)
        if ln == self.default and not turns:
            return (*(gr.skip() for _ in self.table), gr.skip())
        return (*self.set_language(ln, turns), turns)

    def wire(self, ui: ChatLayout, demo: gr.Blocks, save: Callable[..., Any]) -> Any:
        """The language radio (full page) re-labels the page and is kept in the browser; the page load
        restores what the browser kept. Both set ``<html lang>``. Returns the load event, for what
        needs the restored turns."""
        quiet = {"api_visibility": "private", "show_progress": "hidden"}
        if ui.lang_radio is not None:
            switched = ui.lang_radio.input(self.set_language, [ui.lang_radio, ui.turns], self.outputs, **quiet)
            switched.then(None, None, None, js=HTML_LANG_JS, **quiet)
            switched.then(save, [ui.turns, ui.lang], [ui.saved], **quiet)
        loaded = demo.load(self.restore, [ui.saved], [*self.outputs, ui.turns], **quiet)
        return loaded.then(None, None, None, js=HTML_LANG_JS, **quiet)
