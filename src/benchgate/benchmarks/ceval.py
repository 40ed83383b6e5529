"""C-Eval: Chinese exam multiple choice over 52 subjects, zero-shot or k-shot from dev.

Data: C-Eval validation split (Huang et al. 2023, arXiv 2305.08322), local or from the hub.

Local: ``ceval/{val,dev}/<subject>_{val,dev}.csv``; hub: ``ceval/ceval-exam`` (one config
per subject).

Format (shared/data/SOURCES.md; the hub's columns are the same): ``val`` CSVs have the header
``id,question,A,B,C,D,answer`` (answer letter A-D); ``dev`` CSVs (5 exemplars per subject for
few-shot prompts) add ``explanation``. The test split's labels are not public, so ``val``
(1346 items, 52 subjects) is the evaluation split, as C-Eval's authors recommend for local
evaluation.

Item ids: ``<subject>-<id>`` from the source's per-subject ``id`` column. Subject = the
subject key (file name minus ``_val.csv``); its English and Chinese names and its category
(STEM, Social Science, Humanities, Other) come from :data:`SUBJECTS`, C-Eval's own
``subject_mapping.json`` (hkust-nlp/ceval).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from benchgate.backends.base import Request
from benchgate.benchmarks.choice import ChoiceBenchmark, multiple_choice_messages
from benchgate.data.files import read_csv_dicts
from benchgate.data.sources import DataSource, load_hub, make_unique
from benchgate.errors import DataFormatError, DataUnavailableError
from benchgate.records import Item

HUB_REPO = "ceval/ceval-exam"
#: Pinned hub commit of ceval/ceval-exam: "Convert dataset to Parquet" (one config per subject).
HUB_REVISION = "1577cea73fafe135738871aca0d5339994dbb41d"
LABELS = "ABCD"
_FIX = "restore the C-Eval CSVs from the ceval-exam release (see shared/data/SOURCES.md)"
_COLUMNS = ["id", "question", "A", "B", "C", "D", "answer"]

#: C-Eval's 52 subjects: key -> (English name, Chinese name, category), from
#: ``subject_mapping.json`` of hkust-nlp/ceval commit cba65ae9.
SUBJECTS: dict[str, tuple[str, str, str]] = {
    "computer_network": ("Computer Network", "计算机网络", "STEM"),
    "operating_system": ("Operating System", "操作系统", "STEM"),
    "computer_architecture": ("Computer Architecture", "计算机组成", "STEM"),
    "college_programming": ("College Programming", "大学编程", "STEM"),
    "college_physics": ("College Physics", "大学物理", "STEM"),
    "college_chemistry": ("College Chemistry", "大学化学", "STEM"),
    "advanced_mathematics": ("Advanced Mathematics", "高等数学", "STEM"),
    "probability_and_statistics": ("Probability and Statistics", "概率统计", "STEM"),
    "discrete_mathematics": ("Discrete Mathematics", "离散数学", "STEM"),
    "electrical_engineer": ("Electrical Engineer", "注册电气工程师", "STEM"),
    "metrology_engineer": ("Metrology Engineer", "注册计量师", "STEM"),
    "high_school_mathematics": ("High School Mathematics", "高中数学", "STEM"),
    "high_school_physics": ("High School Physics", "高中物理", "STEM"),
    "high_school_chemistry": ("High School Chemistry", "高中化学", "STEM"),
    "high_school_biology": ("High School Biology", "高中生物", "STEM"),
    "middle_school_mathematics": ("Middle School Mathematics", "初中数学", "STEM"),
    "middle_school_biology": ("Middle School Biology", "初中生物", "STEM"),
    "middle_school_physics": ("Middle School Physics", "初中物理", "STEM"),
    "middle_school_chemistry": ("Middle School Chemistry", "初中化学", "STEM"),
    "veterinary_medicine": ("Veterinary Medicine", "兽医学", "STEM"),
    "college_economics": ("College Economics", "大学经济学", "Social Science"),
    "business_administration": ("Business Administration", "工商管理", "Social Science"),
    "marxism": ("Marxism", "马克思主义基本原理", "Social Science"),
    "mao_zedong_thought": (
        "Mao Zedong Thought",
        "毛泽东思想和中国特色社会主义理论体系概论",
        "Social Science",
    ),
    "education_science": ("Education Science", "教育学", "Social Science"),
    "teacher_qualification": ("Teacher Qualification", "教师资格", "Social Science"),
    "high_school_politics": ("High School Politics", "高中政治", "Social Science"),
    "high_school_geography": ("High School Geography", "高中地理", "Social Science"),
    "middle_school_politics": ("Middle School Politics", "初中政治", "Social Science"),
    "middle_school_geography": ("Middle School Geography", "初中地理", "Social Science"),
    "modern_chinese_history": ("Modern Chinese History", "近代史纲要", "Humanities"),
    "ideological_and_moral_cultivation": (
        "Ideological and Moral Cultivation",
        "思想道德修养与法律基础",
        "Humanities",
    ),
    "logic": ("Logic", "逻辑学", "Humanities"),
    "law": ("Law", "法学", "Humanities"),
    "chinese_language_and_literature": (
        "Chinese Language and Literature",
        "中国语言文学",
        "Humanities",
    ),
    "art_studies": ("Art Studies", "艺术学", "Humanities"),
    "professional_tour_guide": ("Professional Tour Guide", "导游资格", "Humanities"),
    "legal_professional": ("Legal Professional", "法律职业资格", "Humanities"),
    "high_school_chinese": ("High School Chinese", "高中语文", "Humanities"),
    "high_school_history": ("High School History", "高中历史", "Humanities"),
    "middle_school_history": ("Middle School History", "初中历史", "Humanities"),
    "civil_servant": ("Civil Servant", "公务员", "Other"),
    "sports_science": ("Sports Science", "体育学", "Other"),
    "plant_protection": ("Plant Protection", "植物保护", "Other"),
    "basic_medicine": ("Basic Medicine", "基础医学", "Other"),
    "clinical_medicine": ("Clinical Medicine", "临床医学", "Other"),
    "urban_and_rural_planner": ("Urban and Rural Planner", "注册城乡规划师", "Other"),
    "accountant": ("Accountant", "注册会计师", "Other"),
    "fire_engineer": ("Fire Engineer", "注册消防工程师", "Other"),
    "environmental_impact_assessment_engineer": (
        "Environmental Impact Assessment Engineer",
        "环境影响评价工程师",
        "Other",
    ),
    "tax_accountant": ("Tax Accountant", "税务师", "Other"),
    "physician": ("Physician", "医师资格", "Other"),
}


def _subject_info(subject: str) -> tuple[str, str, str]:
    words = subject.replace("_", " ")
    return SUBJECTS.get(subject, (words.title(), words, "Other"))


def _row(row: dict[str, Any], where: str) -> tuple[str, str, list[str], str]:
    """Validate one C-Eval row; return (id, question, choices, answer letter)."""
    for f in _COLUMNS:
        if row.get(f) is None or (f in ("id", "question", "answer") and not str(row[f]).strip()):
            raise DataFormatError(f"{where}: missing or empty field '{f}'. Fix: {_FIX}.")
    answer = str(row["answer"]).strip().upper()
    if answer not in LABELS:
        raise DataFormatError(
            f"{where}: field 'answer' is {row['answer']!r}, expected one of A-D. Fix: {_FIX}."
        )
    raw_id = str(row["id"]).strip()
    if not re.fullmatch(r"[0-9A-Za-z_.-]+", raw_id):
        raise DataFormatError(
            f"{where}: field 'id' is {row['id']!r}, expected an integer id. Fix: {_FIX}."
        )
    choices = [str(row[k]).strip() for k in LABELS]
    return raw_id, str(row["question"]).strip(), choices, answer


def _make_items(rows: list[tuple[str, str, str, list[str], str]]) -> list[Item]:
    ids = make_unique([f"{s}-{i}" for s, i, _, _, _ in rows])
    items = []
    for item_id, (subject, _, question, choices, answer) in zip(ids, rows, strict=False):
        english, chinese, category = _subject_info(subject)
        items.append(
            Item(
                id=item_id,
                benchmark="ceval",
                input={
                    "question": question,
                    "choices": choices,
                    "subject": subject,
                    "subject_zh": chinese,
                    "category": category,
                },
                reference=answer,
                subject=subject,
            )
        )
    return items


def _subject_files(folder: Path, split: str) -> dict[str, Path]:
    suffix = f"_{split}.csv"
    return {p.name[: -len(suffix)]: p for p in sorted(folder.glob(f"*{suffix}"))}


def load_ceval_local(folder: Path) -> tuple[list[Item], dict[str, list]]:
    """Load val items and dev exemplars from a C-Eval folder (``val/``, ``dev/``).

    Returns:
        (val items, dev exemplars by subject as (question, choices, label) tuples).

    Raises:
        DataUnavailableError: no ``val/<subject>_val.csv`` files.
        DataFormatError: a malformed file (file, row and field named).
    """
    vals = _subject_files(folder / "val", "val")
    if not vals:
        raise DataUnavailableError(
            f"{folder / 'val'} holds no <subject>_val.csv files. Fix: point --data-dir at a "
            "directory laid out as shared/data (see its SOURCES.md)."
        )
    rows = []
    for subject, path in vals.items():
        for number, row in read_csv_dicts(path, _COLUMNS, _FIX):
            raw_id, q, c, a = _row(row, f"{path}, row {number}")
            rows.append((subject, raw_id, q, c, a))
    dev: dict[str, list] = {}
    for subject, path in _subject_files(folder / "dev", "dev").items():
        shots = []
        for number, row in read_csv_dicts(path, _COLUMNS, _FIX):
            _, q, c, a = _row(row, f"{path}, row {number}")
            shots.append((q, c, a))
        dev[subject] = shots
    return _make_items(rows), dev


def load_ceval_hub(source: DataSource) -> tuple[list[Item], dict[str, list]]:
    """Load C-Eval val items and dev exemplars from the hub, one config per subject.

    Raises:
        DataUnavailableError: hub unreachable.
        DataFormatError: a malformed row, or no val rows at all.
    """
    rows = []
    dev: dict[str, list] = {}
    for subject in SUBJECTS:
        where = f"hub {HUB_REPO}@{HUB_REVISION[:12]} config {subject}"
        val = load_hub(source, HUB_REPO, HUB_REVISION, name=subject, split="val")
        for n, r in enumerate(val, start=1):
            raw_id, q, c, a = _row(dict(r), f"{where} val row {n}")
            rows.append((subject, raw_id, q, c, a))
        shots = []
        dev_rows = load_hub(source, HUB_REPO, HUB_REVISION, name=subject, split="dev")
        for n, r in enumerate(dev_rows, start=1):
            _, q, c, a = _row(dict(r), f"{where} dev row {n}")
            shots.append((q, c, a))
        dev[subject] = shots
    if not rows:
        raise DataFormatError(f"hub {HUB_REPO}@{HUB_REVISION[:12]}: no val rows in any subject.")
    return _make_items(rows), dev


def load_ceval(source: DataSource) -> tuple[list[Item], dict[str, list]]:
    """Load the 1346 C-Eval val items (52 subjects) and the dev exemplars (5 per subject).

    Args:
        source: ``data_dir/ceval`` when a data dir is set, else the hub.

    Returns:
        (items with ``input = {question, choices, subject, subject_zh, category}``, the
        answer letter as reference and the subject key as subject; dev exemplars by subject).

    Raises:
        DataUnavailableError: no data / hub unreachable.
        DataFormatError: malformed data.
    """
    if source.data_dir is not None:
        return load_ceval_local(source.folder("ceval", "val/ and dev/ subject CSVs"))
    return load_ceval_hub(source)


#: C-Eval's own answer-only prompt (hkust-nlp/ceval, "以下是中国关于{科目}考试的单项选择题，
#: 请选出其中的正确答案。"), with the answer cue "答案：".
INSTRUCTION = "以下是中国关于{subject}考试的单项选择题，请选出其中的正确答案。"
CUE = "答案："
REPLY = "答案：{label}"


class CEval(ChoiceBenchmark):
    """C-Eval (Huang et al. 2023, NeurIPS, arXiv 2305.08322), val split, Chinese chat prompt.

    The prompt is the benchmark's own answer-only format.

    ``--shots k`` (0-5) prepends the first k dev exemplars of the item's subject as chat
    turns (user question, assistant ``答案：X``; the dev explanations are not used).
    Extractor: :func:`benchgate.scoring.extract_choice` with labels ``ABCD`` (it reads
    ``答案：B``, ``答案是C``, ``故选D``) and the option texts.
    """

    name = "ceval"
    category = "knowledge"
    #: 2: the shared choice scoring path (multilingual markers, restated questions).
    version = 2
    max_new_tokens = 256
    supports_shots = True

    def load(self, source: DataSource) -> list[Item]:
        """Load val items (and dev exemplars for ``--shots``)."""
        items, self.dev = load_ceval(source)
        return items

    def request(self, item: Item) -> Request:
        """Return the chat messages for ``item`` with ``shots`` dev exemplars."""
        subject = item.input["subject"]
        shots = self.exemplars(subject)
        instruction = INSTRUCTION.format(subject=item.input["subject_zh"])
        return Request.from_messages(
            multiple_choice_messages(
                instruction,
                item.input["question"],
                item.input["choices"],
                shots,
                LABELS,
                cue=CUE,
                reply=REPLY,
            ),
            max_new_tokens=self.max_new_tokens,
        )
