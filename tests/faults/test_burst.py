"""A burst at twice the capacity of one gevent worker: refused quickly, none timed out or lost."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from support import REPO


def test_a_burst_beyond_capacity_is_refused_with_503_and_nothing_accepted_is_lost(tmp_path):
    env = {**os.environ, "MINYI_BENCH_CACHE": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    process = subprocess.run([sys.executable, "-m", "benchmarks", "burst", "--smoke", "--json"],
                             cwd=REPO, env=env, capture_output=True, text=True, timeout=600,
                             check=False)
    assert process.returncode == 0, process.stdout[-3000:] + process.stderr[-3000:]
    figures = json.loads(process.stdout.strip().splitlines()[-1])
    bounded = figures["servers"]["bounded"]
    assert figures["capacity_per_s"] > 0
    assert bounded["rate_per_s"] == 2 * figures["capacity_per_s"]
    assert bounded["sent"] == bounded["accepted"] + bounded["rejected_503"] + \
        bounded["rejected_429"]
    assert bounded["rejected_503"] > 0
    assert bounded["timed_out"] == bounded["errors"] == 0
    assert figures["lost"] == 0 and bounded["stored_without_answer"] == 0
    assert "burst at" in process.stdout
