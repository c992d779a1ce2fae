"""Interface strings in Chinese and English. Every key has both; ``t(key, lang)`` picks one.

Document text is never translated (the documents are Chinese); only the interface around it is.

Example::

    t("send", "en")                      # "Ask"
    t("too_long", "zh", n=2100, limit=2000)
"""

from __future__ import annotations

from rag.errors import UncacQAError, one_of

LANGS: tuple[str, ...] = ("zh", "en")

STRINGS: dict[str, dict[str, str]] = {
    "title": {"zh": "反腐败公约缔约国会议文件问答", "en": "UNCAC Conference of the States Parties: document Q&A"},
    "subtitle": {
        "zh": "根据缔约国会议及其工作组的中文文件作答，每个论断都附联合国文件引文，点击即可查看原段落。",
        "en": "Answers from the Chinese documents of the Conference and its working groups; every claim carries "
        "a UN citation that opens the paragraph.",
    },
    "widget_title": {"zh": "缔约国会议文件问答", "en": "UNCAC CoSP document Q&A"},
    "language": {"zh": "界面语言", "en": "Interface language"},
    "chat": {"zh": "对话", "en": "Conversation"},
    "question": {"zh": "问题", "en": "Question"},
    "placeholder": {
        "zh": "用中文或英文提问，例如：工作组关于资产申报提出了什么建议？",
        "en": "Ask in Chinese or English, e.g. What has UNODC done to protect whistleblowers?",
    },
    "chat_placeholder": {
        "zh": "在问题框中输入问题，或点击示例问题。回答中的每条引文都可点击，打开文件中的原段落。",
        "en": "Type a question in the question box, or click an example. Every citation in an answer opens its paragraph in the document.",
    },
    "send": {"zh": "提问", "en": "Ask"},
    "new_chat": {"zh": "新对话", "en": "New conversation"},
    "filters": {"zh": "筛选", "en": "Filters"},
    "filter_docs": {"zh": "文件", "en": "Documents"},
    "filter_bodies": {"zh": "机构", "en": "Body"},
    "filter_years": {"zh": "年份", "en": "Year"},
    "examples": {"zh": "示例问题", "en": "Example questions"},
    "sources": {"zh": "来源段落", "en": "Sources"},
    "sources_empty": {
        "zh": "提问后，回答所引用的段落会完整显示在这里。",
        "en": "Ask a question: the paragraphs the answer cites appear here in full.",
    },
    "searching": {"zh": "正在检索文件……", "en": "Searching the documents…"},
    "not_found": {"zh": "未在文件中找到答案。", "en": "Not found in the documents."},
    "nearest": {"zh": "最接近的段落：", "en": "The nearest paragraphs are:"},
    "copy": {"zh": "复制引文", "en": "Copy citation"},
    "copied": {"zh": "已复制", "en": "Copied"},
    "official": {"zh": "联合国正式文件", "en": "Official UN document"},
    "unsupported": {"zh": "（无来源支持）", "en": "(not supported by a source)"},
    "empty": {
        "zh": "问题为空：请输入中文或英文问题。",
        "en": "The question is empty: type a question in Chinese or English.",
    },
    "too_long": {
        "zh": "问题太长（{n} 个字符），上限为 {limit} 个字符，请缩短后再问。",
        "en": "The question is too long ({n} characters); the limit is {limit}. Shorten it and ask again.",
    },
    "control_char": {
        "zh": "问题中含有控制字符（{code}），请删除后再问。",
        "en": "The question contains a control character ({code}); remove it and ask again.",
    },
    "no_match": {
        "zh": "所选筛选条件没有共同匹配的文件（{filters}），未检索。请放宽筛选条件。",
        "en": "No document matches these filters together ({filters}), so nothing was searched. Widen the filters.",
    },
    "bad_input": {"zh": "无法处理该问题：{msg}", "en": "This question cannot be answered: {msg}"},
    "internal_error": {
        "zh": "内部错误，未能回答该问题。请重试；如仍失败，请联系管理员。",
        "en": "Internal error: the question could not be answered. Try again, or tell the administrator.",
    },
    "feedback_comment": {"zh": "反馈意见（可选）", "en": "Feedback comment (optional)"},
    "feedback_placeholder": {
        "zh": "写下意见，再点击回答下方的“赞”或“踩”图标；或点击“发送意见”，补充到上一次评价",
        "en": "Write a comment, then click thumbs up or down under an answer, or 'Send comment' to add it to your last rating",
    },
    "feedback_send": {"zh": "发送意见", "en": "Send comment"},
    "feedback_thanks": {"zh": "感谢反馈，已保存。", "en": "Thank you: your feedback is saved."},
    "feedback_comment_saved": {"zh": "意见已保存。", "en": "Comment saved."},
    "feedback_none": {
        "zh": "请先点击某个回答下方的“赞”或“踩”图标。",
        "en": "First click thumbs up or thumbs down under an answer.",
    },
    "feedback_not_answer": {"zh": "只能评价回答。", "en": "Only answers can be rated."},
    "feedback_too_many": {
        "zh": "一分钟内的评价过多（上限 {n} 次），请稍后再试。",
        "en": "Too many ratings in one minute (the limit is {n}); try again shortly.",
    },
    "feedback_rejected": {"zh": "未保存反馈：{msg}", "en": "Feedback not saved: {msg}"},
    "busy": {
        "zh": "服务器正忙，请过几秒钟再问。",
        "en": "The server is busy; ask again in a few seconds.",
    },
    "notice": {"zh": "提示", "en": "Note"},
    "viewer_back": {"zh": "返回问答", "en": "Back to the Q&A"},
    "viewer_symbol": {"zh": "文号", "en": "Symbol"},
    "viewer_date": {"zh": "日期", "en": "Date"},
    "viewer_body": {"zh": "机构", "en": "Body"},
    "viewer_session": {"zh": "会议", "en": "Session"},
    "viewer_agenda": {"zh": "议程项目", "en": "Agenda item"},
    "viewer_official": {"zh": "正式链接", "en": "Official link"},
    "viewer_front": {"zh": "文件首页", "en": "Front matter"},
    "viewer_footnotes": {"zh": "脚注", "en": "Footnotes"},
    "viewer_none": {"zh": "无", "en": "none"},
    "not_found_title": {"zh": "未找到文件", "en": "Document not found"},
    # --- the document library (/source/) and viewer navigation ---
    "library": {"zh": "文件库", "en": "Document library"},
    "library_intro": {
        "zh": "问答依据以下文件。点击文件名阅读全文；每个段落都可直接引用。",
        "en": "Answers come from these documents. Open one to read it in full; every paragraph can be cited.",
    },
    "library_paragraphs": {"zh": "段落数", "en": "Paragraphs"},
    "library_document": {"zh": "文件", "en": "Document"},
    "viewer_prev": {"zh": "上一份文件", "en": "Previous document"},
    "viewer_next": {"zh": "下一份文件", "en": "Next document"},
    "viewer_other_lang": {"zh": "English interface", "en": "中文界面"},
    "viewer_versions": {"zh": "语言版本", "en": "Language versions"},
    "other_version": {"zh": "{language}本", "en": "{language} version"},
    # --- filters shown beside the question box ---
    "filtered": {"zh": "已筛选", "en": "Filtered"},
    "no_match_short": {"zh": "（没有同时符合这些条件的文件）", "en": "(no document matches all of these)"},
    # --- export of an answer ---
    "export": {"zh": "导出回答", "en": "Export answer"},
    "export_txt": {"zh": "导出纯文本", "en": "Export as text"},
    "export_md": {"zh": "导出 Markdown", "en": "Export as Markdown"},
    "export_docx": {"zh": "导出 Word", "en": "Export as Word"},
    "export_none": {"zh": "还没有可导出的回答。", "en": "There is no answer to export yet."},
    "export_heading": {"zh": "问题：{question}", "en": "Question: {question}"},
    "export_notes": {"zh": "注", "en": "Notes"},
    "export_generated": {
        "zh": "由“{app}”于{date}生成。引文请以联合国正式文件为准。",
        "en": "Generated by {app} on {date}. Check each citation against the official UN document.",
    },
    "enter_hint": {"zh": "回车提问，Shift+回车换行", "en": "Enter to ask, Shift+Enter for a new line"},
    "not_found_body": {
        "zh": "没有这份文件。可查看的文件：",
        "en": "There is no such document. The documents are:",
    },
    # --- adding a document from the page (ui.upload; ui/upload.py) ---
    "upload_title": {"zh": "添加文件", "en": "Add a document"},
    "upload_intro": {
        "zh": "上传一份带编号段落的联合国文件（PDF、Word .docx、TXT 或 Markdown）。先显示解析预览，确认后才加入索引；建立索引期间仍可提问。",
        "en": "Upload a UN document with numbered paragraphs (PDF, Word .docx, TXT or Markdown). It is parsed and "
        "previewed first and indexed only when you confirm; questions are answered meanwhile.",
    },
    "upload_file": {"zh": "文件", "en": "File"},
    "upload_token": {"zh": "上传口令", "en": "Upload token"},
    "upload_token_info": {
        "zh": "本服务器对外开放，上传需要管理员提供的口令。",
        "en": "This server is reachable from other machines: an upload needs the token from its administrator.",
    },
    "upload_confirm": {"zh": "确认：加入索引", "en": "Confirm: index it"},
    "upload_symbol": {"zh": "文号", "en": "Symbol"},
    "upload_no_symbol": {"zh": "（未识别）", "en": "(none found)"},
    "upload_language": {"zh": "语言", "en": "Language"},
    "upload_paragraphs": {"zh": "段落数", "en": "Paragraphs"},
    "upload_first": {"zh": "第一段（第 {n} 段）", "en": "First paragraph (para. {n})"},
    "upload_last": {"zh": "最后一段（第 {n} 段）", "en": "Last paragraph (para. {n})"},
    "upload_warnings": {"zh": "注意", "en": "Warnings"},
    "upload_warn_no_symbol": {
        "zh": "文件开头未找到联合国文号，引文将标为“{ref}”。",
        "en": "No UN symbol was found in the header: citations will read “{ref}”.",
    },
    "upload_warn_few": {
        "zh": "只识别出 {n} 个编号段落，请核对预览是否完整。",
        "en": "Only {n} numbered paragraph(s) were found: check that the preview is complete.",
    },
    "upload_ready": {"zh": "核对无误后，点击“确认：加入索引”。", "en": "If this is right, click “Confirm: index it”."},
    "upload_lang_zh": {"zh": "中文", "en": "Chinese"},
    "upload_lang_en": {"zh": "英文", "en": "English"},
    "upload_refused": {"zh": "未添加“{name}”：{msg}", "en": "“{name}” was not added: {msg}"},
    "upload_kind": {
        "zh": "不接受 {suffix} 文件；可接受：PDF、Word .docx、TXT、Markdown",
        "en": "{suffix} files are not accepted; accepted: PDF, Word .docx, TXT, Markdown",
    },
    "upload_bad_token": {"zh": "上传口令不正确，文件未保存。", "en": "The upload token is wrong; the file was not kept."},
    "upload_no_token": {
        "zh": "请先填写上传口令，再选择文件。",
        "en": "Type the upload token first, then choose the file.",
    },
    "upload_none": {"zh": "请先选择文件并查看预览。", "en": "Choose a file and check its preview first."},
    "upload_indexing": {"zh": "正在为“{name}”建立索引……", "en": "Indexing “{name}”…"},
    "upload_loading": {"zh": "正在载入新索引……", "en": "Loading the new index…"},
    "upload_done": {
        "zh": "已加入索引：{ref}，{n} 个段落（用时 {s} 秒）。现在可以就此文件提问，也可在“筛选”中选择它。",
        "en": "Indexed: {ref}, {n} paragraphs (in {s} s). Ask about it now, or pick it under Filters.",
    },
    "upload_failed": {
        "zh": "未能加入索引，已索引的文件均未改变：{msg}",
        "en": "Indexing failed; nothing already indexed changed: {msg}",
    },
    "upload_internal": {
        "zh": "内部错误，文件未添加。请重试；如仍失败，请联系管理员。",
        "en": "Internal error: the document was not added. Try again, or tell the administrator.",
    },
}


# The bodies' codes as the manifest writes them, with their names in each interface language.
BODY_NAMES: dict[str, dict[str, str]] = {
    "CoSP": {"zh": "缔约国会议", "en": "Conference of the States Parties"},
    "WG.4": {"zh": "预防腐败问题工作组", "en": "Working Group on the Prevention of Corruption"},
    "IRG": {"zh": "实施情况审议组", "en": "Implementation Review Group"},
    "WG.2": {"zh": "资产追回工作组", "en": "Working Group on Asset Recovery"},
}


# The six UN languages: each one's own name (the viewer's version switch) and its name in each
# interface language (the sources panel's "Chinese version").
NATIVE_NAMES = {"zh": "中文", "en": "English", "fr": "Français", "es": "Español", "ru": "Русский", "ar": "العربية"}
LANGUAGE_NAMES = {
    "zh": {"zh": "中文", "en": "Chinese"}, "en": {"zh": "英文", "en": "English"}, "fr": {"zh": "法文", "en": "French"},
    "es": {"zh": "西班牙文", "en": "Spanish"}, "ru": {"zh": "俄文", "en": "Russian"}, "ar": {"zh": "阿拉伯文", "en": "Arabic"},
}


def language_name(code: str, lang: str) -> str:
    """A document language's name in interface language ``lang``; an unknown code as it is.

    >>> language_name("fr", "zh"), language_name("fr", "en"), language_name("xx", "en")
    ('法文', 'French', 'xx')
    """
    return LANGUAGE_NAMES.get(code, {}).get(lang, code)


def body_name(code: str | None, lang: str) -> str:
    """A body's name with its code, as a delegate reads it: "预防腐败问题工作组 (WG.4)"; an unknown code as it is.

    >>> body_name("WG.4", "en")
    'Working Group on the Prevention of Corruption (WG.4)'
    >>> body_name("XYZ", "zh")
    'XYZ'
    """
    if not code:
        return ""
    names = BODY_NAMES.get(code)
    return f"{names[lang]} ({code})" if names and lang in names else code


def t(key: str, lang: str, **fmt: object) -> str:
    """The interface string ``key`` in ``lang`` (``zh`` or ``en``), formatted with ``fmt``.

    >>> t("send", "zh")
    '提问'
    """
    try:
        entry = STRINGS[key]
    except KeyError:
        raise UncacQAError(f"unknown interface string {key!r}") from None
    if lang not in LANGS:
        raise UncacQAError(f"interface language {one_of(lang, LANGS)}")
    text = entry[lang]
    return text.format(**fmt) if fmt else text
