"""The slot-refill engine (benchgate.backends.slots) against transformers' own ``generate``.

A small randomly initialised Llama (the architecture of SmolLM2, 2 layers) keeps these fast
enough to try many batch shapes: refills into freed rows, a later prompt longer than every
live row (the cache widens on the left), rows leaving on EOS, on their own caps and on stop
strings, and fewer rows than prompts. Every output must equal ``generate``'s greedy output
for the same prompt, token for token. The real SmolLM2 is checked in
``tests/spine/test_real_model.py``.
"""

from __future__ import annotations

import random

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from benchgate.backends import slots  # noqa: E402

VOCAB = 97


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    config = transformers.LlamaConfig(
        vocab_size=VOCAB, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
        attn_implementation="sdpa",
    )
    m = transformers.LlamaForCausalLM(config).eval()
    # Spread the logits so that greedy choices are not near-ties.
    with torch.no_grad():
        m.lm_head.weight.mul_(8)
    return m


def reference(model, prompt: list[int], max_new: int, eos: set[int]) -> list[int]:
    """Greedy ``generate`` on the prompt alone, cut after the first EOS."""
    with torch.inference_mode():
        out = model.generate(torch.tensor([prompt]), attention_mask=torch.ones(1, len(prompt),
                             dtype=torch.long), max_new_tokens=max_new, do_sample=False,
                             eos_token_id=None, pad_token_id=0)
    tokens = out[0, len(prompt):].tolist()
    for k, t in enumerate(tokens):
        if t in eos:
            return tokens[:k + 1]
    return tokens


def prompts(seed: int, n: int, lo: int, hi: int) -> list[list[int]]:
    rng = random.Random(seed)
    return [[rng.randrange(3, VOCAB) for _ in range(rng.randrange(lo, hi))] for _ in range(n)]


@pytest.mark.parametrize("rows", [1, 2, 3, 5, 16])
@pytest.mark.parametrize("seed", [0, 1])
def test_outputs_equal_generate_token_for_token(model, rows, seed):
    rng = random.Random(100 + seed)
    batch = prompts(seed, 9, 2, 30)
    caps = [rng.randrange(1, 24) for _ in batch]
    eos = {5, 17}
    work = [slots.SlotRequest(p, c) for p, c in zip(batch, caps, strict=True)]
    got = slots.generate(model, work, rows=rows, eos_ids=eos, pad_id=0)
    for p, c, result in zip(batch, caps, got, strict=True):
        assert result.tokens == reference(model, p, c, eos)
        assert result.ended >= result.started > 0


def test_a_later_prompt_longer_than_every_live_row_widens_the_cache(model):
    # Short prompts first; a long one arrives when a short row frees its slot.
    batch = [[7, 8, 9], [10, 11], [12, 13, 14, 15]] + prompts(7, 1, 60, 61) + [[20, 21]]
    caps = [2, 30, 30, 20, 5]
    work = [slots.SlotRequest(p, c) for p, c in zip(batch, caps, strict=True)]
    got = slots.generate(model, work, rows=3, eos_ids=set(), pad_id=0)
    assert [len(r.tokens) for r in got] == caps
    for p, c, result in zip(batch, caps, got, strict=True):
        assert result.tokens == reference(model, p, c, set())


def test_rows_stop_on_their_own_stop_strings_and_others_go_on(model):
    """The caller's stop rule (the backend's ``cut_at_stop``) decides; an empty stop string,
    which that rule ignores, stops nothing."""
    from benchgate.backends.hf import cut_at_stop

    batch = prompts(3, 5, 5, 12)

    def text(tokens: list[int]) -> str:  # token ids -> text; the engine only needs a rule
        return " ".join(map(str, tokens))

    full = [reference(model, p, 20, set()) for p in batch]
    stop = str(full[1][3])  # the 4th token of prompt 1 as text: a stop for that row only
    stops = {1: (stop,), 4: ("",)}
    requests = [slots.SlotRequest(p, 20, stops.get(k, ())) for k, p in enumerate(batch)]
    finished: list[int] = []
    got = slots.generate(model, requests, rows=2, eos_ids=set(), pad_id=0,
                         stop_found=lambda t, s: cut_at_stop(text(t), list(s))[1],
                         on_finish=lambda i, r: finished.append(i))
    assert sorted(finished) == [0, 1, 2, 3, 4]
    assert stop in text(got[1].tokens) and len(got[1].tokens) <= 4
    assert got[1].tokens == full[1][:len(got[1].tokens)]
    for k in (0, 2, 3, 4):
        assert got[k].tokens == full[k]


def test_an_eos_as_the_first_token_ends_the_row_at_once(model):
    batch = prompts(5, 3, 4, 9)
    first = [reference(model, p, 1, set())[0] for p in batch]
    got = slots.generate(model, [slots.SlotRequest(p, 10) for p in batch], rows=2,
                         eos_ids={first[0]}, pad_id=0)
    assert got[0].tokens == [first[0]]


def test_bad_arguments_are_refused(model):
    with pytest.raises(ValueError, match="rows"):
        slots.generate(model, [slots.SlotRequest([1], 1)], rows=0, eos_ids=set(), pad_id=0)
    with pytest.raises(ValueError, match="max_new"):
        slots.generate(model, [slots.SlotRequest([], 1)], rows=1, eos_ids=set(), pad_id=0)
    with pytest.raises(ValueError, match="stop_found"):
        slots.generate(model, [slots.SlotRequest([1], 1, ("x",))], rows=1, eos_ids=set(),
                       pad_id=0)


def test_supports_only_models_it_runs_exactly(model):
    assert slots.supports(model)
    eager = transformers.LlamaForCausalLM(transformers.LlamaConfig(
        vocab_size=VOCAB, hidden_size=32, intermediate_size=64, num_hidden_layers=1,
        num_attention_heads=2, attn_implementation="eager"))
    assert not slots.supports(eager)
    sliding = transformers.MistralForCausalLM(transformers.MistralConfig(
        vocab_size=VOCAB, hidden_size=32, intermediate_size=64, num_hidden_layers=1,
        num_attention_heads=2, num_key_value_heads=1, sliding_window=8,
        attn_implementation="sdpa"))
    assert not slots.supports(sliding)
