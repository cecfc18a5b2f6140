"""Person names in Vietnamese text: runs of capitalized syllables that are not titles, institutions or places.

>>> person_names("Phó Chủ tịch UBND tỉnh Thanh Hóa Mai Xuân Liêm phát biểu.")
['Mai Xuân Liêm']
"""
from __future__ import annotations

import re

from assistant.vi import gazetteer

# Capitalized words that begin titles and institutions, not names ("Phó Chủ tịch", "Sở", "Việt Nam").
_NOT_NAME_WORDS = frozenset("""phó chủ tịch giám đốc bộ sở ủy ban nhân dân tỉnh thành phố tổng bí thư trưởng thủ tướng
    chính phủ hội đồng công ty trung tâm nhà nước quốc ông bà anh chị đồng chí theo tại trong năm ngày tháng các những
    của và với khi đến từ thủ đô""".split())
# Vietnamese personal names have 2 to 4 syllables (family, middle, given): 'Mai Xuân Liêm', 'Nguyễn Thị Thanh Hà'.
MIN_NAME_SYLLABLES, MAX_NAME_SYLLABLES = 2, 4
_WORD = re.compile(r"[^\W\d_]+")


def person_names(text: str) -> list[str]:
    """Runs of 2-4 capitalized Vietnamese syllables that look like a person's name ("Mai Xuân Liêm"): title
    and institution words and province names cut a run, they are not part of a name."""
    names: list[str] = []
    run: list[str] = []
    end = -1

    def flush() -> None:
        cand = " ".join(run)
        for m in gazetteer.find_provinces(cand):  # "Thanh Hóa Mai Xuân Liêm" → "Mai Xuân Liêm"
            cand = cand.replace(m.surface, "|")
        cand = cand.replace("Việt Nam", "|")
        names.extend(p for p in (" ".join(x.split()) for x in cand.split("|")) if MIN_NAME_SYLLABLES <= len(p.split()) <= MAX_NAME_SYLLABLES)

    for m in _WORD.finditer(text):
        w = m.group()
        name_like = w[0].isupper() and w[1:].islower() and w.lower() not in _NOT_NAME_WORDS
        if not (name_like and run and text[end:m.start()] == " "):
            flush()
            run = []
        if name_like:
            run.append(w)
            end = m.end()
    flush()
    return names
