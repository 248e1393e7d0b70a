"""The Dockerfile and .dockerignore, read as text (no docker daemon in the test run)."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    joined: list[str] = []
    pending = ""
    for raw in (ROOT / "Dockerfile").read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        joined.append(pending + line)
        pending = ""
    assert not pending, "a continued line at the end of the Dockerfile"
    result = []
    for line in joined:
        keyword, _, rest = line.partition(" ")
        result.append((keyword.upper(), rest.strip()))
    return result


def stages() -> list[list[tuple[str, str]]]:
    found: list[list[tuple[str, str]]] = []
    for keyword, rest in instructions():
        if keyword == "FROM":
            found.append([])
        if found:
            found[-1].append((keyword, rest))
    return found


def final_stage() -> list[tuple[str, str]]:
    return stages()[-1]


def env_names(stage: list[tuple[str, str]]) -> dict[str, str]:
    names = {}
    for keyword, rest in stage:
        if keyword == "ENV":
            for item in shlex.split(rest):
                name, _, value = item.partition("=")
                names[name] = value
    return names


def test_instruction_parser_joins_continuations():
    parsed = instructions()
    run = next(rest for keyword, rest in parsed if keyword == "RUN" and "apt-get" in rest)
    assert "rm -rf /var/lib/apt/lists/*" in run


def test_multi_stage_build_on_python_311_slim():
    froms = [rest for keyword, rest in instructions() if keyword == "FROM"]
    assert len(froms) >= 2
    arg = next(rest for keyword, rest in instructions() if keyword == "ARG" and rest.startswith("PYTHON_IMAGE="))
    assert arg == "PYTHON_IMAGE=python:3.11-slim"
    assert all(frm.startswith("${PYTHON_IMAGE} AS ") for frm in froms)
    # The runtime copies the venv from the builder, nothing is compiled in it.
    final = final_stage()
    assert any(keyword == "COPY" and rest.startswith("--from=builder /opt/venv") for keyword, rest in final)
    assert not any(keyword == "RUN" and "build-essential" in rest for keyword, rest in final)


def test_builder_installs_wheels_into_a_venv_and_compiles_translations():
    builder = stages()[0]
    runs = " ".join(rest for keyword, rest in builder if keyword == "RUN")
    assert "python -m venv /opt/venv" in runs
    assert "pip wheel" in runs
    assert "pybabel compile -d service/translations" in runs
    copied = " ".join(rest for keyword, rest in builder if keyword == "COPY")
    for path in ("service", "migrations", "frontend_templates", "gunicorn.conf.py", "pyproject.toml"):
        assert path in copied, path


def test_final_stage_runs_as_a_numeric_non_root_user():
    users = [rest for keyword, rest in final_stage() if keyword == "USER"]
    assert users, "the final stage has no USER"
    user = users[-1].split(":")[0]
    assert user.isdigit() and int(user) >= 1000
    assert user == "10001"
    # The user the image creates is the same id.
    assert any(keyword == "RUN" and "--uid 10001" in rest for keyword, rest in final_stage())


def test_runtime_environment():
    env = env_names(final_stage())
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"
    assert env["PYTHONUNBUFFERED"] == "1"
    assert env["XASO_INSTANCE_PATH"].startswith("/tmp/")
    assert env["PATH"].startswith("/opt/venv/bin:")
    assert ("WORKDIR", "/app") in final_stage()
    assert ("EXPOSE", "8000") in final_stage()


def test_no_remote_add_and_no_baked_secrets():
    for keyword, rest in instructions():
        assert not (keyword == "ADD" and re.search(r"https?://", rest)), rest
    secret_names = re.compile(r"(SECRET|PASSWORD|TOKEN|_KEY|DATABASE_URL|REDIS_URL|SMTP_URL)", re.IGNORECASE)
    for stage in stages():
        for name, value in env_names(stage).items():
            if secret_names.search(name):
                assert value == "", f"ENV {name} has a value baked in"
        for keyword, rest in stage:
            if keyword == "ARG":
                assert not secret_names.search(rest.split("=")[0]), rest


def test_healthcheck_calls_healthz():
    checks = [rest for keyword, rest in final_stage() if keyword == "HEALTHCHECK"]
    assert len(checks) == 1
    check = checks[0]
    assert "CMD" in check and "/healthz" in check and "urllib" in check
    command = json.loads(check[check.index("CMD") + 3:].strip())
    assert command[:2] == ["python", "-c"]
    compile(command[2], "<healthcheck>", "exec")


def test_default_command_is_gunicorn_with_its_config():
    cmds = [rest for keyword, rest in final_stage() if keyword == "CMD"]
    assert len(cmds) == 1
    assert json.loads(cmds[0]) == ["gunicorn", "-c", "gunicorn.conf.py", "service:create_app()"]
    assert (ROOT / "gunicorn.conf.py").exists()


def test_dockerignore_keeps_local_state_out_of_the_context():
    ignored = {
        line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    for entry in (".venv", "instance", ".git", "tests", ".pytest_cache", ".mypy_cache", ".ruff_cache",
                  "**/__pycache__", ".env"):
        assert entry in ignored, entry
    # What the image needs is not ignored.
    for needed in ("service", "migrations", "frontend_templates", "gunicorn.conf.py", "pyproject.toml", "README.md"):
        assert needed not in ignored, needed
