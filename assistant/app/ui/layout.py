"""The Gradio app's layout: chat with each answer's own sources, fact-check, figures, articles, the `/ask` API.

Components only; what events do is in handlers.py, the HTML of an answer in render.py, the page's
Vietnamese and its answer links in page.py. The UI talks only to the `Service`.

Usage (needs the model, an index, a server or the shared data, so not run as a doctest)::

    demo = build_app(Service(Settings.from_env()))   # served by assistant.app.server.run
"""
from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no request leaves the machine

import gradio as gr  # noqa: E402

from assistant.app.service import UPLOAD_MAX_BYTES, Service  # noqa: E402
from assistant.app.ui import figure_table  # noqa: E402
from assistant.app.ui.handlers import ALL, ALL_STATUS, ALL_YEARS, ARTICLE_HEADERS, Handlers  # noqa: E402
from assistant.app.ui.page import API_NOTE, head_html  # noqa: E402
from assistant.app.ui.render import CSS  # noqa: E402

# Short, whole questions (they fit on one line at 390 px) that are sent when clicked.
EXAMPLES = [
    "Kinh tế số Tiền Giang năm 2025 đạt bao nhiêu % GRDP?",
    "Đồng Tháp có bao nhiêu dịch vụ công trực tuyến một phần?",
    "Hậu Giang xếp hạng DTI thứ mấy năm 2021?",
    "Năng suất lao động Bến Tre tăng bao nhiêu mỗi năm?",
]
UPLOAD_TYPES = [".md", ".txt", ".html", ".htm", ".pdf", ".docx"]
# Gradio refuses bigger uploads with its own English message; up to this size our handler answers in Vietnamese.
GRADIO_MAX_FILE_BYTES = 8 * UPLOAD_MAX_BYTES


def article_files(**kwargs) -> gr.File:
    """gr.File that keeps each upload's name as the browser sent it (`orig_name`: "../x.md" reaches the handler,
    which refuses it) and leaves format checks to the handler, whose messages are Vietnamese (Gradio's own
    "Invalid file type" error is English). Patched on the instance: a subclass would make Gradio write a .pyi."""
    from gradio.utils import NamedString

    component = gr.File(type="filepath", **kwargs)

    def keep_name(f):
        named = NamedString(f.path)
        named.orig_name = f.orig_name or ""
        return named

    component._process_single_file = keep_name
    return component


def theme() -> gr.themes.Base:
    """A calm theme with system fonts only (nothing fetched from font services)."""
    return gr.themes.Soft(primary_hue="blue", neutral_hue="slate",
                          font=["system-ui", "Segoe UI", "Roboto", "Noto Sans", "DejaVu Sans", "sans-serif"],
                          font_mono=["ui-monospace", "DejaVu Sans Mono", "monospace"])


def page_options() -> dict:
    """What `launch` and `gr.mount_gradio_app` both need for this page (theme, CSS, head script, no API panel)."""
    return {"theme": theme(), "css": CSS, "head": head_html(), "footer_links": [], "mcp_server": False,
            "pwa": False, "ssr_mode": False}


def build_app(service: Service) -> gr.Blocks:
    """The whole UI, wired to one Service."""
    h = Handlers(service)
    settings = service.settings

    with gr.Blocks(title="Trợ lý chuyển đổi số — hỏi đáp có trích dẫn", analytics_enabled=False) as demo:
        gr.Markdown("## Trợ lý chuyển đổi số\nHỏi đáp về chuyển đổi số, kinh tế số, chính quyền số của các tỉnh — "
                    "mỗi câu trả lời trích nguyên văn câu trong bài, ngay dưới câu trả lời là nguồn của nó.",
                    elem_id="intro")
        status = gr.HTML(elem_id="status")
        warm = gr.HTML(h.warm_notice()[0], elem_id="warm-notice")  # shown at once; the timer clears it
        warm_timer = gr.Timer(1.0, active=True)
        asked = gr.State([])

        with gr.Tabs(overflow_behavior="wrap"):  # on a phone every tab stays visible, none behind "⋯"
            with gr.Tab("Hỏi đáp", id="chat"):
                chatbot = gr.Chatbot(label="Hội thoại", show_label=False, height=560, render_markdown=False,
                                     sanitize_html=True, elem_id="chatbot", buttons=[], feedback_options=None,
                                     placeholder="Đặt câu hỏi về kế hoạch chuyển đổi số của các tỉnh.")
                with gr.Row(elem_id="examples"):
                    example_buttons = [gr.Button(q, size="sm", variant="secondary", elem_classes=["example-q"])
                                       for q in EXAMPLES]
                with gr.Row(equal_height=True):
                    question = gr.Textbox(label="Câu hỏi", show_label=False, scale=5, elem_id="question",
                                          placeholder="Nhập câu hỏi…",
                                          max_length=settings.max_question_chars, lines=1)
                    send = gr.Button("Hỏi", variant="primary", scale=1, min_width=70, elem_id="ask-btn")
                note = gr.HTML(elem_id="ask-note")
                with gr.Row():
                    province = gr.Dropdown(choices=[ALL], value=ALL, label="Lọc theo tỉnh/thành",
                                           elem_id="province-filter", scale=3)
                    clear = gr.Button("Cuộc hội thoại mới", scale=1, elem_id="new-chat")

            with gr.Tab("Kiểm chứng", id="factcheck"):
                gr.Markdown("Dán một nhận định có số liệu; trợ lý tìm câu nói về cùng nội dung trong các bài viết và "
                            "so từng số liệu.")
                claim = gr.Textbox(label="Nhận định cần kiểm chứng", lines=3, elem_id="claim",
                                   placeholder="Ví dụ: Đồng Tháp có 763 dịch vụ công trực tuyến một phần")
                check = gr.Button("Kiểm chứng", variant="primary", elem_id="check-btn")
                verdict = gr.Textbox(label="Kết luận", interactive=False, elem_id="verdict", lines=2)
                verdict_html = gr.HTML(elem_id="verdict-sources")

            with gr.Tab("Số liệu", id="figures"):
                gr.Markdown("Mọi số liệu trong các bài viết đã lập chỉ mục, kèm câu chứa nó. Lọc ngay khi gõ.")
                with gr.Row():
                    fig_province = gr.Dropdown(choices=[ALL], value=ALL, label="Tỉnh/thành", scale=2,
                                               elem_id="fig-province")
                    fig_year = gr.Dropdown(choices=[ALL_YEARS], value=ALL_YEARS, label="Năm", scale=1,
                                           elem_id="fig-year")
                    fig_status = gr.Dropdown(choices=[ALL_STATUS, *figure_table.STATUS_CHOICES], value=ALL_STATUS,
                                             label="Đạt / mục tiêu", scale=2, elem_id="fig-status")
                    fig_query = gr.Textbox(label="Tìm trong câu (không cần dấu)", scale=3, elem_id="fig-query")
                    fig_download = gr.DownloadButton("Tải CSV (đúng các dòng đang hiện)", scale=1,
                                                     elem_id="fig-download")
                fig_count = gr.HTML(elem_id="fig-count-box")
                fig_table = gr.Dataframe(headers=list(figure_table.VIEW_HEADERS), interactive=False, wrap=True,
                                         elem_id="figures-table", max_height=640, buttons=[],
                                         column_widths=figure_table.VIEW_WIDTHS)
                with gr.Accordion("So sánh: cùng chỉ số, cùng tỉnh, từ các bài hoặc các năm khác nhau", open=True,
                                  elem_id="fig-compare-box"):
                    fig_compare = gr.HTML(elem_id="fig-compare")

            with gr.Tab("Bài viết", id="articles"):
                articles = gr.Dataframe(headers=ARTICLE_HEADERS, interactive=False, wrap=True, buttons=[],
                                        elem_id="articles-table", max_height=360,
                                        column_widths=["52%", "18%", "15%", "15%"])
                with gr.Group(visible=service.admin_allowed):
                    with gr.Row():
                        with gr.Column():
                            gr.Markdown(f"**Tải tệp lên** ({', '.join(UPLOAD_TYPES)}; tối đa "
                                        f"{UPLOAD_MAX_BYTES / 1e6:.0f} MB). Trang web lưu lại, PDF có lớp chữ và "
                                        "tệp Word đều được; chỉ mục tự cập nhật sau khi thêm.")
                            upload = article_files(file_count="multiple", label="Tệp bài viết", elem_id="upload")
                            add_files = gr.Button("Thêm tệp", elem_id="add-files-btn")
                        with gr.Column():
                            gr.Markdown("**Hoặc dán nội dung**")
                            p_title = gr.Textbox(label="Tiêu đề", elem_id="paste-title")
                            with gr.Row():
                                p_province = gr.Dropdown(choices=service.known_provinces(), label="Tỉnh/thành",
                                                         allow_custom_value=True, value=None,
                                                         elem_id="paste-province")  # no silent "An Giang"
                                p_date = gr.Textbox(label="Ngày (YYYY-MM-DD)", elem_id="paste-date")
                            with gr.Row():
                                p_source = gr.Textbox(label="Nguồn (tờ báo)", elem_id="paste-source")
                                p_url = gr.Textbox(label="Đường dẫn", elem_id="paste-url")
                            p_text = gr.Textbox(label="Nội dung", lines=6, elem_id="paste-text")
                            add_paste = gr.Button("Thêm bài dán", elem_id="add-paste-btn")
                    with gr.Row():
                        remove_id = gr.Dropdown(choices=[], label="Xóa bài (chọn theo tiêu đề)", elem_id="remove-id",
                                                scale=3)
                        remove = gr.Button("Xóa bài…", variant="stop", scale=1, elem_id="remove-btn")
                    with gr.Group(visible=False, elem_id="confirm-box", elem_classes=["confirm-box"]) as confirm_box:
                        confirm_text = gr.HTML(elem_id="confirm-text")
                        with gr.Row():
                            confirm = gr.Button("Xác nhận xóa", variant="stop", elem_id="confirm-delete")
                            cancel = gr.Button("Hủy", elem_id="cancel-delete")
                    with gr.Row():
                        trash = gr.Dropdown(choices=[], label="Thùng rác (bài đã xóa)", elem_id="trash-list", scale=3)
                        restore = gr.Button("Khôi phục", scale=1, elem_id="restore-btn")
                    with gr.Row():
                        rebuild = gr.Button("Xây dựng lại chỉ mục", variant="primary", elem_id="rebuild-btn")
                        full = gr.Checkbox(label="Nhúng lại toàn bộ", value=False)
                admin_log = gr.Textbox(label="Kết quả", value=h.admin_note, interactive=False, lines=4,
                                       elem_id="admin-log")
                gr.Markdown("**Nhật ký thao tác** (ai thêm, xóa, khôi phục, xây dựng lại — lưu ở "
                            "`corpus/.audit.jsonl`)")
                audit = gr.HTML(elem_id="audit-log")
        gr.HTML(f'<div class="api-note">{API_NOTE}</div>', elem_id="api-note")

        # ---- wiring ---------------------------------------------------------------------------------------------
        private = {"api_visibility": "private"}
        refresh_outputs = [status, province, fig_province, articles, remove_id, trash, audit]
        fig_io = {"fn": h.figures, "inputs": [fig_province, fig_year, fig_query, fig_status],
                  "outputs": [fig_table, fig_count, fig_download, fig_year, fig_compare], **private}
        demo.load(h.refresh, outputs=refresh_outputs, show_progress="hidden", **private)
        demo.load(**fig_io)
        quiet = {"show_progress": "hidden", **private}
        demo.load(h.warm_notice, outputs=[warm, warm_timer], **quiet)
        warm_timer.tick(h.warm_notice, outputs=[warm, warm_timer], **quiet)

        chat_io = {"inputs": [question, chatbot, asked, province], "outputs": [chatbot, question, asked, note],
                   "concurrency_limit": 8, **private}
        question.submit(h.respond, **chat_io)
        send.click(h.respond, **chat_io)
        for button, text in zip(example_buttons, EXAMPLES):
            def ask_example(chat, history, prov, request: gr.Request, _text=text):
                yield from h.respond(_text, chat, history, prov, request)

            button.click(ask_example, inputs=[chatbot, asked, province], outputs=[chatbot, question, asked, note],
                         concurrency_limit=8, **private)
        reset = {"fn": h.new_chat, "outputs": [chatbot, asked, note], **private}
        clear.click(**reset)
        chatbot.clear(**reset)

        check.click(h.factcheck, inputs=claim, outputs=[verdict, verdict_html], concurrency_limit=8, **private)
        claim.submit(h.factcheck, inputs=claim, outputs=[verdict, verdict_html], concurrency_limit=8, **private)

        fig_query.input(trigger_mode="always_last", show_progress="hidden", **fig_io)
        fig_province.change(**fig_io)
        fig_year.change(**fig_io)
        fig_status.change(**fig_io)

        def after_admin(event):
            event.then(h.refresh, outputs=refresh_outputs, **private).then(**fig_io)

        after_admin(add_files.click(h.add_uploaded, inputs=upload, outputs=[admin_log, upload], concurrency_limit=1,
                                    **private))
        after_admin(add_paste.click(h.add_pasted, inputs=[p_title, p_province, p_date, p_source, p_url, p_text],
                                    outputs=[admin_log, p_title, p_province, p_date, p_source, p_url, p_text],
                                    concurrency_limit=1, **private))
        remove.click(h.ask_delete, inputs=remove_id, outputs=[confirm_box, confirm_text, admin_log], **private)
        cancel.click(h.cancel_delete, outputs=[confirm_box, confirm_text, admin_log], **private)
        after_admin(confirm.click(h.confirm_delete, inputs=remove_id, outputs=[confirm_box, admin_log],
                                  concurrency_limit=1, **private))
        after_admin(restore.click(h.restore, inputs=trash, outputs=admin_log, concurrency_limit=1, **private))
        after_admin(rebuild.click(h.rebuild, inputs=full, outputs=admin_log, concurrency_limit=1, **private))

        gr.api(h.api_ask, api_name="ask", concurrency_limit=8)
    return demo
