#!/usr/bin/env bash
# Create (idempotently) the isolated virtualenv used by benchmarks/tecg_runner.py:
# torch-ecg 0.0.33 on the CPU torch 2.13.0 wheel.  The venv lives in the
# git-ignored benchmarks/_work/tecg and never sees cardiofm.
#
# Usage: bash benchmarks/tecg_setup.sh        (re-running is a no-op when satisfied)
set -eo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="${TECG_VENV:-$HERE/_work/tecg}"
PY="${PYTHON:-python3}"

TORCH_PIN="torch==2.13.0"
TECG_PIN="torch-ecg==0.0.33"

if [ ! -x "$VENV/bin/python" ]; then
    mkdir -p "$(dirname "$VENV")"
    "$PY" -m venv "$VENV"
fi

# A constraints file keeps every transitive requirement (torch-optimizer,
# torchsummary, ...) from pulling a different (CUDA) torch build.
CONS="$VENV/tecg-constraints.txt"
printf '%s\n' "$TORCH_PIN" > "$CONS"

if ! "$VENV/bin/python" - <<'EOF' 2>/dev/null
import importlib.metadata as m, sys
ok = m.version("torch").split("+")[0] == "2.13.0" and m.version("torch-ecg") == "0.0.33"
import sklearn, torch_ecg  # noqa: F401
sys.exit(0 if ok else 1)
EOF
then
    # (grep drops this machine's noisy "Location ... is ignored" index warnings)
    "$VENV/bin/pip" install --quiet -c "$CONS" "$TORCH_PIN" 2>&1 | { grep -v "is ignored: it is neither" || true; }
    "$VENV/bin/pip" install --quiet -c "$CONS" "$TORCH_PIN" "$TECG_PIN" scikit-learn \
        2>&1 | { grep -v "is ignored: it is neither" || true; }
fi

"$VENV/bin/python" - <<'EOF'
import importlib.metadata as m
for name in ("torch", "torch-ecg", "numpy", "scikit-learn", "scipy"):
    print(f"{name}=={m.version(name)}")
EOF
