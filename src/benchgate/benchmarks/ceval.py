"""C-Eval: Chinese exam multiple choice over 52 subjects, zero-shot or k-shot from dev."""

from __future__ import annotations

from benchgate.backends.base import Request
from benchgate.benchmarks.base import Benchmark
from benchgate.benchmarks.choice import multiple_choice_messages, score_choice
from benchgate.datasets.base import DataSource
from benchgate.datasets.ceval import LABELS, load_ceval
from benchgate.records import Completion, Item, Score

#: C-Eval's own answer-only prompt (hkust-nlp/ceval, "以下是中国关于{科目}考试的单项选择题，
#: 请选出其中的正确答案。"), with the answer cue "答案：".
INSTRUCTION = "以下是中国关于{subject}考试的单项选择题，请选出其中的正确答案。"
CUE = "答案："
REPLY = "答案：{label}"


class CEval(Benchmark):
    """C-Eval (Huang et al. 2023, NeurIPS, arXiv 2305.08322), val split, Chinese chat prompt.

    The prompt is the benchmark's own answer-only format.

    ``--shots k`` (0-5) prepends the first k dev exemplars of the item's subject as chat
    turns (user question, assistant ``答案：X``; the dev explanations are not used).
    Extractor: :func:`benchgate.scoring.extract_choice` with labels ``ABCD`` (it reads
    ``答案：B``, ``答案是C``, ``故选D``) and the option texts.
    """

    name = "ceval"
    version = 1
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

    def score_final(self, item: Item, final: str, completion: Completion) -> Score:
        """Extract the option letter and compare it with the reference letter."""
        return score_choice(final, item.reference, item.input["choices"], LABELS)
