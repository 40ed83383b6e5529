"""benchgate's pytest plugin: options and configuration only; the work lives in submodules.

Loaded by the root ``conftest.py`` (``pytest_plugins = ("benchgate.plugin",)``). Importing
it imports neither torch nor transformers.
"""

from __future__ import annotations

import pytest

from benchgate.plugin.state import get_state, project_root

pytest_plugins = (
    "benchgate.pytest_options",
    "benchgate.plugin.parametrize",
    "benchgate.plugin.fixtures",
    "benchgate.plugin.collector",
    "benchgate.plugin.planning",
    "benchgate.plugin.status",
    "benchgate.plugin.gate",
    "benchgate.plugin.allure",
    "benchgate.plugin.progress",
    "benchgate.plugin.preflight",
    "benchgate.plugin.workers",
)


def pytest_configure(config: pytest.Config) -> None:
    """Validate models.yaml and options at start (a bad file is a usage error, exit 4)."""
    config.addinivalue_line("markers", "benchgate: a benchgate benchmark test (model x item)")
    # Outcomes travel on the test report as user properties (record_property); with
    # --junitxml in pytest's default xunit2 family they are simply not written to the XML,
    # which is right (the gate's verdict goes into the suite's properties instead).
    config.addinivalue_line(
        "filterwarnings", "ignore:record_property is incompatible with junit_family"
    )
    _adopt_project_ini(config)
    if config.getoption("benchgate_batch_size") < 1:
        raise pytest.UsageError("--batch-size must be at least 1.")
    if config.getoption("help", False) or config.getoption("version", 0):
        return
    get_state(config)


def _adopt_project_ini(config: pytest.Config) -> None:
    """Apply the project's pytest.ini when pytest missed it.

    pytest chooses its rootdir and ini file before any plugin can declare options, so in
    ``pytest --data-dir ../shared/data`` it takes ``../shared/data`` for a test path, looks
    for an ini file above *that* directory and finds none. The options themselves are then
    parsed correctly (the ``benchgate.pytest_options`` entry point declares them), but the
    ini's ``testpaths`` and ``--dist loadgroup`` are lost: the project's own tests would be
    collected into the main job and a model's items scattered over workers. When that
    happened (no ini found, none given, no test paths on the command line, and a pytest.ini
    in the invocation directory) this restores both.
    """
    if config.inipath is not None or config.getoption("inifilename", None):
        return
    ini = project_root(config) / "pytest.ini"
    if not ini.is_file():
        return
    import iniconfig

    section = iniconfig.IniConfig(ini).sections.get("pytest", {})
    if config.args_source is pytest.Config.ArgsSource.INVOCATION_DIR and "testpaths" in section:
        config.args = [str(ini.parent / p) for p in section["testpaths"].split()]
    if "loadgroup" in section.get("addopts", ""):
        if hasattr(config, "workerinput"):
            # xdist workers re-parse the command line (missing the ini as well) and decide
            # from their own options whether to tag node ids with their xdist_group.
            config.option.loadgroup = True
        elif config.getoption("numprocesses", None) and config.getoption("dist", "no") == "load":
            config.option.dist = "loadgroup"
