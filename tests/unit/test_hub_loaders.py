"""The hub paths of GSM8K and MMLU through the real ``datasets.load_dataset``, offline.

The stand-in folders under fixtures/hub/ are laid out as the hub repositories are (README
``configs:`` + data files), so ``load_dataset`` reads them exactly as it would read
``openai/gsm8k`` / ``cais/mmlu``; only the repository id is mapped to the local folder.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchgate.datasets.base import DataSource
from benchgate.errors import DataUnavailableError

HUB = Path(__file__).resolve().parents[2] / "fixtures" / "hub"
datasets = pytest.importorskip("datasets")


@pytest.fixture
def local_hub(tmp_path):
    calls = []

    def load(repo, revision=None, **kwargs):
        calls.append((repo, revision, kwargs.get("name"), kwargs.get("split")))
        return datasets.load_dataset(str(HUB / repo.replace("/", "__")), cache_dir=str(tmp_path), **kwargs)

    return DataSource(data_dir=None, hub_loader=load), calls


def test_gsm8k_hub_path(local_hub):
    from benchgate.datasets.gsm8k import HUB_REPO, HUB_REVISION, load_gsm8k

    source, calls = local_hub
    items = load_gsm8k(source)
    assert calls == [(HUB_REPO, HUB_REVISION, "main", "test")]
    assert [i.reference for i in items] == ["12", "1500", "-3"]
    assert len({i.id for i in items}) == 3


def test_mmlu_hub_path_with_dev_exemplars_and_duplicate_ids(local_hub):
    from benchgate.benchmarks.mmlu import MMLU
    from benchgate.datasets.mmlu import HUB_REPO, HUB_REVISION

    source, calls = local_hub
    bench = MMLU(shots=1)
    items = bench.load(source)
    assert {c[3] for c in calls} == {"test", "dev"} and all(c[:3] == (HUB_REPO, HUB_REVISION, "all") for c in calls)
    assert [i.reference for i in items] == ["B", "C", "C"]
    assert items[2].id == items[1].id + "-2"  # exact duplicate rows keep distinct, stable ids
    messages = bench.request(items[0]).message_dicts()
    assert len(messages) == 3 and messages[1]["content"] == "Answer: C"  # the astronomy dev shot


def test_unreachable_hub_is_unavailable_with_the_fix():
    from benchgate.datasets.gsm8k import load_gsm8k

    def offline(*args, **kwargs):
        raise ConnectionError("Couldn't reach 'openai/gsm8k' on the Hub (LocalEntryNotFoundError)")

    with pytest.raises(DataUnavailableError, match=r"--data-dir.*BENCHGATE_DATA_DIR"):
        load_gsm8k(DataSource(data_dir=None, hub_loader=offline))
