"""Test input files made inside the tests: a saved web page, a PDF with (and without) a text layer, a Word file.

Nothing binary is checked in; each maker writes the file with a library, as a maintainer's tools would.
"""
from __future__ import annotations

import datetime
import io
import zipfile
from pathlib import Path

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")  # a font with Vietnamese glyphs (fonts-dejavu)


def html_page(title: str, paragraphs: list[str], *, date: str = "2024-04-10", url: str = "https://baomoi.example/tin.html",
              site: str = "Báo Thử Nghiệm") -> bytes:
    """A saved news page: navigation, the article, a footer of links (trafilatura keeps only the article)."""
    nav = "".join(f'<li><a href="/muc-{i}">Chuyên mục {i}</a></li>' for i in range(12))
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (f'<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>{title} - {site}</title>'
            f'<meta property="og:title" content="{title}"><meta property="og:site_name" content="{site}">'
            f'<meta property="article:published_time" content="{date}T08:00:00+07:00">'
            f'<link rel="canonical" href="{url}"></head><body><header><nav><ul>{nav}</ul></nav></header>'
            f'<main><article><h1>{title}</h1>{body}</article></main>'
            f'<footer><ul>{nav}</ul><p>Bản quyền thuộc về {site}</p></footer></body></html>').encode("utf-8")


def navigation_only_page() -> bytes:
    """A saved page that is all menus and links."""
    links = "".join(f'<li><a href="/muc-{i}">Chuyên mục số {i}</a></li>' for i in range(40))
    return (f'<!doctype html><html><head><meta charset="utf-8"><title>Trang chủ</title></head><body>'
            f'<nav><ul>{links}</ul></nav><footer><ul>{links}</ul></footer></body></html>').encode("utf-8")


def pdf_with_text(title: str, paragraphs: list[str]) -> bytes:
    """A PDF with a real text layer (reportlab, DejaVu Sans embedded so Vietnamese extracts correctly)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(TTFont("DejaVuSans", str(FONT)))
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    c.setTitle(title)
    c.setFont("DejaVuSans", 11)
    y = 800
    for line in [title, ""] + paragraphs:
        while line:
            part, line = line[:90], line[90:]
            if line and " " in part:  # wrap at a space, never mid-word
                cut = part.rfind(" ")
                part, line = part[:cut], part[cut + 1:] + line
            c.drawString(50, y, part)
            y -= 16
        y -= 6
    c.save()
    return buf.getvalue()


def pdf_scanned() -> bytes:
    """A PDF whose page is only a picture (a scan): no text layer at all."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    for i in range(30):  # grey bars standing in for scanned lines of text
        c.setFillGray(0.2 + (i % 5) / 10)
        c.rect(50, 780 - i * 22, 480 - (i % 7) * 30, 12, stroke=0, fill=1)
    c.save()
    return buf.getvalue()


def docx_file(title: str, paragraphs: list[str]) -> bytes:
    """A Word document (python-docx) with a title property, a heading and paragraphs."""
    import docx

    d = docx.Document()
    d.core_properties.title = title
    d.core_properties.created = datetime.datetime(2024, 4, 12, 9, 0)
    d.add_heading(title, level=1)
    for p in paragraphs:
        d.add_paragraph(p)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def fake_docx() -> bytes:
    """A zip of something else, renamed .docx."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("anh/chan-dung.txt", "không phải tài liệu Word")
        z.writestr("ghi-chu.csv", "a,b\n1,2\n")
    return buf.getvalue()
