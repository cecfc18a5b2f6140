// The page in Vietnamese, and the behaviour of answer messages: [n] links to that message's own source
// (scrolled to and flashed), "Sao chép kèm nguồn" copies the answer with its sources as plain text, and
// "Xem toàn bài" opens the whole article scrolled to the quote marked in it.
(() => {
  // Gradio's built-in English strings (its frontend has no Vietnamese locale; see page.py for why gr.I18n
  // cannot override them): text nodes and the title / aria-label / placeholder attributes.
  const VI = __VI_STRINGS__;
  const PREFIXES = [["bot's message: ", "Câu trả lời của trợ lý"], ["user's message: ", "Câu hỏi của bạn"]];
  const ATTRS = ["title", "aria-label", "placeholder", "aria-roledescription"];

  function translateAttrs(el) {
    for (const a of ATTRS) {
      const v = el.getAttribute && el.getAttribute(a);
      if (!v) continue;
      const t = v.trim();
      if (VI[t] !== undefined) { el.setAttribute(a, VI[t]); continue; }
      for (const [p, vi] of PREFIXES) if (v.startsWith(p)) el.setAttribute(a, vi);
    }
  }
  function translateText(node) {
    const t = node.nodeValue.trim();
    if (t && VI[t] !== undefined) node.nodeValue = node.nodeValue.replace(t, VI[t]);
    else if (/^processing( \|)?/.test(t)) node.nodeValue = node.nodeValue.replace("processing", "đang xử lý");
  }
  function walk(root) {
    if (root.nodeType === Node.TEXT_NODE) { translateText(root); return; }
    if (root.nodeType !== Node.ELEMENT_NODE) return;
    if (root.closest && root.closest(".answer, textarea, input")) return;  // never touch answers or user text
    translateAttrs(root);
    const it = document.createTreeWalker(root, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT, {
      acceptNode: n => (n.parentElement && n.parentElement.closest(".answer, textarea, script, style"))
        ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT});
    for (let n = it.nextNode(); n; n = it.nextNode()) {
      if (n.nodeType === Node.TEXT_NODE) translateText(n); else translateAttrs(n);
    }
  }
  function vietnamese() {
    if (document.documentElement.lang !== "vi") document.documentElement.lang = "vi";
  }
  vietnamese();
  const obs = new MutationObserver(muts => {
    vietnamese();
    for (const m of muts) {
      if (m.type === "characterData") translateText(m.target);
      else if (m.type === "attributes") translateAttrs(m.target);
      else m.addedNodes.forEach(walk);
    }
  });
  const start = () => {
    walk(document.body);
    obs.observe(document.documentElement, {subtree: true, childList: true, characterData: true,
                                           attributes: true, attributeFilter: ATTRS.concat(["lang"])});
  };
  if (document.body) start(); else document.addEventListener("DOMContentLoaded", start);

  // [n] → this message's source n: scroll to it and flash it.
  document.addEventListener("click", ev => {
    const cite = ev.target.closest && ev.target.closest("a.cite");
    if (cite) {
      ev.preventDefault();
      const card = document.getElementById(cite.getAttribute("href").slice(1));
      if (card) {
        // Gradio's chat scrolls itself back to the bottom when its content changes (the flash below is such a
        // change), so the card is brought into view again once that has happened.
        const show = () => card.scrollIntoView({block: "center"});
        show(); setTimeout(show, 150); setTimeout(show, 500);
        card.classList.remove("flash"); void card.offsetWidth; card.classList.add("flash");
        setTimeout(() => card.classList.remove("flash"), 1700);
      }
      return;
    }
    const copy = ev.target.closest && ev.target.closest("button.copy-src");
    if (copy) {
      const box = copy.closest(".answer");
      const text = box && box.querySelector(".copy-text") ? box.querySelector(".copy-text").textContent : "";
      const done = () => { copy.classList.add("done"); setTimeout(() => copy.classList.remove("done"), 2000); };
      const fallback = () => {
        const ta = document.createElement("textarea");
        ta.value = text; ta.style.position = "fixed"; ta.style.opacity = "0";
        document.body.appendChild(ta); ta.select(); document.execCommand("copy"); ta.remove(); done();
      };
      window.__lastCopied = text;
      if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(text).then(done, fallback);
      else fallback();
    }
  }, true);

  // "Xem toàn bài": the quote sits in the middle of the article box, and the box in view ("toggle" does not
  // bubble, so it is caught on the way down).
  document.addEventListener("toggle", ev => {
    const d = ev.target;
    if (!(d instanceof HTMLDetailsElement) || !d.open || !d.classList.contains("src-article")) return;
    const box = d.querySelector(".article-full");
    const mark = box && box.querySelector("mark.in-article");
    if (!mark) return;
    box.scrollTop = Math.max(0, mark.offsetTop - (box.clientHeight - mark.offsetHeight) / 2);
    mark.scrollIntoView({block: "center"});  // and the chat scrolled so the quote is mid-screen, not at an edge
  }, true);
})();
