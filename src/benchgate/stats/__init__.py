"""Statistics for comparing a baseline and a candidate model, or several models, on the same items.

Table orientation everywhere: rows baseline correct/incorrect, columns candidate
correct/incorrect; ``b`` = **regressions** (baseline right, candidate wrong) and ``c`` =
**improvements** (baseline wrong, candidate right). Candidate-minus-baseline accuracy is
``(c - b) / n``; ``alternative="less"`` means the candidate is worse.

Every function validates its input (a bad count raises :class:`ValueError` naming the
argument and value), documents its formula, assumptions and references, and returns either
a plain float/array or a frozen dataclass whose fields keep one meaning. Reference values
from independent tools (R, statsmodels, scipy) live in ``fixtures/stats/`` beside the
scripts that produced them.
"""

from benchgate.stats.effect import cohens_g, conditional_odds_ratio
from benchgate.stats.graded import PairedMeanDifference, paired_mean_difference
from benchgate.stats.intervals import IntervalEstimate, paired_accuracy_difference, wilson_interval
from benchgate.stats.letters import CompactLetterDisplay, compact_letter_display
from benchgate.stats.mcnemar import McNemarResult, mcnemar
from benchgate.stats.multiple import CochransQResult, benjamini_hochberg, cochrans_q, holm
from benchgate.stats.noise import NoiseFlips, discordance_rate, noise_flips
from benchgate.stats.pairwise import PairwiseMcNemar, pairwise_mcnemar
from benchgate.stats.permutation import PermutationTestResult, paired_permutation_test
from benchgate.stats.power import mcnemar_power, minimum_detectable_difference
from benchgate.stats.ranking import ModelRank, Ranking, rank_models

__all__ = [
    "CochransQResult",
    "CompactLetterDisplay",
    "IntervalEstimate",
    "McNemarResult",
    "ModelRank",
    "NoiseFlips",
    "PairedMeanDifference",
    "PairwiseMcNemar",
    "PermutationTestResult",
    "Ranking",
    "benjamini_hochberg",
    "cochrans_q",
    "cohens_g",
    "compact_letter_display",
    "conditional_odds_ratio",
    "discordance_rate",
    "holm",
    "mcnemar",
    "mcnemar_power",
    "minimum_detectable_difference",
    "noise_flips",
    "paired_accuracy_difference",
    "paired_mean_difference",
    "paired_permutation_test",
    "pairwise_mcnemar",
    "rank_models",
    "wilson_interval",
]
