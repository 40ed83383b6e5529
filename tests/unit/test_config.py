"""models.yaml under bad input (issues 2 and 7): one clear message per fault.

Every malformed file in ``fixtures/bad/models/`` must raise one :class:`ConfigError` whose
message names the file, the entry or line, the field and the fix; a GGUF file that is
missing, unreadable or not GGUF at all is caught here, at start, before any worker loads
a model. Whole-session versions (exit status 4, nothing run) are in
``tests/reliability/test_faults.py``.
"""

from __future__ import annotations

import os
import random
import struct
from pathlib import Path

import pytest

from benchgate.config import GGUF_MAGIC, ModelSpec, gguf_file_problem, load_models, select_models
from benchgate.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]
BAD = REPO / "fixtures" / "bad" / "models"


def _snapshot() -> dict:
    """What a test here must leave alone: the repo's top level and our fixtures."""
    state: dict = {"top": sorted(os.listdir(REPO))}
    for path in sorted((REPO / "fixtures" / "bad").rglob("*")):
        st = path.lstat()
        state[str(path)] = (st.st_size, st.st_mtime_ns)
    return state


@pytest.fixture(autouse=True)
def _nothing_outside_tmp_changes():
    before = _snapshot()
    yield
    assert _snapshot() == before, "a test changed files outside its tmp dir"


# (fixture file, fragments the single message must contain, in order)
BAD_FILES = [
    (
        "missing_key.yaml",
        ["models[1] (id 'candidate')", "field 'backend'", "Field required", "Fix: add the key"],
    ),
    (
        "wrong_type.yaml",
        [
            "models[0] (id 'baseline')",
            "field 'generation.max_new_tokens'",
            "valid integer",
            "(got 'plenty')",
            "Fix: give a whole number",
        ],
    ),
    (
        "unknown_backend.yaml",
        [
            "models[0] (id 'served')",
            "field 'backend'",
            "'transformers', 'openai' or 'scripted'",
            "(got 'vllm')",
            "Fix: use one of the allowed values",
        ],
    ),
    (
        "duplicate_id.yaml",
        [
            "models[1] (id 'smollm2')",
            "field 'id'",
            "duplicate of models[0]",
            "Fix: give every model a unique id",
        ],
    ),
    (
        "not_yaml.yaml",
        ["line 8, column 5", "not valid YAML", "expected ',' or ']'", "Fix: correct the syntax"],
    ),
    (
        "not_mapping.yaml",
        ["top level must be a mapping with a 'models:' list", "Fix: start the file with 'models:'"],
    ),
    (
        "entry_not_mapping.yaml",
        [
            "models[0]",
            "field '(entry)'",
            "(got 'smollm2-135m')",
            "Fix: give a mapping of keys to values",
        ],
    ),
    (
        "repeated_key.yaml",
        ["line 9, column 5", "key 'system_prompt' appears twice in one mapping", "first on line 8"],
    ),
    (
        "two_baselines.yaml",
        [
            "field 'role'",
            "2 models are 'baseline' (a, b)",
            "Fix: mark exactly one model 'baseline'",
        ],
    ),
    ("latin1.yaml", ["line 4", "not UTF-8 text (byte 0xE9", "Fix: save it as UTF-8"]),
]


@pytest.mark.parametrize("name,fragments", BAD_FILES, ids=[f for f, _ in BAD_FILES])
def test_each_bad_models_file_gives_one_message_naming_file_field_and_fix(name, fragments):
    path = BAD / name
    with pytest.raises(ConfigError) as info:
        load_models(path)
    message = str(info.value)
    assert len(message.splitlines()) == 1, f"one fault, one message; got:\n{message}"
    assert message.startswith(f"{path}:"), message
    position = 0
    for fragment in fragments:
        found = message.find(fragment, position)
        assert found >= 0, f"{fragment!r} missing (in order) from: {message}"
        position = found + len(fragment)
    assert "Traceback" not in message


def test_every_fixture_file_is_covered():
    assert {p.name for p in BAD.glob("*.yaml")} == {f for f, _ in BAD_FILES}


def test_several_faults_are_all_listed_at_once(tmp_path):
    path = tmp_path / "models.yaml"
    path.write_text(
        "models:\n"
        "  - id: a\n    backend: scripted\n    model: s.yaml\n    temperature: 0\n"
        "  - id: b\n    backend: scripted\n    dtype: fp8\n    model: s.yaml\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as info:
        load_models(path)
    lines = str(info.value).splitlines()
    assert len(lines) == 2
    assert (
        "models[0] (id 'a'), field 'temperature'" in lines[0] and "Fix: remove the key" in lines[0]
    )
    assert "models[1] (id 'b'), field 'dtype'" in lines[1] and "(got 'fp8')" in lines[1]


def test_missing_file_and_a_directory_name_the_path_and_the_fix(tmp_path):
    with pytest.raises(ConfigError, match=r"models\.yaml: file not found\. Fix: .*--models-file"):
        load_models(tmp_path / "models.yaml")
    with pytest.raises(ConfigError, match=r"cannot be read .*Fix: check its permissions"):
        load_models(tmp_path)


def test_empty_models_list_and_unknown_selection(tmp_path):
    path = tmp_path / "models.yaml"
    path.write_text("models: []\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"field 'models'.*Fix: give at least one entry"):
        load_models(path)
    path.write_text(
        "models:\n  - id: a\n    backend: scripted\n    model: s.yaml\n", encoding="utf-8"
    )
    models = load_models(path)
    with pytest.raises(ConfigError, match=r"--models: zz not in .*Fix: use one of a\."):
        select_models(models, "a,zz", str(path))


# --- GGUF files: checked at start (cheap: the 4 magic bytes), see gguf_file_problem ---------


def _gguf_spec(directory: Path, name: str = "x.gguf") -> ModelSpec:
    return ModelSpec(id="broken", backend="transformers", model=str(directory), gguf_file=name)


def _models_yaml(tmp_path: Path, directory: Path, name: str = "x.gguf") -> Path:
    path = tmp_path / "models.yaml"
    path.write_text(
        "models:\n"
        "  - id: ok\n    backend: scripted\n    model: s.yaml\n"
        f"  - id: broken\n    backend: transformers\n    model: {directory}\n"
        f"    gguf_file: {name}\n",
        encoding="utf-8",
    )
    return path


def test_random_bytes_named_gguf_fail_at_start_naming_entry_field_file_and_fix(tmp_path):
    weights = tmp_path / "weights"
    weights.mkdir()
    rng = random.Random(7)
    (weights / "x.gguf").write_bytes(bytes(rng.getrandbits(8) for _ in range(4096)))
    with pytest.raises(ConfigError) as info:
        load_models(_models_yaml(tmp_path, weights))
    message = str(info.value)
    assert len(message.splitlines()) == 1
    assert message.startswith(
        f"{tmp_path / 'models.yaml'}: models[1] (id 'broken'), field 'gguf_file': "
    )
    assert f"{weights / 'x.gguf'} is not a GGUF file" in message
    assert "Fix: re-download or re-convert the file, or correct 'gguf_file'" in message


def test_missing_and_unreadable_gguf_files_fail_at_start(tmp_path):
    weights = tmp_path / "weights"
    weights.mkdir()
    assert "x.gguf does not exist. Fix: name a .gguf file" in gguf_file_problem(_gguf_spec(weights))
    (weights / "x.gguf").mkdir()  # a directory where the file should be: unreadable
    assert "x.gguf cannot be read" in gguf_file_problem(_gguf_spec(weights))
    (weights / "empty.gguf").write_bytes(b"")  # truncated to nothing
    assert "starts with b'', not b'GGUF'" in gguf_file_problem(_gguf_spec(weights, "empty.gguf"))


def test_a_header_valid_gguf_passes_the_start_check(tmp_path):
    # magic, version 3, 0 tensors, 0 metadata keys: structurally a GGUF file. Whether it
    # loads is the backend's business (tests/reliability/test_faults.py: error outcomes).
    (tmp_path / "x.gguf").write_bytes(GGUF_MAGIC + struct.pack("<IQQ", 3, 0, 0))
    assert gguf_file_problem(_gguf_spec(tmp_path)) is None
    assert [m.id for m in load_models(_models_yaml(tmp_path, tmp_path))] == ["ok", "broken"]


def test_hub_ids_and_uninstalled_packages_are_left_to_the_backend(tmp_path):
    hub = ModelSpec(
        id="hub",
        backend="transformers",
        model="HuggingFaceTB/SmolLM2-135M-Instruct",
        gguf_file="x.gguf",
    )
    assert gguf_file_problem(hub) is None
    package = ModelSpec(
        id="pkg",
        backend="transformers",
        model="package:no_such_package_benchgate",
        gguf_file="x.gguf",
    )
    assert gguf_file_problem(package) is None
    scripted = ModelSpec(id="s", backend="scripted", model=str(tmp_path))
    assert gguf_file_problem(scripted) is None


def test_the_default_models_yaml_is_valid_and_its_gguf_passes():
    models = load_models(REPO / "models.yaml")
    assert {m.role for m in models} == {"baseline", "candidate"}
    for spec in models:
        assert gguf_file_problem(spec) is None


def test_yaml_merge_keys_may_override_without_counting_as_repeated(tmp_path):
    path = tmp_path / "models.yaml"
    path.write_text(
        "models:\n"
        "  - &base\n    id: a\n    backend: scripted\n    model: s.yaml\n"
        "  - <<: *base\n    id: b\n    model: t.yaml\n",
        encoding="utf-8",
    )
    assert [(m.id, m.model) for m in load_models(path)] == [("a", "s.yaml"), ("b", "t.yaml")]
