"""Command output stays clean: no solver banner in the middle of it."""

import subprocess
import sys


def test_highs_banner_is_not_printed():
    code = "import models.solver, highspy; highspy.Highs(); print('done')"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert out == "done\n"
