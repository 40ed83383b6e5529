"""Server checks at start: once per session, on the controller, before any item runs.

For every ``backend: openai`` model that has benchmark items in this session, the controller
runs :func:`benchgate.backends.openai_preflight.preflight` (all models at once, in threads)
as soon as the items are known: after collection without xdist, after the first worker's
collection under xdist (xdist schedules no item before every worker has reported its
collection). Any problem stops the session with a usage error (exit status 4) that lists
every problem with the models.yaml file, entry, field, value and fix. Sessions without
benchmark items of an openai model (the project's own tests, ``--collect-only``) send
nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

import pytest

from benchgate.plugin.parametrize import Case
from benchgate.plugin.state import get_state, is_controller

log = logging.getLogger(__name__)

_CHECKED = pytest.StashKey[bool]()


def models_in_node_ids(node_ids: Iterable[str], model_ids: Iterable[str]) -> set[str]:
    """Return the model ids that benchmark test ids ``...[<model>-<item>]`` name.

    xdist's ``@<group>`` suffix is ignored; when one model id is a prefix of another
    (``m`` and ``m-2``), the longest that fits wins.

    Args:
        node_ids: pytest node ids.
        model_ids: the session's model ids.

    Returns:
        The model ids that have at least one item.
    """
    known = sorted(model_ids, key=len, reverse=True)
    found: set[str] = set()
    for node_id in node_ids:
        if "]@" in node_id:
            node_id = node_id[: node_id.rindex("]@") + 1]
        if not node_id.endswith("]") or "[" not in node_id:
            continue
        param = node_id[node_id.index("[") + 1 : -1]
        model = next((m for m in known if param.startswith(m + "-")), None)
        if model is not None:
            found.add(model)
    return found


def check_servers(config: pytest.Config, model_ids: set[str]) -> None:
    """Run the server checks once for the session's openai models among ``model_ids``.

    Raises:
        pytest.UsageError: a server problem (exit status 4); the message lists them all.
    """
    if config.stash.get(_CHECKED, False):
        return
    config.stash[_CHECKED] = True
    if config.getoption("collectonly", False):
        return
    state = get_state(config)
    specs = [m for m in state.models if m.id in model_ids and m.backend == "openai"]
    if not specs:
        return
    from benchgate.backends.openai_preflight import preflight

    with ThreadPoolExecutor(max_workers=min(8, len(specs))) as pool:
        found = list(pool.map(preflight, specs))
    problems = [p.message(str(state.models_file)) for problems in found for p in problems]
    if problems:
        raise pytest.UsageError(
            f"benchgate: server checks failed before any item ran ({len(problems)} "
            "problem(s)):\n" + "\n".join(problems)
        )
    log.info("benchgate: the servers of %s answered the start checks",
             ", ".join(s.id for s in specs))


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    """Without xdist: check the servers of the collected (and selected) items' models."""
    config = session.config
    if not is_controller(config):
        return
    models = set()
    for item in session.items:
        callspec = getattr(item, "callspec", None)
        case = callspec.params.get("bench_case") if callspec else None
        if isinstance(case, Case):
            models.add(case.model)
    check_servers(config, models)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_node_collection_finished(node, ids: list[str]) -> None:
    """Under xdist (controller): check the servers when the first worker has collected."""
    config = node.config
    state = get_state(config)
    check_servers(config, models_in_node_ids(ids, (m.id for m in state.models)))
