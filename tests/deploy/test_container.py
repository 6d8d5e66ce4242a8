"""The container files, checked by parsing them (no container runtime here): the image installs exactly uv.lock,
runs as a non-root user, starts `pulse serve`, and its health check asks a route the app really serves."""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient

from bot.cli import build_parser
from bot.context import build_context
from bot.server import create_app
from config import parse_settings

ROOT = Path(__file__).resolve().parents[2]


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) per Dockerfile instruction: comments dropped, `\\` continuations joined."""
    out: list[tuple[str, str]] = []
    pending = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or (stripped.startswith("#") and not pending):
            continue
        if stripped.startswith("#"):
            continue  # a comment inside a continued instruction
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        whole = pending + stripped
        pending = ""
        word, _, rest = whole.partition(" ")
        out.append((word.upper(), rest.strip()))
    assert not pending, "Dockerfile ends inside a continued line"
    return out


def exec_form(args: str) -> list[str]:
    """The argument list of an exec-form (JSON array) CMD/ENTRYPOINT, or shell words otherwise."""
    import json

    return json.loads(args) if args.startswith("[") else shlex.split(args)


@pytest.fixture(scope="module")
def dockerfile() -> list[tuple[str, str]]:
    return instructions((ROOT / "Dockerfile").read_text())


def test_base_is_slim_python_311(dockerfile):
    froms = [args for word, args in dockerfile if word == "FROM"]
    assert froms and re.fullmatch(r"python:3\.11(\.\d+)?-slim(-\w+)?", froms[-1].split()[0]), froms


def test_dependencies_come_only_from_uv_lock_frozen(dockerfile):
    """Every uv sync is --frozen (never re-resolves: the image gets uv.lock's versions) and --no-dev; uv.lock is
    copied before the first sync; no pip install sneaks other versions in."""
    runs = [args for word, args in dockerfile if word == "RUN"]
    syncs = [r for r in runs if "uv sync" in r]
    assert syncs, "no `uv sync` in the Dockerfile"
    for sync in syncs:
        assert "--frozen" in sync and "--no-dev" in sync, sync
    assert not any(re.search(r"\bpip3? install\b|\buv pip install\b|\buv add\b|\buv lock\b", r) for r in runs), runs
    first_sync = next(i for i, (word, args) in enumerate(dockerfile) if word == "RUN" and "uv sync" in args)
    copied_before = " ".join(args for word, args in dockerfile[:first_sync] if word == "COPY")
    assert "uv.lock" in copied_before and "pyproject.toml" in copied_before
    assert any(word == "COPY" and "astral-sh/uv" in args for word, args in dockerfile), "uv is not installed"


def test_uv_lock_matches_pyproject():
    """--frozen installs uv.lock as is, so the lock must describe pyproject's dependencies (same names)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    root = next(p for p in lock["package"] if p["name"] == project["name"])
    locked = {d["name"] for d in root.get("dependencies", [])}
    wanted = {re.split(r"[<>=!~\[; ]", d, maxsplit=1)[0].lower().replace("_", "-") for d in project["dependencies"]}
    assert wanted == locked


def test_every_package_of_the_wheel_is_copied(dockerfile):
    """The project install needs the packages the wheel is built from; the .dockerignore keeps secrets out."""
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
    copied = {args.split()[0].rstrip("/") for word, args in dockerfile if word == "COPY" and not args.startswith("--from")}
    assert set(packages) <= copied, set(packages) - copied
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".env", ".git", ".venv", "config/pulse.toml"} <= set(ignored)


def test_runs_as_non_root(dockerfile):
    users = [args for word, args in dockerfile if word == "USER"]
    assert users, "no USER: the image would run as root"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0")
    last_user = max(i for i, (word, _) in enumerate(dockerfile) if word == "USER")
    assert last_user > max(i for i, (word, _) in enumerate(dockerfile) if word == "RUN"), "a RUN after USER may run as root"
    assert any(word == "RUN" and "useradd" in args and user in args for word, args in dockerfile)


def test_entrypoint_is_pulse_serve_on_the_exposed_port(dockerfile):
    entry = exec_form(next(args for word, args in reversed(dockerfile) if word == "ENTRYPOINT"))
    cmd = exec_form(next(args for word, args in reversed(dockerfile) if word == "CMD"))
    assert entry == ["pulse"]
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert "pulse" in scripts
    args = build_parser().parse_args(cmd)  # the CMD is accepted by the real CLI
    assert args.command == "serve" and args.host == "0.0.0.0"
    exposed = [args for word, args in dockerfile if word == "EXPOSE"]
    assert exposed == [str(args.port)]


def test_healthcheck_asks_a_route_the_app_serves(dockerfile, tmp_path):
    check = next(args for word, args in dockerfile if word == "HEALTHCHECK")
    url = re.search(r"http://127\.0\.0\.1:(\d+)(/[\w/]*)", check)
    assert url, check
    port, path = url.groups()
    cmd = exec_form(next(args for word, args in reversed(dockerfile) if word == "CMD"))
    assert int(port) == build_parser().parse_args(cmd).port
    ctx = build_context(parse_settings({}), workbook=str(tmp_path / "none.xlsx"))
    api = create_app(ctx)
    assert path in {getattr(route, "path", None) for route in api.routes}
    response = TestClient(api).get(path)
    assert response.status_code == 200 and response.json()["status"] == "ok"


def test_compose_has_postgres_and_the_image():
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    assert services["pulse"]["build"] == "."
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["pulse"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD"].startswith("${"), "a password written into compose.yaml"
