"""The demo server (`make run`) behaves like production: gunicorn with DEBUG off, custom error pages with a way
back, static files still served (WhiteNoise); only `make dev` turns DEBUG on (Django's development server)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[4]


def _make(target: str) -> str:
    make = shutil.which("make")
    if make is None:
        pytest.skip("make is not installed")
    return subprocess.run([make, "-n", target], cwd=ROOT, capture_output=True, text=True, check=True,
                          env={**os.environ, "VENV": str(Path(sys.executable).parents[1])}).stdout


def _server_line(target: str, server: str) -> str:
    lines = [line for line in _make(target).splitlines() if server in line]
    assert len(lines) == 1, lines
    return lines[0]


def test_make_run_serves_on_gunicorn_with_debug_off_and_make_dev_with_debug_and_reload() -> None:
    run, dev = _server_line("run", "gunicorn"), _server_line("dev", "runserver")
    assert "DEBUG=0" in run and "-c python:oncoliaison.gunicorn_conf" in run and "runserver" not in run
    assert "DEBUG=1" in dev and "--noreload" not in dev


def _clean_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in {"DEBUG", "ONCOLIAISON_ENV", "DATABASE_URL", "DJANGO_SETTINGS_MODULE"}}
    env["ONCOLIAISON_VAR_DIR"] = str(tmp_path)
    return env


def test_debug_is_off_unless_asked_for(tmp_path: Path) -> None:
    code = "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)"
    env = {**_clean_env(tmp_path), "DJANGO_SETTINGS_MODULE": "oncoliaison.settings"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    out = subprocess.run([sys.executable, "-c", code], env={**env, "DEBUG": "1"}, capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "True"


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_demo_server_shows_the_custom_404_page_and_serves_static_files(tmp_path: Path) -> None:
    """Starts the server as `make run` does (gunicorn with the project's configuration, no DEBUG)."""
    gunicorn = Path(sys.executable).with_name("gunicorn")
    if not gunicorn.exists():
        pytest.skip("gunicorn is not installed")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = _clean_env(tmp_path)
    env["GUNICORN_BIND"] = f"127.0.0.1:{port}"
    env["WEB_CONCURRENCY"] = "1"
    server = subprocess.Popen([str(gunicorn), "-c", "python:oncoliaison.gunicorn_conf"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90  # start-up takes seconds, more on a loaded CI machine
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if server.poll() is not None:
                    pytest.fail(f"the server did not start: {server.stderr.read() if server.stderr else ''}")
                if time.monotonic() > deadline:
                    pytest.fail("the server did not listen within 90 s")
                time.sleep(0.1)
        status, body = _get(f"{base}/no-such-page/")
        assert status == 404
        assert "Page not found" in body and "Go to your home page" in body
        assert "URLconf" not in body and "DEBUG = True" not in body  # Django's debug page lists every route
        status, css = _get(f"{base}/static/css/app.css")
        assert status == 200 and css.strip()
    finally:
        server.terminate()
        server.wait(timeout=10)
