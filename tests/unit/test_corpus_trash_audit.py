"""The trash folder, restore onto a taken name, the audit log and upload-name checks of corpus_admin."""
from __future__ import annotations

import json

import pytest

from assistant.ingest.articles import ArticleError, corpus_files
from assistant.ingest.corpus_admin import (AuditLog, check_upload_name, restore_article, save_article_bytes,
                                           trash_article, trash_entries)

ARTICLE = "Bến Tre phát triển kinh tế số\nTỉnh Bến Tre đặt mục tiêu kinh tế số chiếm 20% GRDP vào năm 2025.\n".encode()


def test_trash_then_restore_brings_the_same_file_back(tmp_path):
    target, art = save_article_bytes(tmp_path, "ben-tre.md", ARTICLE, 10_000)
    entry = trash_article(tmp_path, art.id)
    assert not target.exists() and corpus_files(tmp_path) == []  # the trash is invisible to the reader
    assert [e.original_name for e in trash_entries(tmp_path)] == ["ben-tre.md"]
    back = restore_article(tmp_path, entry.trash_name)
    assert back == target and back.read_bytes() == ARTICLE and trash_entries(tmp_path) == []


def test_restore_onto_a_taken_name_changes_nothing(tmp_path):
    _, art = save_article_bytes(tmp_path, "ben-tre.md", ARTICLE, 10_000)
    entry = trash_article(tmp_path, art.id)
    newer = tmp_path / "ben-tre.txt"  # another article took the id meanwhile
    newer.write_bytes(ARTICLE.replace(b"20%", b"25%"))
    before = sorted(p.name for p in tmp_path.rglob("*"))
    with pytest.raises(ArticleError, match="không khôi phục được.*ben-tre.txt"):
        restore_article(tmp_path, entry.trash_name)
    assert sorted(p.name for p in tmp_path.rglob("*")) == before
    assert b"25%" in newer.read_bytes()


@pytest.mark.parametrize("name", ["../../evil.md", "..\\x.md", "a/b.md", "..", "../"])
def test_upload_names_with_folders_are_refused(name):
    with pytest.raises(ArticleError, match="chứa thư mục hoặc '..'"):
        check_upload_name(name)


def test_upload_names_with_other_formats_are_refused():
    with pytest.raises(ArticleError, match="không được hỗ trợ"):
        check_upload_name("bang-tinh.xlsx")
    assert check_upload_name("Bài viết.docx") == "Bài viết.docx"


def test_trash_refuses_names_outside_the_listing(tmp_path):
    with pytest.raises(FileNotFoundError):
        restore_article(tmp_path, "../../etc/passwd")
    with pytest.raises(FileNotFoundError):
        trash_article(tmp_path, "../secret")


def test_audit_log_is_json_lines_newest_first(tmp_path):
    log = AuditLog(tmp_path)
    log.record("them", "nhabao", article="ben-tre", title="Bến Tre")
    log.record("xoa", "", article="ben-tre")
    lines = (tmp_path / ".audit.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(x)["action"] for x in lines] == ["them", "xoa"]
    assert "Bến Tre" in lines[0]  # kept readable, not \u-escaped
    (tmp_path / ".audit.jsonl").open("a").write("{broken\n")
    assert [e["action"] for e in log.entries()] == ["xoa", "them"]
    assert log.entries()[1]["user"] == "nhabao"
