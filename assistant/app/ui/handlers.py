"""What the UI's events do. Each handler talks only to the `Service`; layout.py wires them to components.

The chat keeps one list of messages; each assistant message is the whole answer as HTML (render.answer_message):
its text with [n] linked to its own sources right after it, so an earlier "[1]" keeps pointing at its source.
The follow-up history (resolved questions) lives in a State beside it and is cleared with it.

Usage (needs the model, an index, a server or the shared data, so not run as a doctest)::

    h = Handlers(Service(Settings.from_env()))
    next(h.respond("Đồng Tháp có bao nhiêu dịch vụ công?", [], [], None))[0][0]["role"]
    # -> 'user'
"""
from __future__ import annotations

import html
import os
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, Iterator

import gradio as gr

from assistant.app.service import UPLOAD_MAX_BYTES, Service, warn_if_exposed
from assistant.app.ui import figure_table
from assistant.app.ui.article_view import ArticleText, article_texts
from assistant.app.ui.render import answer_message, compare_html, esc, sources_html, status_html
from assistant.types import Answer

ALL = "Tất cả tỉnh/thành"
ALL_YEARS = "Mọi năm"
ALL_STATUS = "Đã đạt và mục tiêu"
SEARCHING = '<div class="answer"><div class="empty-state">Đang tìm trong các bài viết…</div></div>'
ARTICLE_HEADERS = ["Tiêu đề", "Tỉnh/thành", "Ngày", "Số đoạn"]
AUDIT_ACTIONS = {"them": "thêm bài", "xoa": "xóa bài (vào thùng rác)", "khoi-phuc": "khôi phục bài",
                 "xay-dung-lai": "xây dựng lại chỉ mục"}
AUDIT_SHOWN = 50


def _user(request: gr.Request | None) -> str:
    return (getattr(request, "username", None) or "") if request is not None else ""


def _text(value: object) -> str:
    """User text shown in the chat (the Chatbot inserts content as sanitized HTML: escape it once)."""
    return html.escape(str(value), quote=False)


def _province(value: str | None) -> str | None:
    return None if value in (None, "", ALL) else value


class Handlers:
    """The UI's event handlers over one Service."""

    def __init__(self, service: Service):
        self.service = service
        self.settings = service.settings
        self.warning = warn_if_exposed(self.settings, echo=lambda m: None)
        self.admin_note = ("" if service.admin_allowed else
                           "Quản lý bài viết bị tắt vì ứng dụng mở ra ngoài máy này mà không có đăng nhập.")

    # -- start-up ---------------------------------------------------------------------------------------------
    def warm_notice(self):
        """(notice HTML, timer update): a Vietnamese notice while the model and index load, then nothing."""
        state = self.service.warm_state
        if state == "warming":
            return ('<div class="notice">Đang nạp mô hình và chỉ mục, câu hỏi đầu tiên sẽ được trả lời ngay khi '
                    'xong (thường dưới một phút)…</div>'), gr.Timer(active=True)
        if state == "error":
            return f'<div class="notice">Chưa nạp được trợ lý: {esc(self.service.warm_error)}</div>', gr.Timer(active=False)
        return "", gr.Timer(active=False)

    # -- chat -------------------------------------------------------------------------------------------------
    def respond(self, message: str, chat: list, history: list, province: str | None,
                request: gr.Request | None = None) -> Iterator[tuple[Any, ...]]:
        """Yield (chat, question box, history, note) while answering; no fake streaming.

        A generative backend's text is shown as it is written; an extractive answer arrives whole.
        """
        chat = list(chat or [])
        text = (message or "").strip()
        if not text:
            yield chat, gr.skip(), history, '<div class="notice">Câu hỏi trống: hãy nhập một câu hỏi.</div>'
            return
        chat += [{"role": "user", "content": _text(text)}, {"role": "assistant", "content": SEARCHING}]
        yield chat, "", history, ""
        answer: Answer | None = None
        try:
            for partial, final in self.service.stream(text, province=_province(province), history=list(history or [])):
                if final is None:
                    chat[-1] = {"role": "assistant", "content": f'<div class="answer"><div class="answer-text">'
                                                                 f'{_text(partial)}</div></div>'}
                    yield chat, gr.skip(), history, gr.skip()
                else:
                    answer = final
        except Exception as exc:  # noqa: BLE001 - every failure becomes a message in the chat
            msg = self.service.error_text(exc)
            chat[-1] = {"role": "assistant", "content": f'<div class="answer"><div class="notice">{esc(msg)}</div></div>'}
            yield chat, gr.skip(), history, ""
            return
        assert answer is not None
        msg_id = f"a{uuid.uuid4().hex[:10]}"
        chat[-1] = {"role": "assistant", "content": answer_message(answer, msg_id, self.service.answering_figures(answer),
                                                                   self._cited_articles(answer))}
        yield chat, gr.skip(), list(history or []) + [answer.resolved_question or answer.question], ""

    def _cited_articles(self, answer: Answer) -> dict[tuple[str, str], ArticleText]:
        """The whole text of every cited article (answer and fallback), for "Xem toàn bài"; none without an index."""
        citations = list(answer.citations) + (list(answer.fallback.citations) if answer.fallback else [])
        try:
            cat = self.service.catalog()
        except Exception:  # noqa: BLE001 - the answer stands without the whole articles
            return {}
        if cat is None:
            return {}
        try:
            return article_texts(cat, citations)
        finally:
            cat.close()

    @staticmethod
    def new_chat():
        """Everything of the conversation goes: messages, their sources and badges, the follow-up history.

        The question box is left alone: a reset still queued when the reader types would wipe the new question.
        """
        return [], [], ""

    # -- fact-check ---------------------------------------------------------------------------------------------
    def factcheck(self, text: str):
        if not (text or "").strip():
            return "Hãy dán một nhận định cần kiểm chứng.", ""
        try:
            a = self.service.ask(text, factcheck=True)
        except Exception as exc:  # noqa: BLE001
            return self.service.error_text(exc), ""
        return a.answer.split("\n", 1)[0], sources_html(a)

    # -- status, filters, lists -----------------------------------------------------------------------------------
    def refresh(self):
        """(status, chat province choices, figures province choices, articles table, delete choices,
        trash choices, audit log HTML)."""
        info = self.service.index_status()
        provinces = [ALL] + info["provinces"]
        if info["exists"]:
            status = status_html(info["articles"], info["chunks"], info["built"], self.warning)
        else:
            status = status_html(0, 0, "", self.warning or "Chưa có chỉ mục: hãy thêm bài viết và xây dựng chỉ mục.")
        rows = self.service.articles()
        table = [[a.title, a.province or "không rõ", a.date or "không rõ", a.n_chunks] for a in rows]
        delete_choices = [(f"{a.title} — {a.province or 'không rõ tỉnh'} — {a.date or 'không rõ ngày'}", a.id)
                          for a in rows]
        trash = [(f"{e.original_name} — xóa lúc {e.deleted_at}", e.trash_name) for e in self.service.trash_entries()]
        return (status, gr.update(choices=provinces), gr.update(choices=provinces), table,
                gr.update(choices=delete_choices, value=None), gr.update(choices=trash, value=None), self.audit_html())

    def audit_html(self) -> str:
        entries = self.service.audit_entries(AUDIT_SHOWN)
        if not entries:
            return '<div class="muted">Nhật ký trống: chưa có thao tác nào với bài viết.</div>'
        rows = []
        for e in entries:
            what = e.get("title") or e.get("file") or e.get("article") or ""
            if e.get("action") == "xay-dung-lai":
                what = (f"thêm {e.get('added', 0)}, cập nhật {e.get('updated', 0)}, xóa {e.get('removed', 0)}, "
                        f"lỗi {e.get('errors', 0)}" + (f" ({e['reason']})" if e.get("reason") else ""))
            rows.append(f"<tr><td>{esc(str(e.get('time', ''))[:19].replace('T', ' '))}</td>"
                        f"<td>{esc(e.get('user') or '—')}</td><td>{esc(AUDIT_ACTIONS.get(e.get('action'), e.get('action')))}"
                        f"</td><td>{esc(what)}</td></tr>")
        return ('<table class="audit-table"><tr><th>Thời điểm</th><th>Người dùng</th><th>Thao tác</th><th>Bài viết</th>'
                '</tr>' + "".join(rows) + "</table>")

    # -- figures --------------------------------------------------------------------------------------------------
    def _figure_rows(self) -> list[figure_table.FigureRow]:
        cat = self.service.catalog()
        if cat is None:
            return []
        try:
            return figure_table.figure_rows(cat)
        finally:
            cat.close()

    def figures(self, province: str | None, year: str | None, query: str | None, status: str | None = None):
        """(table, row count, CSV file named for the filter and date, year choices, comparison HTML): the table,
        the CSV and the comparison all hold exactly the filtered rows."""
        all_rows = self._figure_rows()
        prov = _province(province) or ""
        yr = "" if year in (None, "", ALL_YEARS) else year
        st = "" if status in (None, "", ALL_STATUS) else status
        rows = figure_table.filter_view(all_rows, prov, yr, query or "", st)
        folder = Path(tempfile.mkdtemp(prefix="so-lieu-"))
        path = folder / figure_table.csv_filename(prov, yr, query, time.strftime("%Y-%m-%d"), st)
        with open(path, "w", encoding="utf-8-sig", newline="") as f:  # BOM: a spreadsheet reads Vietnamese right
            f.write(figure_table.export_csv(rows))
        count = (f'<div class="fig-count" id="fig-count">{len(rows)} / {len(all_rows)} số liệu'
                 + (" (đang lọc)" if len(rows) != len(all_rows) else "") + " — tệp CSV chứa đúng các dòng này</div>")
        year_choices = [ALL_YEARS] + figure_table.years(all_rows)
        groups = figure_table.compare_groups(rows)
        compare = (f'<div class="fig-count" id="cmp-count">{len(groups)} chỉ số có số liệu từ nhiều bài hoặc nhiều '
                   f'năm (theo bộ lọc đang chọn)</div>' + compare_html(groups))
        return (figure_table.view_table(rows), count, gr.update(value=str(path)), gr.update(choices=year_choices),
                compare)

    # -- articles ---------------------------------------------------------------------------------------------------
    def _rebuild_after(self, reason: str, user: str, progress) -> list[str]:
        progress(0, desc="Đang cập nhật chỉ mục…")
        try:
            s = self.service.rebuild_logged(progress=lambda stage, done, total: progress(
                (done, total), desc="Đang nhúng các đoạn"), user=user, reason=reason)
        except Exception as exc:  # noqa: BLE001
            return [f"✗ Chưa cập nhật được chỉ mục: {self.service.error_text(exc)}. Bấm “Xây dựng lại chỉ mục” "
                    "để thử lại."]
        lines = [(f"Chỉ mục đã cập nhật trong {s.seconds:.1f} giây: thêm {s.added}, cập nhật {s.updated}, xóa "
                  f"{s.removed}, giữ nguyên {s.unchanged}, lỗi {len(s.errors)}.").replace(".", ",", 1)]
        return lines + [f"✗ {e}" for e in s.errors]

    def add_uploaded(self, paths, request: gr.Request | None = None, progress=gr.Progress()):
        if not self.service.admin_allowed:
            return self.admin_note, gr.skip()
        if not paths:
            return "Chưa chọn tệp nào.", gr.skip()
        lines, added = [], 0
        for p in paths if isinstance(paths, list) else [paths]:
            name = getattr(p, "orig_name", None) or Path(str(p)).name
            size = os.path.getsize(p)
            if size > UPLOAD_MAX_BYTES:  # checked before reading a 50 MB file into memory
                mb = f"{size / 1e6:.1f}".replace(".", ",")
                lines.append(f"✗ {name}: tệp quá lớn ({mb} MB, giới hạn {UPLOAD_MAX_BYTES / 1e6:.0f} MB)")
                continue
            try:
                stored, title = self.service.add_upload(name, Path(p).read_bytes(), user=_user(request))
            except Exception as exc:  # noqa: BLE001 - one bad file never stops the others
                lines.append(f"✗ {name}: {getattr(exc, 'reason', None) or self.service.error_text(exc)}")
                continue
            lines.append(f"✓ {name} → {stored}: “{title}”")
            added += 1
        if added:
            lines += self._rebuild_after("thêm tệp", _user(request), progress)
        else:
            lines.append("Không có bài nào được thêm; thư mục bài viết không thay đổi.")
        return "\n".join(lines), None  # the files are done with either way; the log says what became of each

    def add_pasted(self, title, prov, date, source, url, text, request: gr.Request | None = None,
                   progress=gr.Progress()):
        """(log, title, province, date, source, url, text): the form is emptied once the article is added."""
        keep = (gr.skip(),) * 6
        if not self.service.admin_allowed:
            return (self.admin_note, *keep)
        try:
            stored, art_title = self.service.add_pasted(user=_user(request), title=title or "", text=text or "",
                                                        province=prov or "", date=date or "", source=source or "",
                                                        url=url or "")
        except Exception as exc:  # noqa: BLE001
            return (f"✗ Không thêm được: {getattr(exc, 'reason', None) or self.service.error_text(exc)}", *keep)
        lines = [f"✓ Đã thêm “{art_title}” ({stored})."] + self._rebuild_after("thêm bài dán", _user(request), progress)
        return ("\n".join(lines), "", None, "", "", "", "")

    def ask_delete(self, article_id: str | None):
        """Show the confirmation with the article's title (nothing is deleted yet)."""
        if not self.service.admin_allowed:
            return gr.update(visible=False), "", self.admin_note
        if not article_id:
            return gr.update(visible=False), "", "Chọn bài cần xóa trong danh sách."
        title = self.service.article_title(article_id) or article_id
        return (gr.update(visible=True),
                f'<div>Xóa bài <b>“{esc(title)}”</b>? Bài được chuyển vào thùng rác (có thể khôi phục) và không còn '
                f'được dùng để trả lời.</div>', gr.skip())

    @staticmethod
    def cancel_delete():
        return gr.update(visible=False), "", "Đã hủy, không xóa bài nào."

    def confirm_delete(self, article_id: str | None, request: gr.Request | None = None, progress=gr.Progress()):
        if not self.service.admin_allowed:
            return gr.update(visible=False), self.admin_note
        if not article_id:
            return gr.update(visible=False), "Chọn bài cần xóa trong danh sách."
        title = self.service.article_title(article_id) or article_id
        try:
            entry = self.service.trash_article(article_id, user=_user(request))
        except Exception as exc:  # noqa: BLE001
            return gr.update(visible=False), f"✗ {self.service.error_text(exc)}"
        lines = [f"✓ Đã chuyển “{title}” ({entry.original_name}) vào thùng rác."]
        lines += self._rebuild_after(f"xóa {entry.original_name}", _user(request), progress)
        return gr.update(visible=False), "\n".join(lines)

    def restore(self, trash_name: str | None, request: gr.Request | None = None, progress=gr.Progress()):
        if not self.service.admin_allowed:
            return self.admin_note
        if not trash_name:
            return "Chọn bài cần khôi phục trong thùng rác."
        try:
            path = self.service.restore_article(trash_name, user=_user(request))
        except Exception as exc:  # noqa: BLE001
            return f"✗ {getattr(exc, 'reason', None) or self.service.error_text(exc)}"
        lines = [f"✓ Đã khôi phục {path.name}."] + self._rebuild_after(f"khôi phục {path.name}", _user(request),
                                                                        progress)
        return "\n".join(lines)

    def rebuild(self, full_flag: bool, request: gr.Request | None = None, progress=gr.Progress()):
        if not self.service.admin_allowed:
            return self.admin_note
        progress(0, desc="Đang đọc bài viết…")
        try:
            s = self.service.rebuild_logged(full=bool(full_flag), user=_user(request), reason="bấm nút",
                                            progress=lambda stage, done, total: progress((done, total),
                                                                                         desc="Đang nhúng các đoạn"))
        except Exception as exc:  # noqa: BLE001
            return f"✗ {self.service.error_text(exc)}"
        lines = [f"Xong trong {s.seconds:.1f}".replace(".", ",") + f" giây: thêm {s.added}, cập nhật {s.updated}, "
                 f"xóa {s.removed}, giữ nguyên {s.unchanged}, lỗi {len(s.errors)}."]
        return "\n".join(lines + [f"✗ {e}" for e in s.errors])

    # -- the /ask API -------------------------------------------------------------------------------------------------
    def api_ask(self, question: str) -> dict:
        """Answer one question; returns the same object as `python -m assistant ask --json`."""
        try:
            return self.service.ask(question).to_dict()
        except Exception as exc:  # noqa: BLE001
            msg = self.service.user_message(exc)
            if msg is None:
                raise
            raise gr.Error(msg) from None
