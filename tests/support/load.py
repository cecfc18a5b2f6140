"""Clients of the real app: concurrent `gradio_client` clients on `/ask`, and articles added while it serves.

A copy for the tests of what `python -m benchmarks.load` does (tests never import benchmarks), checked
for every reply: its own question back, no abstention, cited from the article the question is about.

>>> check_reply(SEED_QUESTIONS[0], {"question": SEED_QUESTIONS[0].text, "abstained": False,
...     "answer": "15% [1]", "citations": [{"article_id": TIEN_GIANG}]})
[]
>>> check_reply(SEED_QUESTIONS[0], "boom")
['reply is str, not an answer object']
>>> pct([1.0, 2.0, 3.0, 4.0], 50)
2.5
"""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence
from urllib.parse import urlparse

from tests.support.processes import run_index

LOOPBACK = ("127.0.0.1", "localhost", "::1")
INDEX_TIMEOUT_S = 600  # hand-set: a seed-corpus `index` run takes seconds to a minute here; 10 min means it hung
REQUEST_TIMEOUT_S = 120  # hand-set: /ask p99 was 3.0 s at 20 clients (docs/reliability.md); 2 min is a failure
WARM_UP_TIMEOUT_S = 300  # hand-set: the first /ask loads the model (10-16 s measured, docs/benchmarks.md); 5 min is a hang
CLIENT_STRIDE = 7  # any number coprime with the 18 seed questions, so concurrent clients start on different ones
PROBE_EVERY = 4  # hand-set: every 4th request of a rebuild client asks the newest article's question
SETTLE_S = 2.0  # hand-set: clients ask for ~2 s before the first change and after the last rebuild
JOIN_GRACE_S = 60  # hand-set: time for client threads to finish their last request past the deadline
SAMPLES = 5  # error and mix-up examples kept in the JSON
DEFAULT_REBUILD_CLIENTS = 5  # issue 7: "while 5 clients keep asking, add and remove articles and rebuild"
DEFAULT_CYCLES = 3  # hand-set: add, add+remove, add+remove: each transition at least once


def pct(values: Sequence[float], p: float) -> float | None:
    """The p-th percentile (linear interpolation), None for no values."""
    vals = sorted(values)
    if not vals:
        return None
    if len(vals) == 1:
        return vals[0]
    pos = (len(vals) - 1) * p / 100
    lo = int(pos)
    hi = min(lo + 1, len(vals) - 1)
    return vals[lo] + (vals[hi] - vals[lo]) * (pos - lo)


TIEN_GIANG, THANH_HOA, HAU_GIANG, DONG_THAP, BEN_TRE = (
    "000_c8abe304363df3f5", "001_da462b655fd8cf87", "002_130dbf42b88e02b2", "003_11d4590fe4f6bcca",
    "004_7b060a5d05bf869f")


@dataclass(frozen=True)
class Question:
    """A question, the article every citation of its answer must come from, and a figure the answer states."""

    text: str
    article_id: str
    figure: str = ""


# The dev set's questions about one article (../shared/eval/dev_qa.jsonl d01-d17, d22).
SEED_QUESTIONS: tuple[Question, ...] = (
    Question("Tỷ trọng kinh tế số của Tiền Giang đạt mục tiêu bao nhiêu phần trăm GRDP vào năm 2025?", TIEN_GIANG,
             "15%"),
    Question("Chỉ số kinh tế số của Tiền Giang trong báo cáo DTI đạt bao nhiêu điểm?", TIEN_GIANG, "0,4856"),
    Question("Tỷ lệ doanh nghiệp ở Tiền Giang nộp thuế điện tử là bao nhiêu?", TIEN_GIANG, "84%"),
    Question("Kế hoạch số mấy của UBND tỉnh Tiền Giang triển khai chuyển đổi số giai đoạn 2021 - 2025?", TIEN_GIANG,
             "370"),
    Question("Thanh Hóa đã cung cấp bao nhiêu tem truy xuất nguồn gốc?", THANH_HOA, "105.800"),
    Question("Đến năm 2030 Thanh Hóa phấn đấu có ít nhất bao nhiêu doanh nghiệp số?", THANH_HOA, "150"),
    Question("Phó Chủ tịch UBND tỉnh Thanh Hóa được nhắc tới trong bài là ai?", THANH_HOA),
    Question("Tỷ lệ phản ánh, kiến nghị được xử lý đúng hạn ở Thanh Hóa là bao nhiêu?", THANH_HOA, "93%"),
    Question("Hậu Giang đã đưa bao nhiêu sản phẩm OCOP lên sàn thương mại điện tử?", HAU_GIANG, "105"),
    Question("Hậu Giang thí điểm mô hình chuyển đổi số cấp xã ở những nơi nào?", HAU_GIANG),
    Question("Công nghệ tưới của Israel giúp nông dân Hậu Giang tiết kiệm bao nhiêu phần trăm lượng nước?", HAU_GIANG,
             "80%"),
    Question("Chỉ số ICT Index 2022 của Đồng Tháp xếp thứ mấy?", DONG_THAP, "7"),
    Question("Tỷ lệ trả lời ý kiến phản ánh của Tổng đài 1022 Đồng Tháp là bao nhiêu?", DONG_THAP, "99,64%"),
    Question("Bao nhiêu phần trăm hoạt động chỉ đạo, điều hành của cơ quan nhà nước Đồng Tháp được thực hiện trên nền "
             "tảng quản trị tổng thể?", DONG_THAP, "80%"),
    Question("Ba lĩnh vực trọng tâm chuyển đổi số của Đồng Tháp là gì?", DONG_THAP),
    Question("Bến Tre đặt mục tiêu tỷ lệ dân có tài khoản thanh toán điện tử là bao nhiêu?", BEN_TRE, "50%"),
    Question("Theo mục tiêu năm 2030 của Bến Tre, bao nhiêu phần trăm hoạt động kiểm tra được thực hiện qua môi "
             "trường số?", BEN_TRE, "70%"),
    Question("dong thap co bao nhieu dich vu cong truc tuyen mot phan", DONG_THAP, "214"),
)


@dataclass(frozen=True)
class Probe:
    """An article the rebuild scenario adds (and later removes), with a question only it answers."""

    article_id: str
    title: str
    province: str
    body: str
    question: str
    figure: str

    def file_bytes(self) -> bytes:
        return (f'---\ntitle: "{self.title}"\nprovince: "{self.province}"\ndate: 2024-05-01\n---\n{self.title}\n'
                f"{self.body}\n").encode("utf-8")

    def as_question(self) -> Question:
        return Question(self.question, self.article_id, self.figure)


PROBES: tuple[Probe, ...] = (
    Probe("900_ca_mau_wifi", "Cà Mau phủ sóng wifi miễn phí", "Cà Mau",
          "Tỉnh Cà Mau có 4.321 điểm phát wifi miễn phí phục vụ chuyển đổi số.\nCác điểm phát wifi được lắp đặt tại "
          "trụ sở xã, trường học, chợ và bến xe trên địa bàn tỉnh.",
          "Cà Mau có bao nhiêu điểm phát wifi miễn phí?", "4.321"),
    Probe("901_kien_giang_sac", "Kiên Giang lắp trạm sạc xe điện", "Kiên Giang",
          "Tỉnh Kiên Giang đã lắp đặt 57 trạm sạc xe điện công cộng trên các tuyến quốc lộ.\nTrạm sạc xe điện công "
          "cộng giúp giảm phát thải, gắn chuyển đổi xanh với chuyển đổi số.",
          "Kiên Giang đã lắp đặt bao nhiêu trạm sạc xe điện công cộng?", "57"),
    Probe("902_bac_lieu_chu_ky_so", "Bạc Liêu đẩy mạnh chữ ký số cho người dân", "Bạc Liêu",
          "Trong năm 2023, tỉnh Bạc Liêu đã cấp 6.789 chữ ký số cá nhân cho người dân để làm thủ tục trực tuyến.\n"
          "Sở Thông tin và Truyền thông tiếp tục hướng dẫn người dân sử dụng chữ ký số trên điện thoại.",
          "Bạc Liêu đã cấp bao nhiêu chữ ký số cá nhân cho người dân?", "6.789"),
    Probe("903_soc_trang_camera", "Sóc Trăng lắp camera giao thông thông minh", "Sóc Trăng",
          "Tỉnh Sóc Trăng đã đưa vào vận hành 1.234 camera giám sát giao thông thông minh.\nHình ảnh từ camera được "
          "kết nối về trung tâm điều hành đô thị thông minh của tỉnh.",
          "Sóc Trăng có bao nhiêu camera giám sát giao thông thông minh?", "1.234"),
    Probe("904_tra_vinh_ho_tich", "Trà Vinh số hóa dữ liệu hộ tịch", "Trà Vinh",
          "Đến nay, tỉnh Trà Vinh đã số hóa 312.000 hồ sơ hộ tịch để phục vụ dịch vụ công trực tuyến.\nNgười dân "
          "không phải nộp lại bản giấy khi làm thủ tục tại bộ phận một cửa.",
          "Trà Vinh đã số hóa bao nhiêu hồ sơ hộ tịch?", "312.000"),
    Probe("905_an_giang_vung_trong", "An Giang cấp mã số vùng trồng điện tử", "An Giang",
          "Tỉnh An Giang đã cấp 8.765 mã số vùng trồng điện tử cho nông dân trồng lúa và cây ăn trái.\nMã số vùng "
          "trồng giúp truy xuất nguồn gốc nông sản xuất khẩu.",
          "An Giang đã cấp bao nhiêu mã số vùng trồng điện tử?", "8.765"),
)


# --- clients -----------------------------------------------------------------------------------
def check_reply(q: Question, reply: object, allowed: set[str] | None = None) -> list[str]:
    """Why a reply is not the right answer to `q` ([] when it is): its own question, cited from its own article."""
    if not isinstance(reply, dict):
        return [f"reply is {type(reply).__name__}, not an answer object"]
    problems = []
    if reply.get("question") != " ".join(q.text.split()):
        problems.append(f"question mixed up: sent {q.text!r}, reply is for {reply.get('question')!r}")
    cited = [c.get("article_id") for c in reply.get("citations") or []]
    if allowed is not None:  # lenient (rebuild probes): any article of the old or new index, or an abstention
        problems += [f"cites {a!r}, which is in neither the old nor the new index" for a in cited if a not in allowed]
        return problems
    if reply.get("abstained") or not cited:
        problems.append(f"no answer for {q.text!r}")
    elif any(a != q.article_id for a in cited):
        problems.append(f"cites {sorted(set(cited))} for a question about {q.article_id}")
    if q.figure and q.figure not in (reply.get("answer") or ""):
        problems.append(f"answer lacks {q.figure!r}")
    return problems


def make_client(url: str, auth: tuple[str, str] | None = None):
    """A gradio_client Client for an app on this machine (refuses anything but 127.0.0.1)."""
    from gradio_client import Client

    host = urlparse(url).hostname
    if host not in LOOPBACK:
        raise ValueError(f"the clients only talk to 127.0.0.1, not {host}")
    return Client(url, auth=auth, verbose=False)


def ask_once(client, question: str, timeout: float) -> dict:
    """One `/ask` call with a deadline (the job is cancelled when it passes)."""
    job = client.submit(question, api_name="/ask")
    try:
        return job.result(timeout=timeout)
    except TimeoutError:
        job.cancel()
        raise


def summarize(records: list[dict], wall: float) -> dict:
    """Throughput, latency percentiles, errors and mix-ups of one run."""
    done = [r for r in records if r["error"] is None]
    lat = [r["ms"] for r in records]
    ok_lat = [r["ms"] for r in done]
    return {
        "requests": len(records),
        "answered": len(done),
        "errors": len(records) - len(done),
        "mixups": sum(1 for r in done if r["problems"]),
        "wall_s": round(wall, 2),
        "throughput_rps": round(len(records) / wall, 3) if wall > 0 else None,
        "latency_ms": {k: (round(v, 1) if v is not None else None) for k, v in
                       (("p50", pct(ok_lat, 50)), ("p95", pct(ok_lat, 95)), ("p99", pct(ok_lat, 99)),
                        ("mean", sum(ok_lat) / len(ok_lat) if ok_lat else None), ("max", max(lat) if lat else None))},
        "error_samples": [r["error"] for r in records if r["error"]][:SAMPLES],
        "mixup_samples": [p for r in done for p in r["problems"]][:SAMPLES],
    }


def run_clients(url: str, n_clients: int, *, duration: float, max_requests: int, timeout: float = REQUEST_TIMEOUT_S,
                pick: Callable[[int, int], Question] | None = None,
                check: Callable[[Question, object], list[str]] = check_reply,
                stop: threading.Event | None = None, auth: tuple[str, str] | None = None, pause: float = 0.0) -> dict:
    """`n_clients` threads, each with its own Client, ask until `duration` s, `max_requests` or `stop`.

    `pick(client, round)` chooses each question (default: the seed mix, each client starting elsewhere);
    each client waits `pause` seconds between its requests (0: closed loop, the next request at once).
    Returns the summary plus every request record.
    """
    pick = pick or (lambda c, j: SEED_QUESTIONS[(c * CLIENT_STRIDE + j) % len(SEED_QUESTIONS)])
    stop = stop or threading.Event()
    with ThreadPoolExecutor(n_clients) as pool:  # connect first: opening a Client is not part of the load
        clients = list(pool.map(lambda _: make_client(url, auth), range(n_clients)))
    records: list[dict] = []
    lock = threading.Lock()
    issued = 0
    start = threading.Barrier(n_clients + 1)

    def worker(c: int) -> None:
        nonlocal issued
        client = clients[c]
        start.wait()
        j = 0
        while not stop.is_set() and time.perf_counter() - t0 < duration:
            with lock:
                if issued >= max_requests:
                    return
                issued += 1
            q = pick(c, j)
            j += 1
            rec = {"client": c, "question": q.text, "t": time.perf_counter() - t0, "error": None, "problems": []}
            t = time.perf_counter()
            try:
                reply = ask_once(client, q.text, timeout)
                rec["problems"] = check(q, reply)
                if isinstance(reply, dict):
                    rec["reply"] = {"question": reply.get("question"), "abstained": reply.get("abstained"),
                                    "notice": reply.get("notice"),
                                    "cited": [x.get("article_id") for x in reply.get("citations") or []]}
            except Exception as exc:  # every failure is counted, none stops the run
                rec["error"] = f"{type(exc).__name__}: {str(exc)[:300]}"
            rec["ms"] = (time.perf_counter() - t) * 1000
            with lock:
                records.append(rec)
            if pause:
                stop.wait(pause)

    threads = [threading.Thread(target=worker, args=(c,), daemon=True, name=f"client-{c}") for c in range(n_clients)]
    for th in threads:
        th.start()
    t0 = time.perf_counter()
    start.wait()
    for th in threads:
        th.join(duration + timeout + JOIN_GRACE_S)
    wall = time.perf_counter() - t0
    for cl in clients:
        try:
            cl.close()
        except Exception:
            pass
    out = summarize(records, wall)
    out["clients"] = n_clients
    out["records"] = sorted(records, key=lambda r: r["t"])
    return out


def warm_up(url: str, timeout: float = WARM_UP_TIMEOUT_S) -> float:
    """Ask one question (the first one loads the model); returns its seconds."""
    client = make_client(url)
    try:
        t = time.perf_counter()
        reply = ask_once(client, SEED_QUESTIONS[0].text, timeout)
        problems = check_reply(SEED_QUESTIONS[0], reply)
        if problems:
            raise RuntimeError(f"the warm-up answer is wrong: {problems}")
        return time.perf_counter() - t
    finally:
        client.close()


# --- rebuild while serving ------------------------------------------------------------------------
def rebuild_while_serving(url: str, corpus: Path, index: Path, env: dict[str, str], *,
                          clients: int = DEFAULT_REBUILD_CLIENTS, cycles: int = DEFAULT_CYCLES,
                          timeout: float = REQUEST_TIMEOUT_S, index_timeout: float = INDEX_TIMEOUT_S,
                          probes: Sequence[Probe] = PROBES, probe_every: int = PROBE_EVERY, pause: float = 0.0,
                          on_cycle: Callable[[int], None] | None = None) -> dict:
    """Clients keep asking while articles are added/removed and `python -m assistant index` runs `cycles` times.

    Every `probe_every`-th request of a client asks the question of the article added last (answered
    from the old or the new index: it may abstain, but may only cite articles of one of them).
    After each rebuild, a separate client checks that the new article answers its question and that
    the removed one is never cited.
    """
    if cycles > len(probes):
        raise ValueError(f"at most {len(probes)} cycles (one probe article each)")
    seed_ids = {q.article_id for q in SEED_QUESTIONS}
    current: list[Probe] = []  # probes in the corpus now (the next rebuild indexes them)
    lock = threading.Lock()

    def pick(c: int, j: int) -> Question:
        if j % probe_every == probe_every - 1:
            with lock:
                if current:
                    return current[-1].as_question()
        return SEED_QUESTIONS[(c * CLIENT_STRIDE + j) % len(SEED_QUESTIONS)]

    probe_ids = {p.article_id for p in probes}

    def check(q: Question, reply: object) -> list[str]:
        if q.article_id in probe_ids:
            return check_reply(q, reply, allowed=seed_ids | probe_ids)
        return check_reply(q, reply)

    stop = threading.Event()
    result: dict = {}
    load_thread = threading.Thread(
        target=lambda: result.update(run_clients(url, clients, duration=10 ** 6, max_requests=10 ** 9,
                                                 timeout=timeout, pick=pick, check=check, stop=stop,
                                                 pause=pause)),
        daemon=True, name="rebuild-load")
    load_thread.start()
    time.sleep(SETTLE_S)  # the clients are asking before the first change
    cycle_results = []
    checker = make_client(url)
    try:
        for i in range(cycles):
            new, old = probes[i], (probes[i - 1] if i else None)
            (corpus / f"{new.article_id}.md").write_bytes(new.file_bytes())
            if old is not None:
                (corpus / f"{old.article_id}.md").unlink()
            with lock:
                current[:] = [new]
            if on_cycle is not None:
                on_cycle(i)
            run = run_index(corpus, index, env, timeout=index_timeout)
            cyc = {"cycle": i, "added": new.article_id, "removed": old.article_id if old else None,
                   "index_returncode": run.returncode, "index_seconds": round(run.seconds, 2),
                   "summary": {k: run.summary.get(k) for k in ("added", "updated", "removed", "unchanged", "errors",
                                                               "seconds")}}
            if run.returncode != 0:
                cyc["index_stderr"] = run.stderr[-2000:]
            t = time.perf_counter()
            reply = ask_once(checker, new.question, timeout)
            cyc["new_article_problems"] = check_reply(new.as_question(), reply)
            cyc["new_article_answer_ms"] = round((time.perf_counter() - t) * 1000, 1)
            if old is not None:
                reply = ask_once(checker, old.question, timeout)
                cited = [c.get("article_id") for c in reply.get("citations") or []]
                cyc["removed_article_cited"] = old.article_id in cited
            cycle_results.append(cyc)
        time.sleep(SETTLE_S)  # and keep asking a little after the last rebuild
    finally:
        stop.set()
        load_thread.join(timeout + 2 * JOIN_GRACE_S)
        checker.close()
    records = result.pop("records", [])
    # The app moves an index it thinks broken to index.broken-*: that must never happen to a healthy one.
    quarantined = sorted(str(q) for q in index.parent.glob(f"{index.name}.broken-*"))
    probes_asked = [r for r in records if r["question"] in {p.question for p in probes} and r["error"] is None]
    return {
        "clients": clients, "cycles": cycle_results, "load": result, "records": records, "quarantined": quarantined,
        "probe_replies": len(probes_asked),
        "probe_replies_citing_probe": sum(1 for r in probes_asked if set((r.get("reply") or {}).get("cited") or [])
                                          & probe_ids),
        "ok": bool(result) and result["errors"] == 0 and result["mixups"] == 0 and not quarantined and all(
            c["index_returncode"] == 0 and not c["new_article_problems"] and not c.get("removed_article_cited")
            for c in cycle_results),
    }
