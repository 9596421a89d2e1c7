"""tools.publish.npm_pack: what `make slides` and `make site` say when npm is missing, fails or hangs (a fake npm)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

import pytest

from tools import publish

pytestmark = pytest.mark.skipif(os.name != "posix", reason="the fake npm is a shell script")
SLEEP = shutil.which("sleep")  # found before the tests empty PATH


def fake_npm(folder, script: str) -> None:
    """Put an executable ``npm`` running ``script`` (sh) first on PATH."""
    npm = folder / "npm"
    npm.write_text(f"#!/bin/sh\n{script}\n")
    npm.chmod(0o755)


@pytest.fixture
def bin_dir(tmp_path, monkeypatch):
    folder = tmp_path / "bin"
    folder.mkdir()
    monkeypatch.setattr(publish, "BUILD", tmp_path / "build")
    monkeypatch.setenv("PATH", str(folder))  # nothing else: no real npm
    return folder


def test_missing_npm_says_what_to_install(bin_dir):
    with pytest.raises(publish.BuildError, match=r"npm is not installed(.|\n)*Install Node.js with npm") as e:
        publish.npm_package("reveal.js", "4.6.0")
    assert "reveal.js@4.6.0" in str(e.value) and "build/vendor/" in str(e.value)


def test_failing_npm_shows_its_own_message_and_what_to_do(bin_dir):
    fake_npm(bin_dir, 'echo "npm error code ENOTFOUND" >&2\necho "npm error network request failed" >&2\nexit 1')
    with pytest.raises(publish.BuildError) as e:
        publish.npm_package("reveal.js", "4.6.0")
    msg = str(e.value)
    assert "`npm pack reveal.js@4.6.0` failed (exit status 1)" in msg
    assert "npm error code ENOTFOUND\nnpm error network request failed" in msg
    assert "Build once with a network" in msg and "build/vendor/" in msg


def test_hanging_npm_gives_up_within_the_timeout(bin_dir, monkeypatch):
    fake_npm(bin_dir, f"exec {SLEEP} 30")
    monkeypatch.setattr(publish, "NPM_TIMEOUT", 1)
    start = time.monotonic()
    with pytest.raises(publish.BuildError, match=r"did not finish within 1 s: is the npm registry reachable"):
        publish.npm_package("reveal.js", "4.6.0")
    assert time.monotonic() - start < 10


def test_a_build_stopped_by_npm_prints_the_message_without_a_traceback(bin_dir, tmp_path):
    fake_npm(bin_dir, 'echo "npm error code EAI_AGAIN" >&2\nexit 1')
    code = f"from pathlib import Path; from tools import publish; publish.BUILD = Path({str(tmp_path)!r}); publish.main(['site'])"
    env = {**os.environ, "PYTHONPATH": str(publish.ROOT)}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "npm error code EAI_AGAIN" in result.stderr and "Build once with a network" in result.stderr
