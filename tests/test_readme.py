"""The README's Python example runs as written and shows the paper's effect."""

import os
import re
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_readme_solver_example_runs():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks, "README has no python example"
    namespace: dict = {}
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # thin-vacuum warning of the cell
            exec(compile(blocks[0], "README.md", "exec"), namespace)
    finally:
        os.chdir(cwd)
    res, res2 = namespace["res"], namespace["res2"]
    # Σq = 0 to the CG tolerance; the warm start needs fewer iterations.
    assert abs(res.charges.sum()) < 1e-8
    assert res2.iterations <= res.iterations
    assert abs(res2.charges - res.charges).max() < 1e-6
