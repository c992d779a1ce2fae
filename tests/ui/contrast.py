"""A WCAG contrast check run inside a Playwright page, shared by the viewer and the chat browser tests.

``CONTRAST_JS`` is a function evaluated in the page: for every visible element with a direct text node
that is not only whitespace, it takes the computed ``color`` and composites the backgrounds up its
ancestors (translucent ones blended, the first opaque one ends the walk; white under everything) and
computes the WCAG 2 contrast ratio. Colours are normalised by painting them on a 1×1 canvas, so any
CSS colour syntax the browser returns (rgb(), color(srgb …), oklch()) is read as sRGB bytes.
Background images, text shadows and ``opacity`` are not taken into account.

Example::

    assert_contrast(page)                      # [] or an AssertionError listing each failure
    report = page.evaluate(CONTRAST_JS, 4.5)   # {"checked": 212, "worst": {...}, "failures": [...]}
"""

from __future__ import annotations

CONTRAST_JS = r"""
(minRatio) => {
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = 1;
  const ctx = canvas.getContext("2d", {willReadFrequently: true});
  const cache = new Map();
  // Any CSS colour as [r, g, b, a] with r, g, b in 0..255 and a in 0..1.
  function rgba(css) {
    if (cache.has(css)) return cache.get(css);
    ctx.clearRect(0, 0, 1, 1);
    ctx.fillStyle = "#000";
    ctx.fillStyle = css;
    ctx.fillRect(0, 0, 1, 1);
    const d = ctx.getImageData(0, 0, 1, 1).data;
    const out = [d[0], d[1], d[2], d[3] / 255];
    cache.set(css, out);
    return out;
  }
  function over(top, under) {  // top composited over an opaque colour
    const a = top[3];
    return [0, 1, 2].map(i => top[i] * a + under[i] * (1 - a)).concat([1]);
  }
  function background(el) {
    const layers = [];
    for (let e = el; e && e.nodeType === 1; e = e.parentElement) {
      const c = rgba(getComputedStyle(e).backgroundColor);
      if (c[3] > 0) layers.push(c);
      if (c[3] >= 1) break;
    }
    let bg = [255, 255, 255, 1];
    for (let i = layers.length - 1; i >= 0; i--) bg = over(layers[i], bg);
    return bg;
  }
  function luminance(c) {
    const s = c.slice(0, 3).map(v => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * s[0] + 0.7152 * s[1] + 0.0722 * s[2];
  }
  function ratio(a, b) {
    const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
    return (hi + 0.05) / (lo + 0.05);
  }
  function selector(el) {
    const parts = [];
    for (let e = el; e && e.nodeType === 1 && parts.length < 4; e = e.parentElement) {
      let s = e.tagName.toLowerCase();
      if (e.id) { parts.unshift(s + "#" + e.id); break; }
      if (e.classList.length) s += "." + Array.from(e.classList).join(".");
      parts.unshift(s);
    }
    return parts.join(" > ");
  }
  function visible(el) {
    const st = getComputedStyle(el);
    if (st.visibility !== "visible" || st.display === "none") return false;
    return el.getClientRects().length > 0;
  }
  const hex = c => "#" + c.slice(0, 3).map(v => Math.round(v).toString(16).padStart(2, "0")).join("");
  const failures = [];
  let checked = 0, worst = null;
  for (const el of document.body.querySelectorAll("*")) {
    if (["SCRIPT", "STYLE", "NOSCRIPT", "TEMPLATE"].includes(el.tagName)) continue;
    const text = Array.from(el.childNodes).filter(n => n.nodeType === 3).map(n => n.data).join("").trim();
    if (!text || !visible(el)) continue;
    const bg = background(el);
    const fg = over(rgba(getComputedStyle(el).color), bg);
    const r = ratio(fg, bg);
    const item = {selector: selector(el), text: text.slice(0, 40), color: hex(fg), background: hex(bg),
                  ratio: Math.round(r * 100) / 100};
    checked++;
    if (!worst || r < worst.ratio) worst = item;
    if (r < minRatio) failures.push(item);
  }
  return {checked, worst, failures};
}
"""


def contrast_report(page, min_ratio: float = 4.5) -> dict:
    """The page's contrast: ``{"checked": n, "worst": {...}, "failures": [{selector, text, color,
    background, ratio}, ...]}``, failures being the texts below ``min_ratio``."""
    return page.evaluate(CONTRAST_JS, min_ratio)


def assert_contrast(page, min_ratio: float = 4.5, strict: bool = True) -> list[dict]:
    """The failures list (selector, text, color, background, ratio) of ``page`` below ``min_ratio``
    (WCAG AA for normal text: 4.5); with ``strict`` (the default) an AssertionError naming them when
    there is any. ``strict=False`` lets a caller filter known exceptions (a third-party widget) first.

    Example::

        assert_contrast(page)                                   # [] or AssertionError
        bad = assert_contrast(page, strict=False)
        assert [f for f in bad if "gradio" not in f["selector"]] == []
    """
    report = contrast_report(page, min_ratio)
    assert report["checked"] > 0, f"no visible text to check on {page.url}"
    failures = report["failures"]
    if strict:
        assert not failures, f"{len(failures)} text colour(s) below {min_ratio}:1 on {page.url}: {failures[:10]}"
    return failures
