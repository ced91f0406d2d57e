"""Running the project's commands (`ballast ...`, `ape run ...`) as a user would: a subprocess with the
repo's .venv and node_modules on PATH and the checkout on PYTHONPATH."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

# Candle files every command that reads one must refuse in one line: (content or None for a missing
# file, the message's words).
BAD_CSVS = [
    (None, "no such file"),
    ("unix,open,high\n1,2,3\n", "missing columns"),
    ("unix,open,high,low,close,volume\nx,y,z,w,v,u\n", "no valid rows"),
]


def run_cli(args, env_extra=None, timeout=180):
    """Run `args` (e.g. ["ballast", "demo"] or ["ape", "run", "deploy", ...]) from the repo root.
    Any APE_FOUNDRY_HOST of the test run is dropped unless `env_extra` sets one."""
    env = dict(
        os.environ,
        PATH=f"{BIN}:{ROOT / 'node_modules' / '.bin'}:{os.environ.get('PATH', '')}",
        PYTHONPATH=str(ROOT),
    )
    env.pop("APE_FOUNDRY_HOST", None)
    env.update(env_extra or {})
    if args[0] == "ballast":
        args = [str(BIN / "ballast"), *args[1:]]
    return subprocess.run(
        args, check=False, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
