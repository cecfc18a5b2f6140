"""What the page needs besides components: Vietnamese for Gradio's own strings, `lang="vi"`, the answer links.

Gradio 6.31's frontend has 27 locales and none for Vietnamese. `gr.I18n` hands dictionaries to its i18n
system, but only for keys of our own: the frontend registers custom dictionaries first and its bundled
English after them, so the built-in keys ("upload_text.drop_file", "chatbot.clear", …) stay English for a
browser in English and for one in Vietnamese (which falls back to English). Checked in Chromium with both
locales. Several strings are not i18n keys at all ("Copy table data", "Fullscreen", "More tabs"). So the page
script translates the known English strings in text and in title / aria-label / placeholder attributes as they
appear, and sets `lang="vi"`; user text and answers are never touched.

>>> "Drop File Here" in VI_STRINGS and "<script>" in head_html()
True
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

# Every English string of Gradio 6.31 that this app's components can show, with its Vietnamese.
VI_STRINGS: dict[str, str] = {
    "Drop File Here": "Thả tệp vào đây", "- or -": "- hoặc -", "Click to Upload": "Bấm để chọn tệp",
    "Click to upload or drop files": "Bấm để chọn hoặc thả tệp vào đây", "Uploading...": "Đang tải lên…",
    "Clear": "Xóa", "Copy message": "Sao chép tin nhắn", "Copied message": "Đã sao chép",
    "Copy conversation": "Sao chép cuộc hội thoại", "Copy table data": "Sao chép bảng", "Copied": "Đã sao chép",
    "Fullscreen": "Toàn màn hình", "Exit fullscreen mode": "Thoát toàn màn hình", "Exit fullscreen": "Thoát toàn màn hình",
    "Dataframe": "Bảng", "More tabs": "Các thẻ khác", "chatbot conversation": "cuộc hội thoại", "Chatbot": "Hội thoại",
    "Loading...": "Đang tải…", "Loading": "Đang tải", "Error": "Lỗi", "Download": "Tải xuống", "Remove": "Gỡ bỏ",
    "Open cell menu": "Mở menu ô", "Sort column": "Sắp xếp cột", "Sort ascending": "Sắp xếp tăng dần",
    "Sort descending": "Sắp xếp giảm dần", "Clear sort": "Bỏ sắp xếp", "Filter": "Lọc", "Clear filters": "Bỏ lọc",
    "Search": "Tìm", "Search...": "Tìm…", "Share": "Chia sẻ", "Edit": "Sửa", "Retry": "Thử lại", "Undo": "Hoàn tác",
    "Submit": "Gửi", "Empty": "Trống", "Settings": "Cài đặt", "Close": "Đóng", "Like": "Thích",
    "Dislike": "Không thích", "Use via API": "Dùng qua API", "Built with Gradio": "", "built with": "",
    "Incorrect Credentials": "Sai tên đăng nhập hoặc mật khẩu", "username": "tên đăng nhập", "password": "mật khẩu",
    "Login": "Đăng nhập", "Select all": "Chọn tất cả", "Dropdown": "Danh sách chọn", "Checkbox": "Ô chọn",
    "Textbox": "Ô nhập", "Connection errored out.": "Mất kết nối tới máy chủ.", "Scroll to bottom": "Cuộn xuống cuối",
    "Scroll down": "Cuộn xuống", "Zoom in": "Phóng to", "Zoom out": "Thu nhỏ", "Warning": "Cảnh báo", "Info": "Thông tin",
    "Success": "Thành công", "File": "Tệp", "Files": "Tệp", "Upload": "Tải lên",
    "File upload": "Tải tệp lên", "common.upload": "Tải lên", "Remove this file": "Gỡ tệp này", "Add row": "Thêm dòng", "Add column": "Thêm cột", "New row": "Dòng mới", "New column": "Cột mới",
    # Gradio 6 i18n keys it shows raw when its locale lacks them ("common.complete" is the screen-reader notice
    # announced after every event).
    "common.complete": "Hoàn tất", "common.progress": "Tiến độ", "common.loading": "Đang tải…", "common.error": "Lỗi",
    "common.download": "Tải xuống", "common.download_all": "Tải xuống tất cả", "common.clear": "Xoá",
    "common.remove": "Gỡ bỏ", "common.undo": "Hoàn tác", "common.edit": "Sửa", "common.share": "Chia sẻ",
    "common.settings": "Cài đặt", "common.or": "hoặc", "common.language": "Ngôn ngữ",
    "common.display_theme": "Giao diện", "common.built_with_gradio": "", "common.built_with": "",
    "common.hosted_on": "", "common.logo": "", "common.back_to_app": "Quay lại ứng dụng",
}

# Replaces Gradio's "Use via API" footer link: the endpoint is kept (scripts use it), the panel and its MCP tab are not.
API_NOTE = ('Dùng cho máy: <code>gradio_client.Client(địa_chỉ).predict("câu hỏi", api_name="/ask")</code> '
            'trả về câu trả lời kèm trích dẫn (như lệnh <code>ask --json</code>).')


@lru_cache(maxsize=1)
def page_script() -> str:
    """The page script with the string table filled in."""
    js = (Path(__file__).with_name("page.js")).read_text(encoding="utf-8")
    return js.replace("__VI_STRINGS__", json.dumps(VI_STRINGS, ensure_ascii=False))


def head_html() -> str:
    """For `launch(head=...)` / `mount_gradio_app(head=...)`: the script, run before the app renders."""
    return f"<script>{page_script()}</script>"
