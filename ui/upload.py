"""Adding a document from the web page (``ui.upload: true``): upload, preview, confirm, index, swap.

The flow, on the full page only (the widget never takes files):

1. **Upload.** A delegate picks a PDF, Word .docx, TXT or Markdown file in the "Add a document"
   accordion. Gradio stores it in its temporary folder (``/gradio_api/upload``, limited to
   ``corpus.max_file_mb`` by Gradio and by :mod:`ui.limits`); :meth:`Uploads.stage` copies it to
   ``<ui.data_dir>/uploads/upload-<random hex><suffix>`` (the delegate's file name is never a path:
   it is kept only to be shown) and deletes Gradio's copy.
2. **Preview.** The stored file is read by :mod:`rag.corpus.readers` and parsed
   (:func:`rag.corpus.loader.load_user_document`), nothing indexed yet: symbol, language, paragraph
   count, first and last paragraph, warnings. A copy of an indexed document (same symbol, same
   paragraphs) or a clashing id is refused here with the loader's own message, checked by loading the
   corpus exactly as the ingest will; every refusal removes the stored file.
3. **Confirm.** :meth:`Uploads.index` runs the handler of ``uncac-qa ingest --add <stored path>``
   (incremental and atomic, under the index's file lock) in the event's worker thread, with a
   ``gr.Progress`` bar (its tqdm bars are tracked), loads a fresh :class:`rag.engine.Engine` and
   hands it to :meth:`ui.service.Assistant.swap_engine`. Until then every question is answered by
   the engine in service. On any failure the stored upload is removed and, if the index already
   listed it, the index is rebuilt without it (incrementally): nothing indexed before changes.

**Token.** Bound to anything but 127.0.0.1/localhost, an upload needs the token held in the
environment variable named by ``ui.upload_token_env``, typed in a password box and compared with
:func:`hmac.compare_digest` before anything is kept; ``uncac-qa serve`` (and :func:`upload_token`)
refuses to start such a server when the variable is unset or empty.

Example::

    uploads = Uploads(assistant)                          # assistant.settings.ui.upload is true
    staged = uploads.stage("/tmp/gradio/…/report.pdf", "report.pdf")
    staged.symbol, staged.paragraphs                      # ("CAC/COSP/WG.4/2099/3", 4)
    uploads.index(staged)                                 # the assistant now answers from it too
"""

from __future__ import annotations

import hmac
import logging
import os
import secrets
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gradio as gr

from rag.config import Settings
from rag.errors import ConfigError, UncacQAError
from ui.i18n import t
from ui.render import escape
from ui.service import Assistant, EngineLike

log = logging.getLogger(__name__)

#: Addresses that only this machine reaches: bound to one of them, an upload needs no token.
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})

#: What the file picker offers (the readers also take ``.markdown``, and sniff the content anyway).
ACCEPTED_SUFFIXES: tuple[str, ...] = (".pdf", ".docx", ".txt", ".md", ".markdown")

#: Characters of the first and last paragraph shown in the preview.
PREVIEW_CHARS = 400

#: Fewer numbered paragraphs than this is worth a warning (a scan with one stray "1." in it…).
FEW_PARAGRAPHS = 3

#: One ingest at a time in this process: each reads the index's list of added files and writes it back.
_INDEX_LOCK = threading.Lock()


def token_required(host: str) -> bool:
    """Whether an upload to a server bound to ``host`` needs the token.

    >>> token_required("127.0.0.1"), token_required("localhost"), token_required("0.0.0.0")
    (False, False, True)
    """
    return host.strip().strip("[]").lower() not in LOCAL_HOSTS


def upload_token(settings: Settings) -> str | None:
    """The token uploads need on ``settings.ui.host`` (None: uploads off, or a local bind needing none).

    ConfigError, one line, when uploads are on, the bind is not local and the environment variable
    ``ui.upload_token_env`` is unset or empty: such a server would take files from anyone.
    """
    ui = settings.ui
    if not ui.upload or not token_required(ui.host):
        return None
    token = os.environ.get(ui.upload_token_env, "").strip()
    if not token:
        raise ConfigError(
            f"ui.upload is on and the server binds to {ui.host!r}, not 127.0.0.1/localhost, but the environment "
            f"variable {ui.upload_token_env} (ui.upload_token_env) holding the upload token is not set: set it, "
            f"bind to 127.0.0.1, or turn uploads off (--set ui.upload=false)"
        )
    return token


def upload_bytes(settings: Settings) -> int:
    """Largest file Gradio's upload route keeps: ``corpus.max_file_mb`` in the readers' megabytes (10^6)."""
    return int(settings.corpus.max_file_mb * 1_000_000)


def uploads_dir(settings: Settings) -> Path:
    return settings.path(settings.ui.data_dir) / "uploads"


# --- the work, without Gradio -----------------------------------------------------------------------


class UploadRefused(UncacQAError):
    """A refusal the page shows in the delegate's language: an interface string ``key`` and its fields."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(t(key, "en", **params))
        self.key, self.params = key, params

    def message(self, lang: str) -> str:
        return t(self.key, lang, **self.params)


@dataclass(frozen=True)
class Staged:
    """A stored, parsed, not yet indexed upload: what the preview shows and the confirmation indexes."""

    path: str  # <ui.data_dir>/uploads/upload-<hex><suffix>
    name: str  # the delegate's file name, for display only
    doc_id: str
    symbol: str | None
    ref: str  # how citations will name it (the symbol, else the stored file's stem)
    language: str
    paragraphs: int
    first: tuple[int, str]
    last: tuple[int, str]
    warnings: tuple[tuple[str, dict[str, Any]], ...] = field(default=())


def ingest_added(path: Path, settings: Settings) -> None:
    """Run what ``uncac-qa ingest --add PATH`` runs, with ``settings`` (not the project's config file)."""
    _ingest_command(["ingest", "--add", str(path)], settings)


def reindex(settings: Settings) -> None:
    """Run plain ``uncac-qa ingest``: an added file that no longer exists is dropped from the index."""
    _ingest_command(["ingest"], settings)


def _ingest_command(argv: list[str], settings: Settings) -> None:
    from rag.cli import build_parser
    from rag.commands.ingest import _ingest

    args = build_parser().parse_args(argv)  # every option's default, as the command line would give
    status = _ingest(args, settings)
    if status:
        raise UncacQAError(f"uncac-qa {' '.join(argv)} ended with status {status}")


def load_engine(settings: Settings) -> EngineLike:
    from rag.engine import Engine

    return Engine(settings).load()


def _added_files(settings: Settings) -> list[str]:
    """The files earlier ``ingest --add`` runs put in the index (its manifest), as recorded."""
    from rag.commands.ingest import indexed_additions

    return indexed_additions(settings)


Progress = Callable[..., Any]


class Uploads:
    """The upload steps for one assistant; ``index``, ``load`` and ``restore`` are the ingest, the engine
    load and the repair after a failure (replaceable in tests)."""

    def __init__(
        self, assistant: Assistant, *, index: Callable[[Path, Settings], None] = ingest_added,
        load: Callable[[Settings], EngineLike] = load_engine, restore: Callable[[Settings], None] = reindex,
    ) -> None:
        self.assistant = assistant
        self.settings: Settings = assistant.settings
        self.token = upload_token(self.settings)  # ConfigError before the page exists, like `serve`
        self.dir = uploads_dir(self.settings)
        self._index, self._load, self._restore = index, load, restore

    @property
    def token_required(self) -> bool:
        return self.token is not None

    def authorise(self, given: str | None) -> None:
        """UploadRefused unless the token is not needed or ``given`` equals it (constant-time compare)."""
        if self.token is None:
            return
        if not given or not given.strip():
            raise UploadRefused("upload_no_token")
        if not hmac.compare_digest(given.strip().encode("utf-8"), self.token.encode("utf-8")):
            raise UploadRefused("upload_bad_token")

    def stage(self, source: str | Path, name: str | None = None) -> Staged:
        """Copy Gradio's temporary file into the uploads folder under a generated name, read and parse it,
        and check it against the indexed corpus; nothing is indexed. UploadRefused (the file removed) when
        it is of no accepted kind, cannot be read or parsed, or copies an indexed document."""
        source = Path(source)
        name = name or source.name
        suffix = Path(name).suffix.lower()
        if suffix not in ACCEPTED_SUFFIXES:
            _remove(source)
            raise UploadRefused("upload_refused", name=name, msg=t("upload_kind", "en", suffix=suffix or "?"))
        self.dir.mkdir(parents=True, exist_ok=True)
        stored = self.dir / f"upload-{secrets.token_hex(8)}{suffix}"
        try:
            shutil.copyfile(source, stored)
        finally:
            _remove(source)  # Gradio's copy: the stored one is the only one kept
        try:
            return self._preview(stored, name)
        except BaseException:
            _remove(stored)
            raise

    def _preview(self, stored: Path, name: str) -> Staged:
        from rag.corpus.loader import load_corpus, load_user_document

        def refused(e: Exception) -> UploadRefused:
            # one line, naming the delegate's file (not the stored path, nor the stem a symbol-less id is made of)
            msg = " ".join(str(e).replace(str(stored), name).replace(stored.stem, name).split())
            return UploadRefused("upload_refused", name=name, msg=msg)

        try:
            doc = load_user_document(stored, self.settings.corpus)
            # The corpus exactly as the ingest will load it: the loader's refusal of a copy or a clash.
            earlier = [p for p in _added_files(self.settings) if Path(p).exists()]
            load_corpus(self.settings, extra=[*earlier, str(stored.resolve())])
        except UncacQAError as e:
            raise refused(e) from None
        paras = doc.paragraphs
        meta = doc.meta
        ref = meta.symbol or meta.short_ref
        warnings: list[tuple[str, dict[str, Any]]] = []
        if not meta.symbol:
            warnings.append(("upload_warn_no_symbol", {"ref": ref}))
        if len(paras) < FEW_PARAGRAPHS:
            warnings.append(("upload_warn_few", {"n": len(paras)}))
        return Staged(
            path=str(stored), name=name, doc_id=doc.doc_id, symbol=meta.symbol, ref=ref, language=meta.language,
            paragraphs=len(paras), first=(paras[0].para, _clip(paras[0].text)), last=(paras[-1].para, _clip(paras[-1].text)),
            warnings=tuple(warnings),
        )

    def _owned(self, staged: Staged) -> Path:
        """The staged file, only if it is one of ours (a generated name inside the uploads folder)."""
        path = Path(staged.path)
        if path.parent.resolve() != self.dir.resolve() or not path.name.startswith("upload-"):
            raise UploadRefused("upload_none")
        return path

    def discard(self, staged: Staged | None) -> None:
        """Remove a staged upload that was not indexed (a new choice, a cleared picker, a closed page)."""
        if staged is None:
            return
        with suppress(UploadRefused):
            path = self._owned(staged)
            if str(path.resolve()) not in _added_files(self.settings):
                _remove(path)

    def index(self, staged: Staged, progress: Progress | None = None, lang: str = "en") -> float:
        """Index the staged file as ``ingest --add`` does, load the new engine and swap it in; returns the
        seconds from the start to the swap. UploadRefused (``upload_failed``) with nothing indexed changed
        and the file removed when any step fails."""
        progress = progress or (lambda *a, **k: None)
        path = self._owned(staged)
        if not path.is_file():
            raise UploadRefused("upload_none")
        t0 = time.perf_counter()
        with _INDEX_LOCK:
            try:
                progress(0.05, desc=t("upload_indexing", lang, name=staged.name))
                self._index(path, self.settings)
                progress(0.85, desc=t("upload_loading", lang))
                engine = self._load(self.settings)
                if staged.doc_id not in engine.corpus.doc_ids:
                    raise UncacQAError(f"the new index does not hold {staged.doc_id!r}")
            except Exception as e:
                self._undo(path)
                if not isinstance(e, UncacQAError):
                    log.exception("indexing the upload %r failed", staged.name)
                    raise UploadRefused("upload_internal") from None
                raise UploadRefused("upload_failed", msg=" ".join(str(e).replace(str(path), staged.name).split())) from None
            self.assistant.swap_engine(engine)
        progress(1.0)
        return time.perf_counter() - t0

    def _undo(self, path: Path) -> None:
        """Remove the upload; if the index already lists it, rebuild the index without it."""
        listed = str(path.resolve()) in _added_files(self.settings)
        _remove(path)
        if listed:
            try:
                self._restore(self.settings)
            except Exception:  # noqa: BLE001 - the engine in service still answers from the old index
                log.exception("could not drop the failed upload %r from the index; run `uncac-qa ingest`", str(path))


def _remove(path: Path) -> None:
    with suppress(OSError):
        path.unlink()


def _clip(text: str, n: int = PREVIEW_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


# --- what the page shows -----------------------------------------------------------------------------


def language_name(code: str, lang: str) -> str:
    """A document language's name in the interface language (an unknown code as it is)."""
    return t(f"upload_lang_{code}", lang) if code in ("zh", "en") else code


def render_preview(staged: Staged, lang: str) -> str:
    """The preview of a staged upload (every document text escaped)."""
    symbol = escape(staged.symbol) if staged.symbol else escape(t("upload_no_symbol", lang))
    rows = [
        (t("upload_symbol", lang), symbol, "upload-symbol"),
        (t("upload_language", lang), escape(language_name(staged.language, lang)), "upload-language"),
        (t("upload_paragraphs", lang), str(staged.paragraphs), "upload-paragraphs"),
    ]
    table = "".join(f'<tr><th scope="row">{escape(k)}</th><td id="{i}">{v}</td></tr>' for k, v, i in rows)
    paras = (
        f'<p class="upload-para"><b>{escape(t("upload_first", lang, n=staged.first[0]))}</b> {escape(staged.first[1])}</p>'
    )
    if staged.paragraphs > 1:
        paras += (
            f'<p class="upload-para"><b>{escape(t("upload_last", lang, n=staged.last[0]))}</b> {escape(staged.last[1])}</p>'
        )
    warn = ""
    if staged.warnings:
        items = "".join(f"<li>{escape(t(k, lang, **p))}</li>" for k, p in staged.warnings)
        warn = f'<div class="upload-warnings"><b>{escape(t("upload_warnings", lang))}</b><ul>{items}</ul></div>'
    return (
        f'<div class="upload-preview" data-doc="{escape(staged.doc_id)}"><p class="upload-name">{escape(staged.name)}</p>'
        f'<table class="upload-meta">{table}</table>{paras}{warn}'
        f'<p class="upload-next">{escape(t("upload_ready", lang))}</p></div>'
    )


def render_line(text: str, cls: str) -> str:
    role = "alert" if cls == "upload-error" else "status"
    return f'<p class="{cls}" role="{role}">{escape(text)}</p>'


#: What the status panel shows, kept so a language switch re-renders it: ("preview", Staged),
#: ("error", UploadRefused), ("indexing", name) or ("done", fields of upload_done); None for nothing.
Shown = tuple[str, Any] | None


def render_shown(shown: Shown, lang: str) -> str:
    if not shown:
        return ""
    kind, what = shown
    if kind == "preview":
        return render_preview(what, lang)
    if kind == "error":
        return render_line(what.message(lang), "upload-error")
    if kind == "indexing":
        return render_line(t("upload_indexing", lang, name=what), "upload-progress")
    return render_line(t("upload_done", lang, **what), "upload-done")


# --- the Gradio part ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class UploadLayout:
    box: gr.Accordion
    intro: gr.Markdown
    token: gr.Textbox
    file: gr.File
    status: gr.HTML
    confirm: gr.Button
    staged: gr.State  # Staged | None: this session's stored, not yet indexed upload (never sent to the browser)
    shown: gr.State  # Shown


def lay_out_upload(uploads: Uploads, lang: str) -> UploadLayout:
    """The "Add a document" accordion, inside the current ``gr.Blocks``; no event wired."""
    with gr.Accordion(t("upload_title", lang), open=False, elem_id="upload") as box:
        intro = gr.Markdown(t("upload_intro", lang), elem_id="upload-intro")
        token = gr.Textbox(
            label=t("upload_token", lang), info=t("upload_token_info", lang), type="password", lines=1, max_lines=1,
            visible=uploads.token_required, elem_id="upload-token",
        )
        file = gr.File(
            label=t("upload_file", lang), file_count="single", file_types=list(ACCEPTED_SUFFIXES), type="filepath",
            elem_id="upload-file",
        )
        status = gr.HTML("", elem_id="upload-status")
        confirm = gr.Button(t("upload_confirm", lang), variant="primary", interactive=False, elem_id="upload-confirm")
    staged = gr.State(None, delete_callback=uploads.discard)  # a page closed before confirming: file removed
    shown = gr.State(None)
    return UploadLayout(box, intro, token, file, status, confirm, staged, shown)


class UploadHandlers:
    """The events of the accordion; every outcome, errors included, is one line (or the preview)."""

    def __init__(self, uploads: Uploads, chat: Any) -> None:
        self.uploads = uploads
        self.assistant = uploads.assistant
        self.chat = chat  # ui.chat.layout.ChatLayout: its filters get the new documents

    def received(self, path: str | None, token: str | None, lang: str, previous: Staged | None) -> tuple[Any, ...]:
        """A file arrived: (status, confirm button, staged, shown, file)."""
        self.uploads.discard(previous)
        if not path:
            return "", gr.Button(interactive=False), None, None, gr.skip()
        try:
            self.uploads.authorise(token)
            staged = self.uploads.stage(path, Path(path).name)
        except UploadRefused as e:
            _remove(Path(path))
            return render_shown(("error", e), lang), gr.Button(interactive=False), None, ("error", e), None
        except Exception:  # noqa: BLE001 - a page shows one line, the log the traceback
            log.exception("staging an upload failed")
            _remove(Path(path))
            e = UploadRefused("upload_internal")
            return render_shown(("error", e), lang), gr.Button(interactive=False), None, ("error", e), None
        shown = ("preview", staged)
        return render_shown(shown, lang), gr.Button(interactive=True), staged, shown, gr.skip()

    def cleared(self, staged: Staged | None) -> tuple[Any, ...]:
        """The picker was cleared: (status, confirm button, staged, shown)."""
        self.uploads.discard(staged)
        return "", gr.Button(interactive=False), None, None

    def confirmed(
        self, staged: Staged | None, token: str | None, lang: str, progress: Any = gr.Progress(track_tqdm=True),
    ) -> Iterator[tuple[Any, ...]]:
        """Index the staged upload: (status, confirm button, file, staged, shown, docs, bodies, years)."""
        keep = gr.skip()
        if staged is None:
            e = UploadRefused("upload_none")
            yield render_shown(("error", e), lang), gr.Button(interactive=False), keep, None, ("error", e), keep, keep, keep
            return
        indexing = ("indexing", staged.name)
        yield render_shown(indexing, lang), gr.Button(interactive=False), gr.File(interactive=False), staged, indexing, keep, keep, keep
        try:
            self.uploads.authorise(token)
            seconds = self.uploads.index(staged, progress, lang)
        except UploadRefused as e:
            if e.key in ("upload_no_token", "upload_bad_token"):
                self.uploads.discard(staged)
            shown = ("error", e)
            yield render_shown(shown, lang), gr.Button(interactive=False), gr.File(value=None, interactive=True), None, shown, keep, keep, keep
            return
        done = ("done", dict(ref=staged.ref, n=staged.paragraphs, s=f"{seconds:.1f}"))
        choices = self.assistant.filter_choices(lang)
        yield (
            render_shown(done, lang), gr.Button(interactive=False), gr.File(value=None, interactive=True), None, done,
            gr.Dropdown(choices=choices.documents), gr.Dropdown(choices=choices.bodies),
            gr.Dropdown(choices=[str(y) for y in choices.years]),
        )

    def relabel(self, lang: str, shown: Shown) -> tuple[Any, ...]:
        """The accordion in language ``lang``: (box, intro, token, file, status, confirm)."""
        return (
            gr.Accordion(label=t("upload_title", lang)), t("upload_intro", lang),
            gr.Textbox(label=t("upload_token", lang), info=t("upload_token_info", lang)),
            gr.File(label=t("upload_file", lang)), render_shown(shown, lang), gr.Button(t("upload_confirm", lang)),
        )

    def wire(self, ui: UploadLayout) -> None:
        chat = self.chat
        quiet = {"api_visibility": "private"}
        ui.file.upload(
            self.received, [ui.file, ui.token, chat.lang, ui.staged], [ui.status, ui.confirm, ui.staged, ui.shown, ui.file],
            show_progress="minimal", **quiet,
        )
        ui.file.clear(self.cleared, [ui.staged], [ui.status, ui.confirm, ui.staged, ui.shown], show_progress="hidden", **quiet)
        ui.confirm.click(
            self.confirmed, [ui.staged, ui.token, chat.lang],
            [ui.status, ui.confirm, ui.file, ui.staged, ui.shown, chat.docs, chat.bodies, chat.years],
            concurrency_limit=1, concurrency_id="upload-index", show_progress="full", show_progress_on=[ui.status], **quiet,
        )
        chat.lang.change(
            self.relabel, [chat.lang, ui.shown], [ui.box, ui.intro, ui.token, ui.file, ui.status, ui.confirm],
            show_progress="hidden", **quiet,
        )


def add_upload(assistant: Assistant, chat: Any, **work: Any) -> UploadLayout | None:
    """Place and wire "Add a document" at the end of the full page being built (inside its ``gr.Blocks``),
    when ``ui.upload`` is on; nothing (None) when it is off or for the widget. ``work`` goes to
    :class:`Uploads` (tests replace the ingest and the engine load)."""
    if not assistant.settings.ui.upload or chat.compact:
        return None
    uploads = Uploads(assistant, **work)
    ui = lay_out_upload(uploads, assistant.settings.ui.language)
    UploadHandlers(uploads, chat).wire(ui)
    return ui
