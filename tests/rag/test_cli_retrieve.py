"""``uncac-qa retrieve``."""

from __future__ import annotations

import json

from rag.cli import main
from rag.engine import register_engine


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
