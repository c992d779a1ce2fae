"""CSS of the Gradio app and the script of the sources panel's copy buttons (no external resources)."""

FONT_SANS = [
    "system-ui", "-apple-system", "Segoe UI", "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei",
    "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "sans-serif",
]
FONT_MONO = ["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"]

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
