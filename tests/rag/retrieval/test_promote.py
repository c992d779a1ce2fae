"""Entity promotion (``rag.retrieval.promote``): hits naming the question's entity or year move first."""

from __future__ import annotations

from rag.retrieval.promote import EntityPromoter


def test_hits_naming_the_entity_move_first_stably(engine):
    q = "What did the panellist from Mauritius say about effective anti-corruption agencies?"
    hits = engine.searcher.search([q])[0]
    promoted = EntityPromoter(engine.corpus, engine.settings.answer.promote_max_share).promote(q, hits)
    assert sorted(h.chunk.id for h in promoted) == sorted(h.chunk.id for h in hits)
    naming = [h for h in hits if "毛里求斯" in h.chunk.embed_text]
    assert naming and promoted[: len(naming)] == naming  # in their original order


def test_an_entity_most_paragraphs_mention_picks_out_nothing(engine):
    p = EntityPromoter(engine.corpus, 0.2)
    assert p.share(("毒品和犯罪问题办公室",)) > 0.2  # UNODC: about 40% of the paragraphs
    hits = engine.searcher.search(["资产申报"])[0]
    assert p.promote("资产申报", hits) is hits  # no entity, no year: untouched
