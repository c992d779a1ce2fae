"""The web front end: the Gradio chat and widget, the source viewer and the JSON API, in one FastAPI app.

``ui.app.create_app(engine)`` builds it; ``uncac-qa serve`` runs it (``ui.commands``, registered through
the entry-point group ``uncac_qa.commands``: ``rag`` never imports ``ui``). Layout: ``chat`` (the
Blocks: ``turns``, ``layout``, ``handlers``, ``language``), ``render`` (answer/citation/source HTML),
``source_view`` (/source/<doc_id>, Jinja templates in ``templates/source``), ``api`` (POST /api/ask),
``feedback`` (SQLite store and eval export), ``i18n`` (zh/en strings), ``service`` (the shared engine
behind one micro-batcher), ``limits``/``ratelimit``/``server`` (what hostile clients meet).
"""
