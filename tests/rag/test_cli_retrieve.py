"""``uncac-qa retrieve`` and the LangChain retriever face of the searcher."""

from __future__ import annotations

import json

from langchain_core.documents import Document

from rag.cli import main
from rag.engine import register_engine
from rag.retrieval.retriever import HybridRetriever


def test_retrieve_json_ranked_hits_with_citations(engine, capsys):
    register_engine(engine)
    assert main(["retrieve", "CAC/COSP/WG.4/2019/L.1/Add.1, para. 5", "-k", "5", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    hits = out["hits"]
    assert [h["rank"] for h in hits] == [1, 2, 3, 4, 5]
    assert hits[0]["label_en"] == "CAC/COSP/WG.4/2019/L.1/Add.1, para. 5" and "reference" in hits[0]["sources"]
    assert all(set(h) >= {"doc_id", "para", "score", "dense", "label_zh", "text"} for h in hits)


def test_retrieve_bad_k_and_unknown_doc(engine, capsys):
    register_engine(engine)
    assert main(["retrieve", "资产申报", "-k", "0"]) == 2
    assert "-k 0 is out of range" in capsys.readouterr().err
    assert main(["retrieve", "资产申报", "--doc", "nope"]) == 2
    assert "unknown document 'nope'" in capsys.readouterr().err


def test_langchain_retriever_invoke_and_batch(engine):
    r = HybridRetriever(searcher=engine.searcher, k=5)
    docs = r.invoke("毒品和犯罪问题办公室在保护举报人方面做了哪些工作？")
    assert all(isinstance(d, Document) for d in docs) and len(docs) == 5
    assert ("wg4-2019-l1-add1", 5) in {(d.metadata["doc_id"], d.metadata["para"]) for d in docs}
    assert docs[0].metadata["label_zh"] and docs[0].page_content
    batch = r.batch(["资产申报", "conflicts of interest"])
    assert [d.id for d in batch[0]] == [d.id for d in r.invoke("资产申报")]
