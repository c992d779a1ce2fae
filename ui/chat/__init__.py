"""The Gradio chat: streamed, cited answers, a sources panel, filters, examples, feedback, zh/en.

``build_chat(assistant)`` is the full page; ``build_chat(assistant, compact=True)`` the embeddable
widget (chat only). Both keep the conversation in per-session state as ``Turn`` records and rebuild
the chat messages from them, so switching the interface language re-renders every answer's
citations in the new language.

One module per concern: ``turns`` (the conversation and its messages), ``layout`` (the components),
``handlers`` (asking, feedback, the API), ``language`` (the localized components and switching).

Gradio API: ``ask`` (``Client(url).predict(question, api_name="/ask")``) returns
``AnswerResult.to_json()``, the same object as ``POST /api/ask``.

Example::

    demo = build_chat(Assistant(engine))
    gr.mount_gradio_app(app, demo, path="/")
"""

from __future__ import annotations

import gradio as gr

from ui.chat.handlers import ChatHandlers
from ui.chat.language import LanguageSwitch
from ui.chat.layout import lay_out
from ui.chat.turns import Turn
from ui.i18n import t
from ui.service import Assistant
from ui.upload import add_upload

__all__ = ["Turn", "build_chat"]


def build_chat(assistant: Assistant, *, compact: bool = False) -> gr.Blocks:
    """The Blocks of the chat page (or, ``compact``, of the widget), its handlers bound to ``assistant``."""
    lang0 = assistant.settings.ui.language
    with gr.Blocks(title=t("widget_title" if compact else "title", lang0), fill_height=compact) as demo:
        layout = lay_out(assistant, compact=compact, storage_key="uncac-qa-widget" if compact else "uncac-qa-chat")
        handlers = ChatHandlers(assistant, compact=compact)
        handlers.wire(layout)
        loaded = LanguageSwitch(assistant, layout).wire(layout, demo, handlers.save)
        if not compact:  # a restored conversation can be exported again
            loaded.then(handlers.exports, [layout.turns, layout.lang], list(layout.exports),
                        api_visibility="private", show_progress="hidden")
        if not compact:
            gr.api(handlers.ask, api_name="ask")
            add_upload(assistant, layout)  # "Add a document", when ui.upload is on (ui/upload.py)
    return demo
