"""Resolve a follow-up question against the conversation before retrieval.

>>> resolve("Còn Bến Tre thì sao?", ["Năng suất lao động của Tiền Giang tăng bao nhiêu?"])
'Năng suất lao động của Bến Tre tăng bao nhiêu?'
"""
from __future__ import annotations

import re
from typing import Sequence

from assistant.vi import gazetteer
from assistant.vi.question import QuestionInfo, analyze
from assistant.vi.textnorm import fold

_FOLLOWUP_START = re.compile(r"^(va\s+|vay\s+|the\s+|con\s+)*(con|the con|vay con)\b")
_FOLLOWUP_END = re.compile(r"(thi sao|the nao|ra sao|nhu the nao|nua khong|thi the nao)\s*\??$")
_THAT_PLACE = re.compile(r"\b((o|tai|cua)\s+)?(tinh do|tinh nay|o do|dia phuong do|dia phuong nay|noi do)\b")


def is_followup(question: str) -> bool:
    """True for 'Còn X thì sao?', 'ở tỉnh đó ...' and similar elliptic questions."""
    f = fold(question).strip()
    return bool(_FOLLOWUP_START.match(f) or _FOLLOWUP_END.search(f) or _THAT_PLACE.search(f))


def resolve(question: str, history: Sequence[str], *, info: QuestionInfo | None = None) -> str:
    """A self-contained question: provinces or topic borrowed from the last question when elliptic.

    `info` is the question's analysis when the caller already has it (it is not analysed twice).
    """
    if not history or not question.strip() or not is_followup(question):
        return question
    prev = history[-1]
    new = info or analyze(question)
    old = analyze(prev)
    if new.provinces and old.provinces and (len(new.focus) <= 2 or _FOLLOWUP_END.search(fold(question))):
        # "Còn Bến Tre thì sao?": the previous question, about the new province(s).
        out, shift = prev, 0
        mentions = gazetteer.find_provinces(prev)
        for i, m in enumerate(mentions):
            repl = new.provinces[i] if i < len(new.provinces) else ""
            if i == len(mentions) - 1 and len(new.provinces) > len(mentions):
                repl = " và ".join(new.provinces[i:])
            s, e = m.start + shift, m.end + shift
            if not repl:  # drop an extra province together with the "và"/"," joining it
                joint = re.search(r"\s*(,|\bvà)\s*$", out[:s])
                s = joint.start() if joint else s
            out = out[:s] + repl + out[e:]
            shift += len(repl) - (e - s)
        return out.strip()
    if not new.provinces and old.provinces:
        # "Còn tỷ lệ ký số ở tỉnh đó thì sao?": the new topic, about the previous province(s).
        core = _strip_followup_words(question)
        return f"{core[:-1]} ở {', '.join(old.provinces)}?" if core.strip(" ?") else prev
    return question


def _strip_followup_words(question: str) -> str:
    f = fold(question)
    start = _FOLLOWUP_START.match(f)
    s = start.end() if start else 0
    end = _FOLLOWUP_END.search(f)
    e = end.start() if end else len(question)
    core = question[s:e]
    fcore = fold(core)
    m = _THAT_PLACE.search(fcore)
    if m:
        core = core[:m.start()] + core[m.end():]
    core = " ".join(core.split()).strip(" ,?")
    return core[:1].upper() + core[1:] + "?"
