"""CSS of the Gradio app, the script of the sources panel's copy buttons and the page script (copy an
answer as text, keep the newest question in view). No external resources."""

import json

import gradio as gr

FONT_SANS = [
    "system-ui", "-apple-system", "Segoe UI", "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei",
    "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "sans-serif",
]
FONT_MONO = ["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"]

# Gradio's default theme with text colours that pass WCAG AA (4.5:1) on their backgrounds: its
# subdued greys (#BBBBC2 on white, 1.9:1) and the orange primary button (3.6:1) did not. UN blue.
THEME = gr.themes.Default(font=FONT_SANS, font_mono=FONT_MONO).set(
    body_text_color_subdued="#4b5563",
    input_placeholder_color="#5f6673",
    block_label_text_color="#374151",
    block_info_text_color="#4b5563",
    button_primary_background_fill="#1f5fa8",
    button_primary_background_fill_hover="#174a85",
    button_primary_text_color="#ffffff",
    button_primary_border_color="#1f5fa8",
    color_accent_soft="#e8f0fb",
)

CSS = """
.uncac-title h1 { font-size: 1.4rem; margin: 0; }
.uncac-title p { margin: .2rem 0 0; color: var(--body-text-color-subdued); }
.answer p { margin: 0 0 .45rem; }
.answer .lead { color: var(--body-text-color-subdued); font-style: italic; }
.answer .cites { white-space: normal; font-size: .92em; }
.answer a.cite, .sources a.cite { color: #1f5fa8; text-decoration: underline; text-underline-offset: 2px; }
.answer .unsupported { color: #a33; }
.answer .notice, .sources .hint { color: var(--body-text-color-subdued); font-size: .9em; }
.answer.refused strong { color: #8a4b00; }
.answer ul.nearest { margin: .2rem 0 0 1.1rem; padding: 0; }
.answer ul.nearest li { margin: .25rem 0; }
.answer .snippet { color: var(--body-text-color-subdued); }
.msg.error { color: #a33; }
.msg.pending { color: var(--body-text-color-subdued); font-style: italic; }
.sources { max-height: 78vh; overflow-y: auto; padding-right: .25rem; }
.sources-title { margin: 0 0 .5rem; font-size: 1.05rem; }
.src-card { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: .6rem .75rem;
            margin: 0 0 .75rem; background: var(--background-fill-primary); }
.src-head { font-weight: 600; }
.label-row { display: flex; gap: .5rem; align-items: flex-start; justify-content: space-between; margin-bottom: .15rem; }
.label-row a.cite { flex: 1; text-align: left; }
.copy-cite { flex: none; white-space: nowrap; font-size: .75rem; font-weight: 400; padding: .05rem .45rem; border-radius: 4px; cursor: pointer;
             border: 1px solid var(--border-color-primary); background: var(--background-fill-secondary); }
.copy-cite.done { background: #dff3e3; border-color: #7cc48a; }
.src-meta, .src-section { font-size: .8rem; color: var(--body-text-color-subdued); margin-top: .2rem; }
.src-text { margin-top: .45rem; line-height: 1.7; font-size: .92rem; }
.src-text mark, .src-quote mark { background: #ffe58a; padding: 0 .1rem; border-radius: 2px; }
.src-quote { margin: .4rem 0; font-size: .9rem; }
.widget-title { font-size: 1rem; font-weight: 600; }
.src-version { margin-top: .5rem; border-top: 1px dashed var(--border-color-primary); padding-top: .35rem; }
.src-version summary { font-size: .85rem; color: #374151; cursor: pointer; }
.header-links { text-align: right; font-size: .95rem; }
.header-links a { color: #1f5fa8; text-decoration: underline; }
#filter-marker:not(:has(.filter-marker)) { display: none; }
.filter-marker { font-size: .85rem; color: #1d2330; background: #e8f0fb; border-left: 3px solid #1f5fa8;
                 padding: .25rem .5rem; border-radius: 4px; }
.filter-marker .filter-empty { color: #8a1c1c; font-weight: 600; }
#chatbot button.uncac-copied { outline: 2px solid #2e7d32; border-radius: 4px; }
/* A phone: the question box first, then the chat, the sources right after it, then the tools and
   examples. The chat column's children join the main row (display: contents) so they can be ordered. */
@media (max-width: 640px) {
  #header-row { flex-wrap: wrap; }
  #header-row > * { min-width: 100% !important; flex-basis: 100% !important; }
  .header-links { text-align: left; }
  #main-row { flex-direction: column; flex-wrap: nowrap; }
  #chat-column { display: contents; }
  #ask-group { order: 1; }
  #chatbot { order: 2; height: auto !important; max-height: 65vh; }
  #sources-column { order: 3; min-width: 0 !important; }
  #turn-tools { order: 4; flex-wrap: wrap; }
  #examples { order: 5; }
  .sources { max-height: none; }
}
"""

# Delegated on the sources panel's root element: survives every re-render of its content.
COPY_JS = """
element.addEventListener('click', function (ev) {
  var b = ev.target.closest('.copy-cite');
  if (!b) return;
  ev.preventDefault();
  var label = b.getAttribute('data-label') || '';
  function done() {
    if (!b.dataset.idle) b.dataset.idle = b.textContent;
    b.textContent = b.getAttribute('data-done');
    b.classList.add('done');
    setTimeout(function () { b.textContent = b.dataset.idle; b.classList.remove('done'); }, 1500);
  }
  function fallback() {
    var ta = document.createElement('textarea');
    ta.value = label; ta.setAttribute('readonly', ''); ta.style.position = 'fixed'; ta.style.opacity = '0';
    document.body.appendChild(ta); ta.select();
    try { document.execCommand('copy'); } catch (e) {}
    document.body.removeChild(ta); done();
  }
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(label).then(done, fallback);
  } else { fallback(); }
});
"""

# Gradio's own "copy message" button copies a message's HTML source. Caught first (capture phase, on
# the document, before Gradio's handler), it copies what the delegate reads instead: the text with
# its citations, "…建议。 [CAC/COSP/WG.4/2019/L.1/Add.1，第 5 段]". The labels are Gradio's own,
# in every locale it ships.
COPY_LABELS = ("Copy message", "Kopeeri sõnum", "Копировать сообщение")

PAGE_JS = """
() => {
  const COPY = __COPY__;
  function text(msg) {
    const body = msg.querySelector('.answer, .q, .msg') || msg;
    return body.innerText.replace(/\\n{3,}/g, '\\n\\n').trim();
  }
  function write(value, button) {
    const done = () => { button.classList.add('uncac-copied'); setTimeout(() => button.classList.remove('uncac-copied'), 1500); };
    const fallback = () => {
      const ta = document.createElement('textarea');
      ta.value = value; ta.setAttribute('readonly', ''); ta.style.position = 'fixed'; ta.style.opacity = '0';
      document.body.appendChild(ta); ta.select();
      try { document.execCommand('copy'); } catch (e) {}
      document.body.removeChild(ta); done();
    };
    if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(value).then(done, fallback);
    else fallback();
  }
  document.addEventListener('click', (ev) => {
    const b = ev.target.closest && ev.target.closest('#chatbot button');
    if (!b || COPY.indexOf(b.getAttribute('aria-label')) < 0) return;
    // The buttons follow their message: the message is the last one before the button.
    let msg = null;
    for (const m of document.querySelectorAll('#chatbot [data-testid="bot"], #chatbot [data-testid="user"]')) {
      if (m.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING) msg = m;
    }
    if (!msg) return;
    ev.preventDefault(); ev.stopImmediatePropagation();
    write(text(msg), b);
  }, true);
  // A new question is kept at the top of the chat while its answer streams in, so the answer is read
  // from its start (autoscroll would leave it at its end), until the delegate scrolls themselves.
  let asked = 0, follow = false;
  function scroller(el) {
    for (let box = el.parentElement; box && box.id !== 'chatbot'; box = box.parentElement) {
      const y = getComputedStyle(box).overflowY;
      if (y === 'auto' || y === 'scroll') return box;
    }
    return null;
  }
  ['wheel', 'touchmove', 'keydown'].forEach((type) => document.addEventListener(type, (ev) => {
    if (ev.target.closest && ev.target.closest('#chatbot')) follow = false;
  }, {passive: true}));
  new MutationObserver(() => {
    const users = document.querySelectorAll('#chatbot [data-testid="user"]');
    if (users.length !== asked) follow = users.length > asked;
    asked = users.length;
    const last = users[users.length - 1];  // re-rendered as the answer streams: looked up each time
    const box = follow && last && scroller(last);
    if (box) box.scrollTop += last.getBoundingClientRect().top - box.getBoundingClientRect().top - 8;
}).observe(document.body, {childList: true, subtree: true});
}
""".replace("__COPY__", json.dumps(COPY_LABELS))
