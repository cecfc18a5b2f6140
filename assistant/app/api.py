"""The plain JSON HTTP API beside the Gradio UI: `POST /api/ask`, `POST /api/factcheck`, docs at `/api/docs`.

Both return the object of `python -m assistant ask --json` (`Answer.to_dict()`). The same login as
the app (ASSISTANT_AUTH, as HTTP Basic), the same limits (ASSISTANT_MAX_QUESTION_CHARS), and errors
with the Vietnamese message the CLI and the UI show, under `detail`:

- 400 the question cannot be answered as given (empty, not text) — `QuestionError`
- 401 login needed or wrong (with `WWW-Authenticate: Basic`)
- 413 the question (or the request body) is longer than the limit
- 422 the request is not the documented JSON (a missing field, a `k` out of 1..100, not JSON)
- 503 the index cannot serve right now (being rebuilt, missing, the Chroma server down...)
- 500 a bug (a generic message; the traceback goes to the app's log)

Usage (needs the model, an index, a server or the shared data, so not run as a doctest)::

    import requests
    requests.post("http://127.0.0.1:7860/api/ask", json={"question": "Đồng Tháp có bao nhiêu dịch vụ công "
                  "trực tuyến một phần?"}, auth=("user", "password")).json()["citations"][0]["quote"]
"""
from __future__ import annotations

import binascii
import logging
import secrets
import threading
from base64 import b64decode
from typing import Any, Optional

from fastapi import Depends, FastAPI, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPBasic, HTTPBasicCredentials
from fastapi.security.utils import get_authorization_scheme_param
from pydantic import BaseModel, ConfigDict, Field

from assistant.app import handoff
from assistant.app.pipeline import QuestionError
from assistant.app.service import Service
from assistant.errors import AssistantError, user_message
from assistant.vi.textnorm import normalize_question

log = logging.getLogger("assistant")
API_PREFIX = "/api"
# As many questions at once as Gradio's `/ask` answers (concurrency_limit=8 in ui/layout.py): more threads
# only share the same two cores, each answer slower, none sooner.
API_CONCURRENCY = 8
# A JSON body of the longest allowed question: \\uXXXX escapes take up to 12 bytes a character (surrogate
# pairs), plus room for the other fields. Larger bodies are refused before they are read whole.
BODY_BYTES_PER_CHAR = 12
BODY_OVERHEAD_BYTES = 4096


class AskRequest(BaseModel):
    """A question, optionally limited to one province, with the number of passages to retrieve."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"question": "Đồng Tháp có bao nhiêu dịch vụ công trực tuyến một phần?", "province": None, "k": 5}]})
    question: str = Field(description="Câu hỏi tiếng Việt (có dấu hoặc không dấu)")
    province: Optional[str] = Field(None, description="Chỉ tìm trong bài về tỉnh/thành này")
    k: Optional[int] = Field(None, ge=1, le=100, description="Số đoạn văn lấy về (mặc định ASSISTANT_K)")


class IndexRequest(BaseModel):
    """An incremental build (or a full one: every article embedded again)."""

    model_config = ConfigDict(extra="forbid")
    full: bool = Field(False, description="Nhúng lại mọi bài viết")


class FactcheckRequest(BaseModel):
    """A claim with figures to check against the articles."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"claim": "Đồng Tháp có 763 dịch vụ công trực tuyến một phần"}]})
    claim: str = Field(description="Nhận định cần kiểm chứng")


class Citation(BaseModel):
    model_config = ConfigDict(extra="allow")
    n: int
    article_id: str
    chunk_id: str
    title: str
    province: str
    date: str
    url: str
    quote: str = Field(description="the cited sentence(s)")
    text: str = Field(description="the whole chunk")


class Figure(BaseModel):
    model_config = ConfigDict(extra="allow")
    text: str
    value: float
    unit: str
    verified: bool
    citation: Optional[int]


class Retrieved(BaseModel):
    model_config = ConfigDict(extra="allow")
    chunk_id: str
    article_id: str
    score: float
    text: str


class AnswerObject(BaseModel):
    """The object of `python -m assistant ask --json` (more fields may follow these)."""

    model_config = ConfigDict(extra="allow")
    question: str
    answer: str = Field(description="the answer text with [n] citation marks")
    abstained: bool
    citations: list[Citation]
    figures: list[Figure]
    retrieved: list[Retrieved]
    timings_ms: dict[str, float]


class Problem(BaseModel):
    """An error: one Vietnamese sentence for the user."""

    detail: str


ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": Problem, "description": text} for code, text in (
        (400, "câu hỏi không dùng được (trống, không phải văn bản)"), (401, "cần đăng nhập"),
        (413, "câu hỏi quá dài"), (422, "yêu cầu không đúng dạng JSON đã mô tả"),
        (503, "chỉ mục chưa sẵn sàng (đang xây dựng lại, bị thiếu, máy chủ Chroma không trả lời)"))}


class Utf8Basic(HTTPBasic):
    """HTTP Basic credentials decoded as UTF-8 (RFC 7617), so a Vietnamese password works; None when absent
    or malformed (FastAPI's own decodes ASCII only and answers 401 itself)."""

    async def __call__(self, request: Request) -> Optional[HTTPBasicCredentials]:  # type: ignore[override]
        scheme, param = get_authorization_scheme_param(request.headers.get("Authorization"))
        if scheme.lower() != "basic" or not param:
            return None
        try:
            user, sep, password = b64decode(param, validate=True).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError, binascii.Error):
            return None
        return HTTPBasicCredentials(username=user, password=password) if sep else None


class _BodyTooLarge(Exception):
    pass


class BodyLimit:
    """ASGI guard: a body above `limit` bytes on the API paths gets 413 before it is read whole."""

    def __init__(self, app, limit: int, message: str):
        self.app, self.limit, self.message = app, limit, message

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not scope["path"].startswith(API_PREFIX + "/"):
            return await self.app(scope, receive, send)
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            return await self._refuse(scope, receive, send)
        seen = 0

        async def counted():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _BodyTooLarge
            return message

        try:
            await self.app(scope, counted, send)
        except _BodyTooLarge:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope, receive, send):
        await JSONResponse({"detail": self.message}, status_code=413)(scope, receive, send)


def _too_long_message(chars: int, limit: int) -> str:
    # The pipeline's own sentence (app/pipeline.py `_prepare`): the API answers 413 before asking the pipeline.
    return f"Câu hỏi quá dài ({chars:,} ký tự; tối đa {limit:,}). Hãy rút gọn câu hỏi.".replace(",", ".")


_FIELD_NAMES = {"question": "câu hỏi", "claim": "nhận định", "province": "tỉnh/thành", "k": "số đoạn (k)"}


def validation_message(exc: RequestValidationError) -> str:
    """One Vietnamese sentence for a request that is not the documented JSON.

    >>> from fastapi.exceptions import RequestValidationError
    >>> validation_message(RequestValidationError([{"type": "missing", "loc": ("body", "question")}]))
    "Yêu cầu không hợp lệ: thiếu trường 'question' (câu hỏi)."
    >>> validation_message(RequestValidationError([{"type": "less_than_equal", "loc": ("body", "k"), "input": 500,
    ...                                             "ctx": {"le": 100}}]))
    "Yêu cầu không hợp lệ: trường 'k' (số đoạn (k)) phải là số nguyên từ 1 đến 100, không phải 500."
    """
    parts = []
    for err in exc.errors():
        loc = [str(x) for x in err.get("loc", ()) if x != "body"]
        name = loc[0] if loc else ""
        label = f"trường {name!r} ({_FIELD_NAMES[name]})" if name in _FIELD_NAMES else f"trường {name!r}"
        kind = err.get("type", "")
        got = f", không phải {err['input']!r}" if "input" in err and not isinstance(err["input"], (dict, list)) else ""
        if kind == "missing":
            parts.append(f"thiếu {label}")
        elif kind in ("json_invalid", "model_attributes_type", "dict_type") or not name:
            parts.append("nội dung phải là một đối tượng JSON, ví dụ {\"question\": \"...\"}")
        elif kind == "extra_forbidden":
            parts.append(f"không có {label}; các trường là: question, province, k (hoặc claim)")
        elif name == "k":
            parts.append(f"{label} phải là số nguyên từ 1 đến 100{got}")
        elif kind.startswith("string"):
            parts.append(f"{label} phải là văn bản{got}")
        else:
            parts.append(f"{label} không hợp lệ{got}")
    return "Yêu cầu không hợp lệ: " + "; ".join(dict.fromkeys(parts)) + "."


def build_api(service: Service) -> FastAPI:
    """The FastAPI app with the JSON API; `server.build_server` mounts the Gradio UI beside it."""
    settings = service.settings
    limit = settings.max_question_chars
    app = FastAPI(title="Trợ lý chuyển đổi số — API JSON",
                  description="Hỏi đáp có trích dẫn về chuyển đổi số của các tỉnh. Mỗi câu trả lời là đối tượng của "
                              "`python -m assistant ask --json`. Đăng nhập (HTTP Basic) khi ứng dụng đặt "
                              "ASSISTANT_AUTH.",
                  docs_url=f"{API_PREFIX}/docs", openapi_url=f"{API_PREFIX}/openapi.json", redoc_url=None)
    body_limit = limit * BODY_BYTES_PER_CHAR + BODY_OVERHEAD_BYTES
    app.add_middleware(BodyLimit, limit=body_limit,
                       message=f"Yêu cầu quá lớn (hơn {body_limit:,} byte); câu hỏi dài tối đa {limit:,} ký tự. "
                               "Hãy rút gọn câu hỏi.".replace(",", "."))
    gate = threading.BoundedSemaphore(API_CONCURRENCY)
    pairs = [(u.encode(), p.encode()) for u, p in settings.auth_pairs]
    basic = Utf8Basic(auto_error=False, description="ASSISTANT_AUTH user:password (UTF-8)")

    def login(credentials: Optional[HTTPBasicCredentials] = Depends(basic)) -> str:
        if not pairs:
            return ""
        if credentials is not None:
            user, password = credentials.username.encode(), credentials.password.encode()
            ok = False
            for u, p in pairs:  # every pair compared in constant time: no early exit on a user name
                ok |= secrets.compare_digest(user, u) & secrets.compare_digest(password, p)
            if ok:
                return credentials.username
        raise _Unauthorized()

    def answer(text: str, **kwargs: Any) -> JSONResponse:
        if isinstance(text, str) and len(normalize_question(text)) > limit:
            return JSONResponse({"detail": _too_long_message(len(normalize_question(text)), limit)}, status_code=413)
        with gate:
            result = service.ask(text, **kwargs)
        return JSONResponse(result.to_dict())

    @app.post(f"{API_PREFIX}/ask", response_model=AnswerObject, responses=ERRORS, summary="Hỏi một câu",
              tags=["hỏi đáp"])
    def ask(body: AskRequest, user: str = Depends(login)):
        """Trả lời một câu hỏi từ các bài viết đã lập chỉ mục, có trích dẫn [n] và kiểm chứng số liệu."""
        return answer(body.question, province=body.province or None, k=body.k)

    @app.post(f"{API_PREFIX}/factcheck", response_model=AnswerObject, responses=ERRORS,
              summary="Kiểm chứng một nhận định", tags=["hỏi đáp"])
    def factcheck(body: FactcheckRequest, user: str = Depends(login)):
        """So từng số liệu của nhận định với câu nói về cùng nội dung trong các bài viết."""
        return answer(body.claim, factcheck=True)

    def local_caller(token: Optional[str] = Header(None, alias=handoff.TOKEN_HEADER)) -> None:
        if token is None or not secrets.compare_digest(token.encode(), service.handoff_token.encode()):
            raise _NotLocal()

    @app.post(f"{API_PREFIX}/index", responses={403: {"description": "không có mã của ứng dụng"}},
              summary="Cập nhật chỉ mục (cho `python -m assistant index` trên cùng máy)", tags=["hệ thống"])
    def index(body: IndexRequest, user: str = Depends(login), _: None = Depends(local_caller)) -> dict:
        """Chạy bước xây dựng chỉ mục tăng dần trong ứng dụng (mô hình đã nạp sẵn); trả về tóm tắt."""
        summary = service.rebuild_logged(full=body.full, user=user or "cli", reason="python -m assistant index")
        return summary.to_dict()

    @app.exception_handler(_NotLocal)
    async def not_local(request: Request, exc: _NotLocal):
        return JSONResponse({"detail": "Chỉ lệnh `python -m assistant index` trên cùng máy (đọc được thư mục chỉ "
                                       "mục) mới được cập nhật chỉ mục qua ứng dụng."}, status_code=403)

    @app.get(f"{API_PREFIX}/health", summary="Trạng thái", tags=["hệ thống"])
    def health() -> dict:
        """200 while the server runs; `warm` says whether the model and the index are loaded yet."""
        return {"status": "ok", "warm": getattr(service, "warm_state", None)}

    @app.exception_handler(_Unauthorized)
    async def unauthorized(request: Request, exc: _Unauthorized):
        return JSONResponse({"detail": "Cần đăng nhập: gửi tên và mật khẩu của ứng dụng (HTTP Basic)."},
                            status_code=401, headers={"WWW-Authenticate": 'Basic realm="assistant", charset="UTF-8"'})

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        return JSONResponse({"detail": validation_message(exc)}, status_code=422)

    @app.exception_handler(QuestionError)
    async def bad_question(request: Request, exc: QuestionError):
        return JSONResponse({"detail": str(exc)}, status_code=400)

    @app.exception_handler(AssistantError)
    async def unavailable(request: Request, exc: AssistantError):
        return JSONResponse({"detail": user_message(exc) or str(exc)}, status_code=503)

    @app.exception_handler(Exception)
    async def bug(request: Request, exc: Exception):
        msg = user_message(exc)
        if msg is not None:  # FileNotFoundError and the like: the user can act on it
            return JSONResponse({"detail": msg}, status_code=503)
        log.exception("unexpected error answering %s", request.url.path, exc_info=exc)
        return JSONResponse({"detail": Service.error_text(exc)}, status_code=500)

    return app


class _NotLocal(Exception):
    """A build asked for without the token of `<index>/app.json`."""


class _Unauthorized(Exception):
    """No login, or a wrong one, while ASSISTANT_AUTH is set."""
