#!/usr/bin/env bash
# The main job on the embedded default: install, ingest the project's own docs, search, answer.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
log=$(mktemp)
if ! .venv/bin/python -m pip install --disable-pip-version-check -e . >"$log" 2>&1; then
  grep -v "^WARNING: Location" "$log" | tail -40
  echo "installing Zhiku failed" >&2
  exit 1
fi
rm -f "$log"
export ZHIKU_HOME=${ZHIKU_HOME:-$PWD/.zhiku}
Z=.venv/bin/zhiku
$Z kb list --json | grep -q '"name": "zhiku-docs"' || $Z kb create zhiku-docs
$Z ingest --kb zhiku-docs README.md docs/*.md   # the text docs (docs/screenshots/ holds images)
$Z search --kb zhiku-docs --top-k 3 "where does Zhiku keep its data"
$Z ask --kb zhiku-docs "Where does Zhiku keep its data?"
$Z ask --kb zhiku-docs "中文全文检索怎么分词？"
