"""The Gradio app: chat with cited sources, fact-check, figures table, article management, `/ask` API.

>>> demo = build_app(Service(Settings.from_env()))      # doctest: +SKIP
>>> demo.launch(server_name="127.0.0.1", server_port=7860)   # doctest: +SKIP
"""
from __future__ import annotations

import html
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no request leaves the machine

import gradio as gr  # noqa: E402

from assistant.app.ui import figure_table

from assistant.vi import gazetteer
from assistant.types import Answer  # noqa: E402
from assistant.ingest.articles import ArticleError  # noqa: E402
from assistant.ingest.corpus_admin import delete_article, save_article_bytes, save_pasted  # noqa: E402
from assistant.errors import user_message  # noqa: E402
from assistant.indexing.indexer import IndexBusyError  # noqa: E402
from assistant.app.pipeline import QuestionError  # noqa: E402
from assistant.app.service import Service, warn_if_exposed  # noqa: E402
from assistant.app.ui.render import CSS, esc, sources_html, status_html  # noqa: E402

ALL = "Tất cả tỉnh/thành"
EXAMPLES = [
    "Tỷ trọng kinh tế số của Tiền Giang đạt mục tiêu bao nhiêu phần trăm GRDP vào năm 2025?",
    "Đồng Tháp có bao nhiêu dịch vụ công trực tuyến một phần?",
    "Năng suất lao động của Tiền Giang và Bến Tre được đặt mục tiêu tăng bao nhiêu mỗi năm?",
    "Có phải Hậu Giang đứng thứ 12/63 về DTI năm 2021 không?",
]
ARTICLE_HEADERS = ["Tiêu đề", "Tỉnh/thành", "Ngày", "Số đoạn", "Mã bài"]
STREAM_STEP_S = 0.015


def theme() -> gr.themes.Base:
    """A calm theme with system fonts only (nothing fetched from font services)."""
    return gr.themes.Soft(primary_hue="blue", neutral_hue="slate",
                          font=["system-ui", "Segoe UI", "Roboto", "Noto Sans", "DejaVu Sans", "sans-serif"],
                          font_mono=["ui-monospace", "DejaVu Sans Mono", "monospace"])


def _chat_text(text: object) -> str:
    """Chat message content shown as text: the Chatbot inserts content as (sanitized) HTML even with
    render_markdown=False, so "<img ...>" in a question or "<script>" in a quoted article must be escaped.
    Quotes are left alone (harmless in text, and the per-message copy button copies the raw content)."""
    return html.escape(str(text), quote=False)


def _error_text(exc: BaseException) -> str:
    return user_message(exc) or f"Đã xảy ra lỗi không mong muốn ({type(exc).__name__}). Vui lòng thử lại."


def build_app(service: Service) -> gr.Blocks:
    """The whole UI, wired to one Service."""
    settings = service.settings
    warning = warn_if_exposed(settings, echo=lambda m: None)

    with gr.Blocks(title="Trợ lý chuyển đổi số — hỏi đáp có trích dẫn", analytics_enabled=False) as demo:
        gr.Markdown("## Trợ lý chuyển đổi số\nHỏi đáp về chuyển đổi số, kinh tế số, chính quyền số của các tỉnh — "
                    "mỗi câu trả lời trích nguyên văn câu trong bài và đánh dấu số liệu đã kiểm chứng.")
        status = gr.HTML(elem_id="status")
        asked = gr.State([])

        with gr.Tabs():
            with gr.Tab("Hỏi đáp", id="chat"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3):
                        chatbot = gr.Chatbot(label="Hội thoại", show_label=False, height=480, render_markdown=False,
                                             sanitize_html=True, elem_id="chatbot", buttons=["copy"],
                                             placeholder="Đặt câu hỏi về kế hoạch chuyển đổi số của các tỉnh.")
                        with gr.Row():
                            question = gr.Textbox(label="Câu hỏi", placeholder="Ví dụ: Tiền Giang xếp hạng bao nhiêu "
                                                  "về chỉ số kinh tế số?", scale=5, elem_id="question",
                                                  max_length=settings.max_question_chars)
                            send = gr.Button("Hỏi", variant="primary", scale=1, elem_id="ask-btn")
                        with gr.Row():
                            province = gr.Dropdown(choices=[ALL], value=ALL, label="Lọc theo tỉnh/thành",
                                                   elem_id="province-filter", scale=3)
                            clear = gr.Button("Cuộc hội thoại mới", scale=1)
                    with gr.Column(scale=2):
                        gr.Markdown("#### Nguồn trích dẫn")
                        sources = gr.HTML(sources_html(None), elem_id="sources")
                gr.Examples(EXAMPLES, inputs=question, label="Câu hỏi mẫu")

            with gr.Tab("Kiểm chứng", id="factcheck"):
                gr.Markdown("Dán một nhận định có số liệu; trợ lý tìm câu nói về cùng nội dung trong các bài viết và "
                            "so từng số liệu.")
                claim = gr.Textbox(label="Nhận định cần kiểm chứng", lines=3, elem_id="claim",
                                   placeholder="Ví dụ: Đồng Tháp có 763 dịch vụ công trực tuyến một phần")
                check = gr.Button("Kiểm chứng", variant="primary", elem_id="check-btn")
                verdict = gr.Textbox(label="Kết luận", interactive=False, elem_id="verdict", lines=2)
                verdict_html = gr.HTML(elem_id="verdict-sources")

            with gr.Tab("Số liệu", id="figures"):
                gr.Markdown("Mọi số liệu trong các bài viết đã lập chỉ mục, kèm câu chứa nó.")
                with gr.Row():
                    fig_province = gr.Dropdown(choices=[ALL], value=ALL, label="Tỉnh/thành", scale=2)
                    fig_query = gr.Textbox(label="Tìm trong câu (không cần dấu)", scale=3)
                    fig_download = gr.DownloadButton("Tải CSV", scale=1)
                fig_table = gr.Dataframe(headers=list(figure_table.HEADERS), interactive=False, wrap=True,
                                         elem_id="figures-table", max_height=520,
                                         column_widths=["9%", "8%", "7%", "44%", "9%", "15%", "8%", "0%"])

            with gr.Tab("Bài viết", id="articles"):
                articles = gr.Dataframe(headers=ARTICLE_HEADERS, interactive=False, wrap=True, elem_id="articles-table")
                admin_note = ("" if service.admin_allowed else
                              "Quản lý bài viết bị tắt vì ứng dụng mở ra ngoài máy này mà không có đăng nhập.")
                with gr.Group(visible=service.admin_allowed):
                    with gr.Row():
                        with gr.Column():
                            gr.Markdown(f"**Tải tệp lên** (.md hoặc .txt, UTF-8, tối đa "
                                        f"{settings.max_article_bytes / 1e6:.1f} MB)")
                            upload = gr.File(file_count="multiple", file_types=[".md", ".txt"], type="filepath",
                                             label="Tệp bài viết", elem_id="upload")
                            add_files = gr.Button("Thêm tệp", elem_id="add-files-btn")
                        with gr.Column():
                            gr.Markdown("**Hoặc dán nội dung**")
                            p_title = gr.Textbox(label="Tiêu đề", elem_id="paste-title")
                            with gr.Row():
                                p_province = gr.Dropdown(choices=sorted(p.name for p in gazetteer.PROVINCES),
                                                         label="Tỉnh/thành", allow_custom_value=True, value=None,
                                                         elem_id="paste-province")  # no silent "An Giang"
                                p_date = gr.Textbox(label="Ngày (YYYY-MM-DD)", elem_id="paste-date")
                            with gr.Row():
                                p_source = gr.Textbox(label="Nguồn (tờ báo)")
                                p_url = gr.Textbox(label="Đường dẫn")
                            p_text = gr.Textbox(label="Nội dung", lines=6, elem_id="paste-text")
                            add_paste = gr.Button("Thêm bài dán", elem_id="add-paste-btn")
                    with gr.Row():
                        rebuild = gr.Button("Xây dựng lại chỉ mục", variant="primary", elem_id="rebuild-btn")
                        full = gr.Checkbox(label="Nhúng lại toàn bộ", value=False)
                        remove_id = gr.Dropdown(choices=[], label="Xóa bài (mã bài)", elem_id="remove-id")
                        remove = gr.Button("Xóa bài", variant="stop")
                admin_log = gr.Textbox(label="Kết quả", value=admin_note, interactive=False, lines=4,
                                       elem_id="admin-log")

        # ---- handlers ------------------------------------------------------------------------
        def refresh_all():
            cat = service.catalog()
            if cat is None:
                empty = gr.update(choices=[ALL], value=ALL)
                return (status_html(0, 0, "", warning or "Chưa có chỉ mục: hãy thêm bài viết và xây dựng chỉ mục."),
                        empty, empty, [], gr.update(choices=[]))
            try:
                rows = cat.articles()
                provinces = [ALL] + cat.provinces()
                last = json.loads(cat.get_meta("last_build", "{}") or "{}")
                when = time.strftime("%H:%M %d/%m/%Y", time.localtime(last["finished_at"])) \
                    if "finished_at" in last else ""
                st = status_html(len(rows), cat.count_chunks(), when, warning)
                table = [[a.title, a.province or "không rõ", a.date or "không rõ", a.n_chunks, a.id] for a in rows]
            finally:
                cat.close()
            return (st, gr.update(choices=provinces), gr.update(choices=provinces), table,
                    gr.update(choices=[a.id for a in rows]))

        def respond(message: str, chat: list, history: list, prov: str):
            chat = list(chat or [])
            text = (message or "").strip()
            if not text:
                yield chat, "", history, '<div class="notice">Câu hỏi trống: hãy nhập một câu hỏi.</div>'
                return
            chat += [{"role": "user", "content": _chat_text(message)}, {"role": "assistant", "content": "…"}]
            yield chat, "", history, '<div class="empty-state">Đang tìm trong các bài viết…</div>'
            answer: Answer | None = None
            try:
                kwargs = {"province": None if prov in (None, "", ALL) else prov, "history": history}
                for partial, final in service.stream(text, **kwargs):
                    if final is None:
                        chat[-1] = {"role": "assistant", "content": _chat_text(partial)}
                        yield chat, "", history, gr.skip()
                    else:
                        answer = final
            except QuestionError as exc:
                chat[-1] = {"role": "assistant", "content": _chat_text(exc)}
                yield chat, "", history, f'<div class="notice">{esc(exc)}</div>'
                return
            except Exception as exc:
                chat[-1] = {"role": "assistant", "content": _chat_text(_error_text(exc))}
                yield chat, "", history, f'<div class="notice">{esc(_error_text(exc))}</div>'
                return
            assert answer is not None
            words = answer.answer.split(" ")
            step = max(3, len(words) // 12)
            for i in range(step, len(words), step):  # the extractive answer arrives whole; show it flowing
                chat[-1] = {"role": "assistant", "content": _chat_text(" ".join(words[:i]))}
                yield chat, "", history, gr.skip()
                time.sleep(STREAM_STEP_S)
            chat[-1] = {"role": "assistant", "content": _chat_text(answer.answer)}
            resolved = answer.resolved_question or answer.question
            yield chat, "", history + [resolved], sources_html(answer)

        def new_chat():
            return [], [], sources_html(None)

        def factcheck(text: str):
            if not (text or "").strip():
                return "Hãy dán một nhận định cần kiểm chứng.", ""
            try:
                a = service.ask(text, factcheck=True)
            except Exception as exc:
                return _error_text(exc), ""
            return a.answer.split("\n", 1)[0], sources_html(a)

        def figures_view(prov: str, query: str):
            cat = service.catalog()
            if cat is None:
                return [], gr.update(value=None)
            try:
                rows = figure_table.filter_rows(figure_table.figure_rows(cat), "" if prov in (None, ALL) else prov,
                                                 query or "")
            finally:
                cat.close()
            fd, path = tempfile.mkstemp(prefix="so-lieu-", suffix=".csv")
            with os.fdopen(fd, "w", encoding="utf-8-sig", newline="") as f:  # BOM: Excel reads Vietnamese right
                f.write(figure_table.to_csv(rows))
            return figure_table.to_table(rows), gr.update(value=path)

        def add_uploaded(paths):
            if not service.admin_allowed:
                return admin_note
            if not paths:
                return "Chưa chọn tệp nào."
            lines = []
            for p in paths if isinstance(paths, list) else [paths]:
                name = Path(p).name
                try:
                    target, art = save_article_bytes(settings.corpus_dir, name, Path(p).read_bytes(),
                                                     settings.max_article_bytes)
                    lines.append(f"✓ {name} → {target.name}: “{art.title}” ({art.province or 'không rõ tỉnh'})")
                except (ArticleError, OSError) as exc:
                    lines.append(f"✗ {name}: {getattr(exc, 'reason', exc)}")
            return "\n".join(lines) + "\nBấm “Xây dựng lại chỉ mục” để đưa bài mới vào câu trả lời."

        def add_pasted(title, prov, date, source, url, text):
            if not service.admin_allowed:
                return admin_note, gr.skip(), gr.skip()
            try:
                target, art = save_pasted(settings.corpus_dir, title=title or "", text=text or "",
                                          province=prov or "", date=date or "", source=source or "", url=url or "",
                                          max_bytes=settings.max_article_bytes)
            except ArticleError as exc:
                return f"✗ Không thêm được: {exc.reason}", gr.skip(), gr.skip()
            # Cleared so a second click cannot add the same article twice.
            return (f"✓ Đã thêm “{art.title}” ({target.name}). Bấm “Xây dựng lại chỉ mục” để cập nhật.", "", "")

        def do_rebuild(full_flag: bool, progress=gr.Progress()):
            if not service.admin_allowed:
                return admin_note
            progress(0, desc="Đang đọc bài viết…")
            try:
                summary = service.rebuild(full=bool(full_flag),
                                          progress=lambda stage, done, total: progress((done, total),
                                                                                       desc="Đang nhúng các đoạn"))
            except IndexBusyError as exc:
                return f"✗ {exc}"
            except Exception as exc:
                return f"✗ {_error_text(exc)}"
            lines = [f"Xong trong {summary.seconds:.1f}".replace(".", ",") + f" giây: thêm {summary.added}, cập nhật {summary.updated}, "
                     f"xóa {summary.removed}, giữ nguyên {summary.unchanged}, lỗi {len(summary.errors)}."]
            lines += [f"✗ {e}" for e in summary.errors]
            return "\n".join(lines)

        def do_remove(article_id: str):
            if not service.admin_allowed:
                return admin_note
            if not article_id:
                return "Chọn mã bài cần xóa."
            try:
                path = delete_article(settings.corpus_dir, article_id)
            except FileNotFoundError as exc:
                return f"✗ {exc}"
            return f"Đã xóa tệp {path.name}. Bấm “Xây dựng lại chỉ mục” để cập nhật chỉ mục."

        refresh_outputs = [status, province, fig_province, articles, remove_id]
        demo.load(refresh_all, outputs=refresh_outputs, api_visibility="private")
        demo.load(figures_view, inputs=[fig_province, fig_query], outputs=[fig_table, fig_download],
                  api_visibility="private")
        chat_io = dict(inputs=[question, chatbot, asked, province], outputs=[chatbot, question, asked, sources],
                       concurrency_limit=8, api_visibility="private")
        question.submit(respond, **chat_io)
        send.click(respond, **chat_io)
        clear.click(new_chat, outputs=[chatbot, asked, sources], api_visibility="private")
        check.click(factcheck, inputs=claim, outputs=[verdict, verdict_html], concurrency_limit=8,
                    api_visibility="private")
        claim.submit(factcheck, inputs=claim, outputs=[verdict, verdict_html], concurrency_limit=8,
                     api_visibility="private")
        for trigger in (fig_province.change, fig_query.submit):
            trigger(figures_view, inputs=[fig_province, fig_query], outputs=[fig_table, fig_download],
                    api_visibility="private")
        add_files.click(add_uploaded, inputs=upload, outputs=admin_log, api_visibility="private")
        add_paste.click(add_pasted, inputs=[p_title, p_province, p_date, p_source, p_url, p_text],
                        outputs=[admin_log, p_title, p_text],
                        api_visibility="private")
        rebuild.click(do_rebuild, inputs=full, outputs=admin_log, concurrency_limit=1, api_visibility="private") \
            .then(refresh_all, outputs=refresh_outputs, api_visibility="private") \
            .then(figures_view, inputs=[fig_province, fig_query], outputs=[fig_table, fig_download],
                  api_visibility="private")
        remove.click(do_remove, inputs=remove_id, outputs=admin_log, api_visibility="private")

        def api_ask(question: str) -> dict:
            """Answer one question; returns the same object as `python -m assistant ask --json`."""
            try:
                return service.ask(question).to_dict()
            except QuestionError as exc:
                raise gr.Error(str(exc)) from None
            except Exception as exc:
                msg = user_message(exc)
                if msg is None:
                    raise
                raise gr.Error(msg) from None

        gr.api(api_ask, api_name="ask", concurrency_limit=8)
    return demo


def _warm_up(service: Service) -> None:
    try:
        service.warm_up()
    except Exception as exc:  # the first question reports the problem to the user
        print(f"Chưa nạp được trợ lý: {user_message(exc) or exc}", file=sys.stderr)


def launch(service: Service, *, prevent_thread_lock: bool = False):
    """Serve the app on the configured host/port (no share link, login when configured)."""
    settings = service.settings
    warn_if_exposed(settings)
    # Load the model and open the index now, in the background: the first question should not wait.
    threading.Thread(target=_warm_up, args=(service,), daemon=True, name="warm-up").start()
    demo = build_app(service)
    demo.queue(default_concurrency_limit=8)
    return demo.launch(server_name=settings.host, server_port=settings.port, share=False,
                       auth=settings.auth_pairs or None, auth_message="Đăng nhập để dùng trợ lý." if settings.auth else None,
                       max_file_size=settings.max_article_bytes, show_error=False, ssr_mode=False, pwa=False,
                       mcp_server=False, footer_links=["api"], theme=theme(), css=CSS,
                       prevent_thread_lock=prevent_thread_lock, quiet=False)
