"""LegalQA: the paper's legal QA set when available, else a labelled stand-in (MMLU law).

Data: LegalQA: the paper's set from the hub, or the local stand-in (MMLU's law subjects).

The paper's set: Li, Bhambhoria, Dahan & Zhu 2024 (arXiv 2409.07713), hub
``jonathanli/law_qa_eval``. The stand-in: ``legalqa/``, MMLU's three law subjects.

The real set is not available offline. ``shared/data/legalqa`` holds a stand-in, byte-identical
copies of MMLU's ``professional_law`` (1534), ``jurisprudence`` (108) and
``international_law`` (121) test files plus their dev files, in MMLU's CSV layout (read with
:func:`benchgate.benchmarks.mmlu.load_mmlu_local`). Reports must label results on it as a
stand-in (see :data:`STAND_IN`).

Source order: a data dir with a ``legalqa/`` folder -> the stand-in; otherwise (no data dir,
or a data dir without ``legalqa/``) -> the real set from the hub, split ``test`` (229 rows:
``instruction``, ``input`` = the question, ``output`` = a reference answer written as free
text). If neither is available the benchmark is skipped with both reasons.

Item ids: stand-in ``<subject>-<content hash>`` as in MMLU; real set a content hash of
instruction and question (the source has no ids). Subject: the MMLU subject for the
stand-in, None for the real set.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from benchgate.backends.base import Request
from benchgate.benchmarks.choice import ChoiceBenchmark, multiple_choice_messages
from benchgate.benchmarks.mmlu import LABELS, load_mmlu_local
from benchgate.data.sources import DataSource, content_id, load_hub, make_unique, require_fields
from benchgate.errors import DataFormatError, DataUnavailableError
from benchgate.records import Completion, Item, Score, Status

if TYPE_CHECKING:
    from benchgate.scoring.extract import Extraction

HUB_REPO = "jonathanli/law_qa_eval"
#: Pinned hub commit of jonathanli/law_qa_eval (parquet, config "default").
HUB_REVISION = "8552e6437e1622b43360291171b2a516ce72f4d4"

#: The label every report shows next to LegalQA results read from the local stand-in.
STAND_IN = (
    "stand-in: MMLU's law subjects (professional_law, jurisprudence, international_law; "
    "multiple choice) stand in for the paper's LegalQA set (Li et al. 2024, "
    "jonathanli/law_qa_eval, free-text answers), which is not available offline; "
    "results are not comparable with published LegalQA numbers"
)


def _real_items(rows: list[dict[str, Any]], where: str) -> list[Item]:
    built = []
    for index, row in enumerate(rows, start=1):
        at = f"{where}, row {index}"
        require_fields(row, ("instruction", "input", "output"), at)
        question = str(row["input"]).strip()
        reference = str(row["output"]).strip()
        if not question or not reference:
            raise DataFormatError(f"{at}: empty field 'input' or 'output'.")
        instruction = str(row["instruction"]).strip()
        built.append((content_id(instruction, question), instruction, question, reference))
    ids = make_unique([b[0] for b in built])
    return [
        Item(
            id=i,
            benchmark="legalqa",
            input={"instruction": ins, "question": q},
            reference=ref,
        )
        for i, (_, ins, q, ref) in zip(ids, built, strict=False)
    ]


def load_legalqa(source: DataSource) -> tuple[list[Item], dict[str, list], bool]:
    """Load LegalQA: the local stand-in when ``data_dir/legalqa`` exists, else the real set.

    Args:
        source: the data source.

    Returns:
        ``(items, dev exemplars by subject, is_stand_in)``. Stand-in items are multiple
        choice (``input = {question, choices, subject}``, reference a letter); real-set
        items are free text (``input = {instruction, question}``, reference the answer text)
        and come with no exemplars.

    Raises:
        DataUnavailableError: no ``legalqa/`` folder and the hub unreachable (both reasons
            given).
        DataFormatError: malformed data.
    """
    if source.data_dir is not None and (source.data_dir / "legalqa").is_dir():
        items, dev = load_mmlu_local(source.data_dir / "legalqa", benchmark="legalqa")
        return items, dev, True
    try:
        ds = load_hub(source, HUB_REPO, HUB_REVISION, split="test")
    except DataUnavailableError as exc:
        local = (
            f"{source.data_dir / 'legalqa'} does not exist"
            if source.data_dir is not None
            else "no --data-dir was given"
        )
        raise DataUnavailableError(
            f"LegalQA: {local}, and the real set is unavailable: {exc}"
        ) from None
    return _real_items([dict(r) for r in ds], f"hub {HUB_REPO}@{HUB_REVISION[:12]}"), {}, False


INSTRUCTION = (
    "The following is a multiple choice question about {subject}. Answer with the letter "
    "of the correct option (A, B, C or D)."
)
FREE_TEXT_PROMPT = "{instruction}\n\n{question}"

#: ROUGE-L F1 threshold for the real set's free-text answers. Provisional: the real set is
#: not available offline, so it could not be calibrated as DialogSum's threshold was; it is
#: lower than DialogSum's 0.30 because a legal answer is long and has one reference.
FREE_TEXT_THRESHOLD = 0.20


class LegalQA(ChoiceBenchmark):
    """LegalQA (Li, Bhambhoria, Dahan & Zhu 2024, arXiv 2409.07713).

    Two data shapes (see :func:`load_legalqa`):

    * the local **stand-in** (MMLU's law subjects, multiple choice): MMLU's prompt with
      the item's subject, ``--shots k`` dev exemplars, letter extraction; results carry
      :attr:`stand_in` (:data:`STAND_IN`);
    * the **real set** from the hub (free-text answers): the source's instruction and
      question as the prompt; scored like DialogSum, ``value`` = ROUGE-L F1 against the
      reference answer, correct when ``value >= FREE_TEXT_THRESHOLD`` (provisional 0.20);
      :attr:`stand_in` is then None and :attr:`graded` True (the ROUGE-L value is compared).
    """

    name = "legalqa"
    category = "legal"
    #: 2: free-text ROUGE-L tokenizes every script (benchgate.scoring.rouge.UnicodeTokenizer).
    #: 3: the shared choice scoring path for the multiple-choice stand-in.
    version = 3
    max_new_tokens = 256
    supports_shots = True
    stand_in = STAND_IN

    def load(self, source: DataSource) -> list[Item]:
        """Load the stand-in or the real set; sets :attr:`stand_in` and :attr:`graded`."""
        items, self.dev, is_stand_in = load_legalqa(source)
        self.stand_in = STAND_IN if is_stand_in else None
        self.graded = not is_stand_in  # the real set's free-text answers: ROUGE-L value
        return items

    def request(self, item: Item) -> Request:
        """Return the chat messages for ``item`` (multiple choice or free text)."""
        if "choices" not in item.input:
            content = FREE_TEXT_PROMPT.format(
                instruction=item.input["instruction"], question=item.input["question"]
            ).strip()
            return Request.from_messages(
                [{"role": "user", "content": content}], max_new_tokens=self.max_new_tokens
            )
        subject = item.input["subject"]
        shots = self.exemplars(subject)
        instruction = INSTRUCTION.format(subject=subject.replace("_", " "))
        return Request.from_messages(
            multiple_choice_messages(
                instruction, item.input["question"], item.input["choices"], shots, LABELS
            ),
            max_new_tokens=self.max_new_tokens,
        )

    def extract(self, item: Item, text: str, *, fallback: bool = True) -> Extraction | None:
        """The chosen label for the stand-in; None for free-text items (nothing to read)."""
        return super().extract(item, text, fallback=fallback) if "choices" in item.input else None

    def score_final(self, item: Item, final: str, completion: Completion) -> Score:
        """Letter match for the stand-in; thresholded ROUGE-L for the real set."""
        if "choices" in item.input:
            return super().score_final(item, final, completion)
        answer = final.strip()
        if not answer:
            return Score(Status.NO_ANSWER, detail="empty answer")
        from benchgate.scoring.rouge import rouge_l_score  # lazy: slow to import

        return rouge_l_score(answer, [item.reference], FREE_TEXT_THRESHOLD)
