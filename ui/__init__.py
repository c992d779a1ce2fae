"""The web front end: the Gradio chat and widget, the source viewer and the JSON API, in one FastAPI app.

``ui.app.create_app(engine)`` builds it; ``uncac-qa serve`` runs it. Layout: ``chat`` (Blocks),
``render`` (answer/citation/source HTML), ``source_view`` (/source/<doc_id>), ``api`` (POST /api/ask),
``feedback`` (SQLite store and eval export), ``i18n`` (zh/en strings), ``service`` (the shared engine).
"""
