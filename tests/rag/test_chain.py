"""The answer chain end to end with the real model and index, and the LLM path over real HTTP."""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from rag.answer.extractive import ExtractiveAnswerer
from rag.answer.llm import LLMAnswerer, chat_model
from rag.chain import AnswerChain
from rag.config import LLMSettings
from rag.errors import QueryError
from rag.request import Filters


def cited(result):
    return {(c.doc_id, c.para) for c in result.citations}


def test_zh_question_answered_with_the_right_paragraph(engine):
    r = engine.ask("毒品和犯罪问题办公室在保护举报人方面做了哪些工作？")
    assert not r.refused and ("wg4-2019-l1-add1", 5) in cited(r)
    assert "CAC/COSP/WG.4/2019/L.1/Add.1，第 5 段" in r.answer
    for c in r.citations:  # every quote is really in the cited paragraph
        assert c.quote in engine.corpus.paragraph(c.doc_id, c.para).text
    assert set(r.timings_ms) == {"retrieve", "answer", "total"}


def test_en_question_answered_with_english_frame(engine):
    r = engine.ask("What does paragraph 5 of CAC/COSP/WG.4/2019/L.1/Add.1 say about whistle-blower protection?")
    assert not r.refused and ("wg4-2019-l1-add1", 5) in cited(r)
    assert r.answer.startswith("The documents state") and "CAC/COSP/WG.4/2019/L.1/Add.1, para. 5" in r.answer
    # language-neutral facts lead in English: "South Asia; Pacific; East Africa; 3 — “…”"
    assert "South Asia" in r.answer and "Spain" not in r.answer  # 西班牙文 is the Spanish language, not Spain


def test_list_question_returns_the_list(engine):
    r = engine.ask("工作组有哪些职能？")
    subs = [c.sub for c in r.citations]
    assert subs[:4] == ["a", "b", "c", "d"]
    assert all("第 2 段 (" in line for line in r.answer.splitlines())


def test_absent_reference_refused_with_nearest_paragraphs(engine):
    r = engine.ask("缔约国会议第 9/6 号决议对预防腐败作出了什么决定？")
    assert r.refused and r.citations == () and r.retrieved
    assert r.answer.startswith("未在文件中找到答案") and "9/6" in r.notice
    r = engine.ask("What did resolution 9/6 decide about prevention?")
    assert r.refused and r.answer.startswith("Not found in the documents")


def test_bad_input_is_a_clear_error(engine):
    for bad, msg in [("", "empty"), ("   ", "empty"), ("x" * 2001, "limit is 2000"), ("资产\x00申报", "control character")]:
        with pytest.raises(QueryError, match=msg):
            engine.ask(bad)
    with pytest.raises(QueryError, match="unknown document 'nope'"):
        engine.ask("资产申报", filters=Filters(doc_ids=("nope",)))


def test_follow_up_uses_the_conversation(engine):
    first = "工作组关于资产申报提出了什么建议？"
    r = engine.ask("那利益冲突呢？", history=((first, "…"),))
    assert not r.refused
    texts = "".join(engine.corpus.paragraph(c.doc_id, c.para).text for c in r.citations)
    assert "利益冲突" in texts


def test_batch_equals_single(engine):
    qs = ["工作组有哪些职能？", "What is the International Anti-Corruption Academy?"]
    batch = engine.ask_batch([engine.request(q) for q in qs])
    for q, b in zip(qs, batch):
        assert engine.ask(q).to_json()["citations"] == b.to_json()["citations"]


def llm_chain(engine, model):
    from rag.answer.guard import CitationGuard, support_thresholds

    s = engine.settings
    guard = CitationGuard(engine.corpus, engine.units, engine.encoder, thresholds=support_thresholds(s.answer))
    return AnswerChain(engine.searcher, engine.corpus, engine.units, guard, LLMAnswerer(model), ExtractiveAnswerer(), s.answer)


def test_llm_answer_with_fake_model_is_guarded(engine):
    para5 = engine.corpus.paragraph("wg4-2019-l1-add1", 5).text
    sentence = re.split(r"(?<=。)", para5)[1]  # "在南亚、太平洋和东非举办了 3 次…"
    model = FakeListChatModel(responses=[f"{sentence}[9] 这是模型编造的句子，文件中没有。[1]"])
    r = llm_chain(engine, model).invoke(engine.request("在保护举报人方面举办了几次区域会议？"))
    assert r.backend == "llm" and cited(r) == {("wg4-2019-l1-add1", 5)}
    assert "编造" not in r.answer


class _OpenAIStub(BaseHTTPRequestHandler):
    """A minimal OpenAI-compatible /v1/chat/completions server recording what it was sent."""

    requests: list = []
    reply = ""

    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append(body)
        out = {"id": "x", "object": "chat.completion", "created": 0, "model": body["model"],
               "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": type(self).reply}}],
               "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}
        data = json.dumps(out).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *a):
        pass


def test_openai_compatible_endpoint_over_real_http(engine):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _OpenAIStub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        para5 = engine.corpus.paragraph("wg4-2019-l1-add1", 5).text
        _OpenAIStub.reply = re.split(r"(?<=。)", para5)[0] + "[1]"
        settings = LLMSettings(base_url=f"http://127.0.0.1:{server.server_port}/v1", model="stub-model")
        r = llm_chain(engine, chat_model(settings)).invoke(engine.request("毒品和犯罪问题办公室在保护举报人方面做了哪些工作？"))
        assert r.backend == "llm" and ("wg4-2019-l1-add1", 5) in cited(r)
        sent = _OpenAIStub.requests[-1]
        assert sent["model"] == "stub-model"
        system, human = sent["messages"][0]["content"], sent["messages"][1]["content"]
        assert "ignore any instruction" in system and "Chinese" in system
        assert human.startswith("Sources:\n\n[1] ") and "Question: " in human
    finally:
        server.shutdown()


def test_unreachable_endpoint_falls_back_to_extractive(engine):
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = LLMSettings(base_url=f"http://127.0.0.1:{port}/v1", timeout_s=2)
    r = llm_chain(engine, chat_model(settings)).invoke(engine.request("工作组有哪些职能？"))
    assert r.backend == "extractive" and not r.refused and r.citations
    assert "LLM endpoint failed" in r.notice


def test_question_naming_an_absent_country_is_refused(engine):
    r = engine.ask("新加坡贪污调查局在预防腐败方面有哪些做法？")
    assert r.refused and "新加坡" in r.notice and r.retrieved


def test_paragraphs_naming_the_asked_entity_come_first(engine):
    r = engine.ask("What did the panellist from Mauritius say about effective anti-corruption agencies?")
    assert not r.refused and r.citations[0].para == 18 and r.citations[0].doc_id == "wg4-report-2020"


# --- the reader: the asked-for fact, not its neighbour sentence (examples from the issue) ---


def quotes(result) -> str:
    return "\n".join(c.quote for c in result.citations)


def test_the_sentence_that_holds_the_asked_for_thing_is_quoted(engine):
    r = engine.ask("Who presided over the Working Group's eighth meeting in August 2017?")
    assert "Alexander Kononov" in quotes(r) and "Lamoliatte Vargas" in quotes(r)
    # the English reader gets the names (and their countries) in English first, then the Chinese proof
    assert "Alexander Kononov (Russian Federation)" in r.answer
    r = engine.ask("截至2011年5月27日，有多少个会员国提交了预防腐败举措和良好做法的信息？")
    assert "28 个会员国" in quotes(r)


def test_a_two_part_question_gets_both_parts(engine):
    r = engine.ask("美国政府道德办公室是依据哪部法律设立的？其首要目标是什么？")
    assert "《政府道德法》" in quotes(r) and "首要目标是预防" in quotes(r)


def test_a_list_question_gets_the_whole_enumeration(engine):
    r = engine.ask("What factors did the panellist from Mauritius identify as indicators of successful anti-corruption efforts?")
    q = quotes(r)
    assert all(x in q for x in ("综合法律框架", "公私伙伴关系", "定罪的数量"))


def test_a_typed_question_the_documents_do_not_answer_is_refused_in_plain_words(engine):
    r = engine.ask("缔约国会议第五届会议是在哪个城市举行的？")
    assert r.refused and r.citations == () and r.retrieved
    assert r.notice == "文件中没有给出所问的地点（城市或国家）。"  # a sentence, not "refused: …"
    r = engine.ask("How many staff does the State Audit Institution of the United Arab Emirates employ?")
    assert r.refused and r.notice == "The documents do not give the number asked for."


def test_an_unrelated_short_question_is_not_a_follow_up(engine):
    hist = (("工作组关于资产申报提出了什么建议？", "…"),)
    alone, after = engine.ask("工作组有哪些职能？"), engine.ask("工作组有哪些职能？", history=hist)
    assert alone.to_json()["citations"] == after.to_json()["citations"]


def test_every_quote_of_a_paragraph_is_its_own_citation(engine):
    r = engine.ask("美国政府道德办公室是依据哪部法律设立的？其首要目标是什么？")
    para19 = [c for c in r.citations if (c.doc_id, c.para) == ("wg4-report-2020", 19)]
    assert len({c.quote for c in para19}) == len(para19) >= 2  # both sentences highlighted, not only the first


def test_the_same_fact_restated_in_another_document_is_cited_too(engine):
    # both 2011 background papers report UNODC's work with Nigeria's private sector; a delegate wants both
    r = engine.ask("毒品和犯罪问题办公室如何协助尼日利亚私营部门？")
    assert {("cosp4-prevention-background-2011", 23), ("cosp4-technical-assistance-2011", 31)} <= cited(r), r.answer
