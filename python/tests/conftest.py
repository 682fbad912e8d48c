"""Shared fixtures: the committed goldens (tests/golden) and the `probable` CLI binary."""
import json
import os
import pathlib
import shutil

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
GOLDEN = REPO / "tests" / "golden"


def golden(name):
    """One committed golden file, e.g. golden("stats_golden.json")."""
    with open(GOLDEN / name, encoding="utf-8") as f:
        return json.load(f)


@pytest.fixture(scope="session")
def probable_bin():
    """The CLI the bindings are compared with: $PROBABLE_BIN, else
    $CARGO_TARGET_DIR/release/probable, else `probable` on PATH. Missing is a failure, not
    a skip: the parity test must run wherever the suite runs."""
    candidates = [os.environ.get("PROBABLE_BIN")]
    target = os.environ.get("CARGO_TARGET_DIR")
    if target:
        candidates.append(os.path.join(target, "release", "probable"))
    candidates.append(str(REPO / "target" / "release" / "probable"))
    candidates.append(shutil.which("probable"))
    for c in candidates:
        if c and os.path.isfile(c) and os.access(c, os.X_OK):
            return c
    pytest.fail("no `probable` binary: build it (cargo build --release -p probable-cli) "
                "and set PROBABLE_BIN or CARGO_TARGET_DIR")
