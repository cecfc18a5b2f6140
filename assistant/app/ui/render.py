"""HTML for the chat UI: sources with the quote highlighted, figure badges, fact-check verdicts.

Everything that comes from an article or a question passes through `html.escape`, so an
article containing `<script>` or a markdown link is shown as text, never run or linked.

>>> "<script>" in sources_html(Answer("q", "a", False, citations=[]))
False
"""
from __future__ import annotations

import html
import re
from urllib.parse import urlparse

from typing import Mapping

from assistant.app.ui.article_view import ArticleText, citation_key
from assistant.app.ui.figure_table import CompareGroup, FigureRow, excerpt, status_of, year_of
from assistant.types import Answer, Citation

CSS = """
.src-card{border:1px solid var(--border-color-primary);border-radius:10px;padding:10px 12px;margin:0 0 10px 0;
  background:var(--background-fill-primary)}
.src-head{font-weight:600;margin-bottom:4px}
.src-meta{color:var(--body-text-color-subdued);font-size:.85em;margin-bottom:6px}
.src-text{font-size:.92em;line-height:1.5;white-space:pre-wrap}
.src-text mark{background:#fde68a;color:inherit;padding:0 1px;border-radius:2px}
.num{display:inline-block;min-width:1.6em;text-align:center;border-radius:6px;background:#1d4ed8;color:#fff;
  font-size:.8em;margin-right:6px;padding:0 4px}
.badge{display:inline-block;border-radius:999px;padding:1px 9px;margin:2px 4px 2px 0;font-size:.85em}
.badge.ok{background:#dcfce7;color:#14532d;border:1px solid #86efac}
.badge.bad{background:#fee2e2;color:#7f1d1d;border:1px solid #fca5a5}
.badge.warn{background:#fef3c7;color:#78350f;border:1px solid #fcd34d}
.notice{border-left:4px solid #f59e0b;background:#fffbeb;color:#78350f;padding:6px 10px;margin-bottom:8px;border-radius:4px}
.abstain{border-left:4px solid #64748b;background:#f1f5f9;color:#1e293b;padding:6px 10px;margin-bottom:8px;border-radius:4px}
.verdict-table{width:100%;border-collapse:collapse;margin:6px 0 10px 0}
.verdict-table td,.verdict-table th{border-bottom:1px solid var(--border-color-primary);padding:4px 6px;text-align:left}
.muted{color:var(--body-text-color-subdued)}
.empty-state{color:var(--body-text-color-subdued);padding:12px}
#figures-table,#articles-table{--font-mono:var(--font)}  /* sentences, not code: the mono font lacks Vietnamese glyphs */
.answer-text{white-space:pre-wrap;line-height:1.55}
.answer a.cite{font-weight:600;text-decoration:none;border-radius:4px;padding:0 2px;background:#dbeafe;color:#1e3a8a}
.answer a.cite:hover{background:#bfdbfe}
.understood{font-size:.88em;color:var(--body-text-color-subdued);border-left:3px solid #93c5fd;padding:2px 8px;margin-bottom:6px}
.msg-sources,.fallback{margin-top:10px}
.src-title{font-weight:600;font-size:.9em;margin:6px 0}
.src-text .quote{background:#fef9c3;border-radius:2px}
.src-text mark.fig{background:#f59e0b;color:#111;font-weight:700;padding:0 2px;border-radius:3px}
.src-card.flash{animation:srcflash 1.6s ease-out 1}
@keyframes srcflash{0%{box-shadow:0 0 0 4px #2563eb;background:#dbeafe}100%{box-shadow:none}}
.failed{border-left:4px solid #dc2626;background:#fef2f2;padding:6px 10px;margin:8px 0;border-radius:4px}
.failed ul{margin:4px 0 0 18px}
.fallback{border-top:1px dashed var(--border-color-primary);padding-top:6px}
.copy-text{display:none}
.msg-actions{margin-top:6px}
.copy-src{font-size:.85em;border:1px solid var(--border-color-primary);border-radius:6px;padding:2px 10px;
  background:var(--background-fill-secondary);cursor:pointer}
.copy-src.done::after{content:" ✓ đã chép"}
#warm-notice .notice{margin:0}
details.src-article{margin-top:6px}
details.src-article>summary{cursor:pointer;color:#1d4ed8;font-size:.88em;font-weight:600;list-style:revert}
.article-full{position:relative;max-height:320px;overflow:auto;white-space:pre-wrap;line-height:1.55;font-size:.92em;
  border:1px solid var(--border-color-primary);border-radius:8px;padding:8px 10px;margin-top:6px;
  background:var(--background-fill-secondary)}
.article-full mark.in-article{background:#fde68a;color:inherit;padding:1px 2px;border-radius:3px;
  box-shadow:0 0 0 2px #f59e0b}
.cmp-group{border:1px solid var(--border-color-primary);border-radius:10px;padding:8px 12px;margin:0 0 10px 0}
.cmp-head{font-weight:600;margin-bottom:6px}
.cmp-row{display:flex;flex-wrap:wrap;gap:10px}
.cmp-cell{flex:1 1 220px;max-width:420px;border-left:4px solid #93c5fd;background:var(--background-fill-secondary);
  border-radius:6px;padding:6px 10px}
.cmp-year{font-size:.85em;color:var(--body-text-color-subdued)}
.cmp-fig{font-size:1.25em;font-weight:700}
.cmp-status{display:inline-block;font-size:.78em;border-radius:999px;padding:0 8px;margin-left:6px;vertical-align:middle;
  background:#e2e8f0;color:#1e293b}
.cmp-status.dat{background:#dcfce7;color:#14532d}
.cmp-status.muctieu{background:#e0e7ff;color:#312e81}
.cmp-title{font-size:.85em;font-weight:600;margin-top:2px}
.cmp-sentence{font-size:.85em;line-height:1.45;margin-top:2px}
.cmp-sentence mark{background:#fde68a;color:inherit;padding:0 1px;border-radius:2px}
.fig-count{color:var(--body-text-color-subdued);font-size:.9em;padding:4px 0}
.audit-table{width:100%;border-collapse:collapse;font-size:.9em}
.audit-table td,.audit-table th{border-bottom:1px solid var(--border-color-primary);padding:3px 6px;text-align:left}
.confirm-box{border:2px solid #dc2626;border-radius:8px;padding:8px 12px;background:#fef2f2}
.api-note{color:var(--body-text-color-subdued);font-size:.85em;text-align:center;padding:6px}
#examples{gap:6px}
@media (max-width: 640px){
  #intro p{display:none}
  #chatbot{height:50vh !important;min-height:0 !important}
  #examples{flex-wrap:nowrap !important;overflow-x:auto;padding-bottom:2px}
  #examples .example-q{flex:0 0 auto !important;white-space:nowrap;min-width:0 !important;width:auto !important}
  .gradio-container{padding-left:8px !important;padding-right:8px !important}
  [role=tablist] button, [role=tab]{padding:6px 7px !important;font-size:.88em !important;min-width:0 !important}
}
"""

VERDICT_BADGE = {"khớp": ("ok", "✓ khớp với nguồn"), "khác": ("bad", "✗ khác với nguồn"),
                 "không tìm thấy": ("warn", "? không tìm thấy")}


def esc(text: object) -> str:
    """HTML-escape anything (quotes included)."""
    return html.escape(str(text), quote=True)


def safe_url(url: str) -> str | None:
    """The URL if it is a plain http(s) link, else None (no javascript: or data: links)."""
    try:
        u = urlparse(url.strip())
    except ValueError:
        return None
    return url.strip() if u.scheme in ("http", "https") and u.netloc else None


def highlighted_passage(c: Citation) -> str:
    """The chunk text with the quoted span marked."""
    text = c.text
    s, e = c.quote_start, c.quote_end
    if not (0 <= s < e <= len(text)) or text[s:e] != c.quote:
        s = text.find(c.quote) if c.quote else -1
        e = s + len(c.quote)
    if s < 0:
        return esc(text)
    return f"{esc(text[:s])}<mark>{esc(text[s:e])}</mark>{esc(text[e:])}"


def source_card(c: Citation) -> str:
    """One cited source: number, title, province, date, publisher link, passage with the quote marked."""
    meta = [esc(x) for x in (c.province, c.date) if x]
    link = safe_url(c.url)
    if link:
        label = c.source or urlparse(link).netloc
        meta.append(f'<a href="{esc(link)}" target="_blank" rel="noopener noreferrer nofollow">{esc(label)}</a>')
    elif c.source:
        meta.append(esc(c.source))
    return (f'<div class="src-card" data-chunk="{esc(c.chunk_id)}"><div class="src-head"><span class="num">{c.n}</span>'
            f'{esc(c.title or c.article_id)}</div><div class="src-meta">{" · ".join(meta) or "không rõ nguồn"}</div>'
            f'<div class="src-text">{highlighted_passage(c)}</div></div>')


def figure_badges(answer: Answer) -> str:
    """One compact line of badges: each figure of the answer, verified against its source or not."""
    if not answer.figures:
        return ""
    ok = all(f.verified for f in answer.figures)
    head = ("Số liệu đã kiểm chứng với nguồn:" if ok else
            "Có số liệu CHƯA kiểm chứng được trong nguồn:")
    out = [f'<div class="figures"><span class="muted">{head} </span>']
    for f in answer.figures:
        cls, mark, label = ("ok", "✓", "đã kiểm chứng") if f.verified else ("bad", "✗", "chưa kiểm chứng")
        ref = f" [{f.citation}]" if f.citation else ""
        out.append(f'<span class="badge {cls}" title="{label}">{mark} {esc(f.text)}{esc(ref)}</span>')
    out.append("</div>")
    return "".join(out)


def claims_table(answer: Answer) -> str:
    """Fact-check verdicts, one row per figure of the claim."""
    if not answer.claims:
        return ""
    rows = []
    for c in answer.claims:
        cls, label = VERDICT_BADGE.get(c.verdict, ("warn", c.verdict))
        src = esc(c.source_text) + (f" [{c.citation}]" if c.citation else "") if c.source_text else "—"
        rows.append(f'<tr><td>{esc(c.claim_text)}</td><td><span class="badge {cls}">{esc(label)}</span></td><td>{src}</td></tr>')
    return ('<table class="verdict-table"><tr><th>Số liệu trong nhận định</th><th>Kết quả</th><th>Nguồn ghi</th></tr>'
            + "".join(rows) + "</table>")


def sources_html(answer: Answer | None) -> str:
    """The side panel for an answer: notices, badges, verdicts, then the cited (or nearest) sources."""
    if answer is None:
        return '<div class="empty-state">Nguồn trích dẫn sẽ hiện ở đây sau khi bạn đặt câu hỏi.</div>'
    parts = []
    if answer.notice:
        parts.append(f'<div class="notice">{esc(answer.notice)}</div>')
    if answer.flagged:
        parts.append('<div class="notice">Câu trả lời có số liệu hoặc trích dẫn chưa kiểm chứng được trong nguồn.</div>')
    if answer.abstained:
        parts.append('<div class="abstain">Không tìm thấy câu trả lời trong các bài viết hiện có. '
                     'Các đoạn gần nhất:</div>')
    parts.append(claims_table(answer))
    if not answer.claims:  # a fact-check shows its verdicts; a green "✓ 763" beside "✗ 763 khác" would mislead
        parts.append(figure_badges(answer))
    if answer.citations:
        parts += [source_card(c) for c in answer.citations]
    elif answer.retrieved:
        nearest = [Citation(n=i, article_id=r.article_id, chunk_id=r.chunk_id, title=r.title, province=r.province,
                            date="", url="", quote="", text=r.text) for i, r in enumerate(answer.retrieved[:3], 1)]
        parts += [source_card(c) for c in nearest]
    if answer.fallback is not None:
        parts.append('<div class="muted" style="margin-top:8px">Câu trả lời trích nguyên văn:</div>')
        parts.append(f'<div class="src-text">{esc(answer.fallback.answer)}</div>')
        parts += [source_card(c) for c in answer.fallback.citations]
    return "".join(p for p in parts if p)


def status_html(n_articles: int, n_chunks: int, when: str, warning: str = "") -> str:
    """The header status line."""
    warn = f'<div class="notice">{esc(warning)}</div>' if warning else ""
    return (f'{warn}<div class="muted">{n_articles} bài viết · {n_chunks} đoạn đã lập chỉ mục'
            + (f" · cập nhật {esc(when)}" if when else "") + "</div>")


# --- an answer as one chat message: its text with clickable [n], then its own sources ------------------------------
_CITE = re.compile(r"\[(\d{1,2})\]")
FOUND_LABEL = "có trong câu trích dẫn"
FAILED_LABEL = "không có trong nguồn được trích"


def _linked_answer_text(answer: Answer, msg_id: str) -> str:
    """The answer text, escaped, with each [n] a link to this message's source n (its quote as the tooltip)."""
    quotes = {c.n: c.quote for c in answer.citations}
    out, pos = [], 0
    for m in _CITE.finditer(answer.answer):
        n = int(m.group(1))
        out.append(esc(answer.answer[pos:m.start()]))
        if n in quotes:
            out.append(f'<a class="cite" href="#{msg_id}-s{n}" title="{esc(quotes[n][:300])}">[{n}]</a>')
        else:
            out.append(esc(m.group(0)))
        pos = m.end()
    out.append(esc(answer.answer[pos:]))
    return "".join(out)


def _spans(text: str, needles: list[str]) -> list[tuple[int, int]]:
    """Non-overlapping spans of the needles in `text` (each needle at its first free place, as a whole token)."""
    spans: list[tuple[int, int]] = []
    for needle in needles:
        if not needle:
            continue
        for m in re.finditer(re.escape(needle), text):
            s, e = m.span()
            before = text[s - 1] if s else " "
            after = text[e] if e < len(text) else " "
            if before.isalnum() or (after.isdigit()) or any(s < b and a < e for a, b in spans):
                continue
            spans.append((s, e))
            break
    return sorted(spans)


def highlighted_quote_passage(c: Citation, figures: list[str]) -> str:
    """The chunk with the quote marked softly and the answering figures inside it highlighted strongly."""
    text = c.text
    s, e = c.quote_start, c.quote_end
    if not (0 <= s < e <= len(text)) or text[s:e] != c.quote:
        s = text.find(c.quote) if c.quote else -1
        e = s + len(c.quote)
    if s < 0:
        return esc(text)
    quote = text[s:e]
    inner, pos = [], 0
    for fs, fe in _spans(quote, figures):
        inner.append(esc(quote[pos:fs]))
        inner.append(f'<mark class="fig">{esc(quote[fs:fe])}</mark>')
        pos = fe
    inner.append(esc(quote[pos:]))
    return f'{esc(text[:s])}<span class="quote">{"".join(inner)}</span>{esc(text[e:])}'


def full_article(view: ArticleText) -> str:
    """The whole article (escaped: articles are untrusted input) in a closed <details>, the quote marked where it
    stands; the page script scrolls the mark into view when it is opened."""
    text, s, e = view.text, view.start, view.end
    if 0 <= s < e <= len(text):
        body = f'{esc(text[:s])}<mark class="in-article">{esc(text[s:e])}</mark>{esc(text[e:])}'
        label = "Xem toàn bài, tới câu được trích"
    else:
        body, label = esc(text), "Xem toàn bài (không định vị được câu trích)"
    return (f'<details class="src-article"><summary>{label}</summary>'
            f'<div class="article-full">{body}</div></details>')


def message_source_card(c: Citation, msg_id: str, figures: list[str], article: ArticleText | None = None) -> str:
    """A source inside a chat message: anchored as `{msg_id}-s{n}` so that message's [n] can reach it; with the
    whole article behind it when the catalog still has it."""
    meta = [esc(x) for x in (c.province, c.date) if x]
    link = safe_url(c.url)
    if link:
        label = c.source or urlparse(link).netloc
        meta.append(f'<a href="{esc(link)}" target="_blank" rel="noopener noreferrer nofollow">{esc(label)}</a>')
    elif c.source:
        meta.append(esc(c.source))
    return (f'<div class="src-card" id="{esc(msg_id)}-s{c.n}"><div class="src-head"><span class="num">{c.n}</span>'
            f'{esc(c.title or c.article_id)}</div><div class="src-meta">{" · ".join(meta) or "không rõ nguồn"}</div>'
            f'<div class="src-text">{highlighted_quote_passage(c, figures)}</div>'
            f'{full_article(article) if article else ""}</div>')


def answering_badges(answer: Answer, answering: list[int]) -> str:
    """Badges for the figures that answer the question only: found in the cited sentence, or not."""
    chosen, seen = [], set()
    for i in answering:  # the same figure stated twice in a quote is one badge
        if 0 <= i < len(answer.figures) and (answer.figures[i].text, answer.figures[i].citation) not in seen:
            seen.add((answer.figures[i].text, answer.figures[i].citation))
            chosen.append(answer.figures[i])
    out = []
    for f in chosen:
        ref = f" [{f.citation}]" if f.citation else ""
        if f.verified:
            out.append(f'<span class="badge ok" title="{FOUND_LABEL}">✓ {esc(f.text)}{esc(ref)} — {FOUND_LABEL}</span>')
        else:
            out.append(f'<span class="badge bad" title="{FAILED_LABEL}">✗ {esc(f.text)}{esc(ref)} — '
                       f'{FAILED_LABEL}</span>')
    return f'<div class="figures">{"".join(out)}</div>' if out else ""


def failed_figures(answer: Answer) -> str:
    """For a flagged (generative) answer: which figures could not be found in their cited source."""
    bad = [f for f in answer.figures if not f.verified]
    if not (answer.flagged and bad):
        return ""
    items = "".join(f'<li><span class="badge bad">✗ {esc(f.text)}</span> '
                    f'{"không có trong nguồn [" + str(f.citation) + "]" if f.citation else "không dẫn nguồn"}'
                    f'{(" (nguồn ghi: " + esc(f.source_text) + ")") if f.source_text else ""}</li>' for f in bad)
    return f'<div class="failed"><b>Số liệu không kiểm chứng được:</b><ul>{items}</ul></div>'


def copy_text(answer: Answer) -> str:
    """The answer with its sources as plain text (title, publisher, date, link), as a journalist pastes it."""
    lines = [answer.answer.strip()]
    if answer.citations:
        lines += ["", "Nguồn:"]
        for c in answer.citations:
            parts = [c.title or c.article_id] + [x for x in (c.source, c.province, c.date) if x]
            lines.append(f"[{c.n}] " + " — ".join(parts) + (f" — {c.url}" if safe_url(c.url or "") else ""))
    return "\n".join(lines)


def answer_message(answer: Answer, msg_id: str, answering: list[int] | None = None,
                   articles: Mapping[tuple[str, str], ArticleText] | None = None) -> str:
    """One assistant chat message: notices, how a follow-up was understood, the text with clickable [n],
    the answering figures' badges, then this answer's own sources (each able to open its whole article, from
    `articles` by `citation_key`) and a copy-with-sources button."""
    answering = list(answering or [])
    articles = articles or {}
    figs_by_cite: dict[int, list[str]] = {}
    for i in answering:
        if 0 <= i < len(answer.figures) and answer.figures[i].verified:
            f = answer.figures[i]
            needles = figs_by_cite.setdefault(f.citation or 0, [])
            if (f.source_text or f.text) not in needles:
                needles.append(f.source_text or f.text)
    parts = [f'<div class="answer" id="{esc(msg_id)}">']
    if answer.notice:
        parts.append(f'<div class="notice">{esc(answer.notice)}</div>')
    if answer.resolved_question:
        parts.append(f'<div class="understood">Đã hiểu là: “{esc(answer.resolved_question)}”</div>')
    if answer.fallback is not None:  # a flagged or empty model answer: the verified quotes come first
        fb = answer.fallback
        parts.append('<div class="fallback"><div class="src-title">Câu trả lời trích nguyên văn từ nguồn</div>')
        parts.append(f'<div class="answer-text">{_linked_answer_text(fb, msg_id + "-tn")}</div>')
        parts += [message_source_card(c, msg_id + "-tn", [], articles.get(citation_key(c))) for c in fb.citations]
        parts.append('</div><div class="src-title">Câu trả lời của mô hình (chưa kiểm chứng được)</div>')
    parts.append(f'<div class="answer-text">{_linked_answer_text(answer, msg_id)}</div>')
    if answer.claims:
        parts.append(claims_table(answer))
    else:
        parts.append(failed_figures(answer) or answering_badges(answer, answering))
    if answer.citations:
        parts.append('<div class="msg-sources"><div class="src-title">Nguồn của câu trả lời này</div>')
        parts += [message_source_card(c, msg_id, figs_by_cite.get(c.n, []) + figs_by_cite.get(0, []),
                                      articles.get(citation_key(c))) for c in answer.citations]
        parts.append("</div>")
    elif answer.retrieved:
        nearest = [Citation(n=i, article_id=r.article_id, chunk_id=r.chunk_id, title=r.title, province=r.province,
                            date="", url="", quote="", text=r.text) for i, r in enumerate(answer.retrieved[:3], 1)]
        parts.append('<div class="msg-sources"><div class="src-title">Các đoạn gần nhất (không trả lời câu hỏi)</div>')
        parts += [message_source_card(c, msg_id + "-gan", []) for c in nearest]
        parts.append("</div>")
    parts.append('<div class="msg-actions"><button class="copy-src" type="button">Sao chép kèm nguồn</button></div>')
    parts.append(f'<div class="copy-text">{esc(copy_text(answer))}</div></div>')
    return "".join(p for p in parts if p)


# --- the figures tab's comparison: one indicator of one province, its figures side by side --------------------------
STATUS_CLASS = {"đã đạt": "dat", "mục tiêu": "muctieu"}


def _marked_excerpt(row: FigureRow) -> str:
    """The row's excerpt, escaped, with its figure marked."""
    text = excerpt(row)
    at = text.find(row.figure)
    if at < 0:
        return esc(text)
    return f"{esc(text[:at])}<mark>{esc(row.figure)}</mark>{esc(text[at + len(row.figure):])}"


def compare_html(groups: list[CompareGroup]) -> str:
    """Each group a card: the province and what is measured, then its figures side by side, oldest first, each
    with its year, achieved/target, article and sentence."""
    if not groups:
        return ('<div class="empty-state">Không có chỉ số nào được nêu ở hơn một bài hoặc hơn một năm trong các dòng '
                'đang lọc.</div>')
    out = []
    for g in groups:
        cells = []
        for r in g.rows:
            status = status_of(r)
            badge = f'<span class="cmp-status {STATUS_CLASS.get(status, "")}">{esc(status)}</span>' if status else ""
            cells.append(f'<div class="cmp-cell"><div class="cmp-year">{esc(year_of(r) or "không rõ năm")}</div>'
                         f'<div><span class="cmp-fig">{esc(r.figure)}</span>{badge}</div>'
                         f'<div class="cmp-title">{esc(r.title)}{" · " + esc(r.date) if r.date else ""}</div>'
                         f'<div class="cmp-sentence">{_marked_excerpt(r)}</div></div>')
        out.append(f'<div class="cmp-group"><div class="cmp-head">{esc(g.province)} — {esc(g.label)} '
                   f'<span class="muted">({len(g.rows)} số liệu)</span></div>'
                   f'<div class="cmp-row">{"".join(cells)}</div></div>')
    return "".join(out)
