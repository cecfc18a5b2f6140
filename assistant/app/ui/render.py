"""HTML for the chat UI: sources with the quote highlighted, figure badges, fact-check verdicts.

Everything that comes from an article or a question passes through `html.escape`, so an
article containing `<script>` or a markdown link is shown as text, never run or linked.

>>> "<script>" in sources_html(Answer("q", "a", False, citations=[]))
False
"""
from __future__ import annotations

import html
from urllib.parse import urlparse

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
