(function () {
  var marked = [];
  function show() {
    marked.forEach(function (e) { e.classList.remove("is-target"); });
    marked = [];
    var id = decodeURIComponent(location.hash.slice(1));
    var el = id && document.getElementById(id);
    if (!el) return;
    var para = el.closest(".para");
    [el, para].forEach(function (e) {
      if (e && marked.indexOf(e) < 0) { e.classList.add("is-target"); marked.push(e); }
    });
    el.scrollIntoView({block: "center"});
  }
  // The language link comes from the server with ?lang= and the ?hl= quotes; the #p… fragment never
  // reaches the server, so it is added here, and again whenever the reader jumps to another paragraph.
  function langLink() {
    document.querySelectorAll("a.lang, a.version").forEach(function (a) {
      a.setAttribute("href", a.getAttribute("href").split("#")[0] + location.hash);
    });
  }
  // ?hl=<quote>&hl=<quote>: every sentence the answer quoted from this paragraph gets a <mark>. The
  // quotes are matched as text and wrapped with DOM nodes, never parsed as HTML.
  function quotes() {
    var qs = new URLSearchParams(location.search).getAll("hl");
    var id = decodeURIComponent(location.hash.slice(1));
    var el = id && document.getElementById(id);
    var root = (el && el.closest(".para")) || document.querySelector("main");
    if (!root) return;
    qs.forEach(function (q) {
      q.split("\n").forEach(function (piece) {
        piece = piece.trim();
        if (!piece) return;
        var walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT), node;
        while ((node = walker.nextNode())) {
          var i = node.data.indexOf(piece);
          if (i < 0 || (node.parentNode && node.parentNode.classList && node.parentNode.classList.contains("quote"))) continue;
          var r = document.createRange();
          r.setStart(node, i); r.setEnd(node, i + piece.length);
          var m = document.createElement("mark"); m.className = "quote";
          r.surroundContents(m);
          break;
        }
      });
    });
  }
  function marks() { try { quotes(); } catch (e) { /* a quote that spans elements stays unmarked */ } }
  function onHash() { show(); langLink(); }
  window.addEventListener("hashchange", onHash);
  window.addEventListener("load", show);  // again after the browser's own jump to the fragment
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", onHash); else onHash();
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", marks); else marks();
})();
