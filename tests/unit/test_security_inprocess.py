"""Secure defaults checked in-process (nothing listens): the upload byte limit of corpus_admin, and an exposed host.

The running app's defaults (loopback only, login, server-side upload limit, no share link) are in
tests/e2e/test_security_app.py; secrets kept out of CLI output in tests/integration/test_security_cli.py.
"""
from __future__ import annotations

import pytest

from tests.support.paths import settings_for

USER, PASSWORD = "canbo", "mat-khau-dai-9173"


def test_upload_size_limit_is_enforced_by_corpus_admin(tmp_path):
    from assistant.ingest.articles import ArticleError
    from assistant.config import Settings
    from assistant.ingest.corpus_admin import save_article_bytes

    limit = Settings.from_env({}).max_article_bytes
    body = "Tỉnh Cà Mau có 4.321 điểm phát wifi miễn phí phục vụ chuyển đổi số.\n".encode()
    with pytest.raises(ArticleError, match="quá lớn"):
        save_article_bytes(tmp_path, "lon.md", body * (limit // len(body) + 1), limit)
    assert list(tmp_path.iterdir()) == []


def _handler(demo, name):
    return next(f.fn for f in demo.fns.values() if f.name == name)


def _launched(monkeypatch) -> dict:
    """What `server.run` would serve, without serving: the host uvicorn would bind and what Gradio is mounted with
    (FastAPI + the Gradio UI mounted, uvicorn: no share link exists on that path).
    """
    import gradio as gr
    import uvicorn

    launched = {"share": False}
    real_mount = gr.mount_gradio_app

    def mount(app, blocks, path, **kw):
        launched.update(kw)
        return real_mount(app, blocks, path, **kw)

    monkeypatch.setattr(gr, "mount_gradio_app", mount)
    monkeypatch.setattr(uvicorn.Server, "run", lambda self, *a, **kw: launched.update(server_name=self.config.host))
    return launched


def test_exposed_host_without_login_warns_and_turns_article_management_off(tmp_path, capsys, monkeypatch):
    import gradio as gr

    from assistant.app.service import Service, warn_if_exposed
    from assistant.app.server import run as launch
    from assistant.app.ui.layout import GRADIO_MAX_FILE_BYTES, build_app

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    settings = settings_for(corpus, tmp_path / "index", {"ASSISTANT_HOST": "0.0.0.0"})
    service = Service(settings)
    assert service.public_without_login and not service.admin_allowed
    msg = warn_if_exposed(settings, echo=lambda m: None)
    assert msg.startswith("CẢNH BÁO") and "0.0.0.0" in msg and "ASSISTANT_AUTH" in msg and "đã bị tắt" in msg

    demo = build_app(service)
    groups = [b for b in demo.blocks.values() if isinstance(b, gr.Group)]
    assert groups and all(g.visible is False for g in groups)  # the upload/paste/rebuild/remove panel
    note = "Quản lý bài viết bị tắt"
    upload = tmp_path / "bai.md"
    upload.write_text("Tỉnh Cà Mau có 4.321 điểm phát wifi miễn phí phục vụ chuyển đổi số.\n", encoding="utf-8")
    results = [_handler(demo, "add_uploaded")([str(upload)]),
               _handler(demo, "add_pasted")("Tin", "Cà Mau", "", "", "", "Nội dung bài viết về chuyển đổi số."),
               _handler(demo, "rebuild")(True), _handler(demo, "ask_delete")("bai"),
               _handler(demo, "confirm_delete")("bai"), _handler(demo, "restore")("bai.md")]
    for r in results:  # even a crafted call to a hidden handler does nothing
        assert any(note in x for x in (r if isinstance(r, tuple) else (r,)) if isinstance(x, str)), r
    assert list(corpus.iterdir()) == [] and not (tmp_path / "index").exists()

    launched = _launched(monkeypatch)
    launch(service)
    out = capsys.readouterr().out
    assert msg in out
    assert launched["server_name"] == "0.0.0.0" and launched["share"] is False and launched["auth"] is None
    assert launched["max_file_size"] == GRADIO_MAX_FILE_BYTES


def test_exposed_host_with_login_keeps_article_management(tmp_path, monkeypatch):
    import gradio as gr

    from assistant.app.service import Service, warn_if_exposed
    from assistant.app.server import run as launch

    settings = settings_for(tmp_path / "corpus", tmp_path / "index",
                            {"ASSISTANT_HOST": "0.0.0.0", "ASSISTANT_AUTH": f"{USER}:{PASSWORD}"})
    service = Service(settings)
    assert service.admin_allowed and warn_if_exposed(settings, echo=lambda m: None) == ""
    launched = _launched(monkeypatch)
    launch(service)
    assert launched["auth"] == [(USER, PASSWORD)] and launched["share"] is False
