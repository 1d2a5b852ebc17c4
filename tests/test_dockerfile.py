"""Static checks of the Docker action: no Docker engine here, so the files it references are checked instead."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import shlex
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from seedbot.action_outputs import OUTPUT_NAMES

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "Dockerfile"
LOCK = ROOT / "requirements.lock"


def instructions() -> list[tuple[str, str]]:
    """Return (INSTRUCTION, arguments) pairs, with continuation lines joined and comments dropped."""
    joined: list[str] = []
    pending = ""
    for line in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        joined.append(pending + stripped)
        pending = ""
    pairs = []
    for line in joined:
        keyword, _, arguments = line.partition(" ")
        pairs.append((keyword.upper(), arguments.strip()))
    return pairs


def lock_pins() -> dict[str, str]:
    pins = {}
    for line in LOCK.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            pins[canonicalize_name(name)] = version
    return pins


def project_dependencies() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return [Requirement(spec) for spec in project["dependencies"]]


def test_base_image_is_cuda_pytorch():
    [base] = [arguments for keyword, arguments in instructions() if keyword == "FROM"]

    assert re.fullmatch(r"pytorch/pytorch:\d+\.\d+\.\d+-cuda\d+\.\d+-cudnn\d+-runtime", base)


def test_copy_sources_exist():
    copies = [arguments for keyword, arguments in instructions() if keyword == "COPY"]

    assert copies
    for arguments in copies:
        *sources, _destination = shlex.split(arguments)
        for source in sources:
            assert (ROOT / source).exists(), f"COPY {source}: not in the repository"


def test_entrypoint_runs_copied_script():
    [entrypoint] = [arguments for keyword, arguments in instructions() if keyword == "ENTRYPOINT"]
    workdir = [arguments for keyword, arguments in instructions() if keyword == "WORKDIR"][-1]
    copied = [shlex.split(arguments) for keyword, arguments in instructions() if keyword == "COPY"]

    assert yaml.safe_load(entrypoint) == ["python", "/app/entrypoint.py"]
    assert workdir == "/app"
    assert any("entrypoint.py" in sources[:-1] for sources in copied)


def test_installs_package_as_readme_says():
    runs = [arguments for keyword, arguments in instructions() if keyword == "RUN"]
    [install] = [command for command in runs if "pip install" in command]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")

    assert install in readme.splitlines()
    assert "-c requirements.lock" in install


def test_action_runs_this_dockerfile():
    action = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))

    assert action["runs"] == {"using": "docker", "image": "Dockerfile"}


def test_action_inputs_and_outputs_documented():
    action = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    readme = (ROOT / "README.md").read_text(encoding="utf-8")

    assert set(action["inputs"]) == {"token", "config", "seeds", "fail-on", "baseline-store", "comment", "dry-run"}
    assert set(action["outputs"]) == {
        "verdict", "candidate-mean", "candidate-std", "delta", "ci-low", "ci-high", "p-value", "comment-url", "result-file",
        "baseline-saved",
    }
    assert set(action["outputs"]) == set(OUTPUT_NAMES), "action.yml and the outputs seedbot writes differ"
    for name in [*action["inputs"], *action["outputs"]]:
        assert f"`{name}`" in readme, f"{name} is missing from the README's tables"
        assert action["inputs"].get(name, action["outputs"].get(name))["description"]


@pytest.mark.parametrize("requirement", project_dependencies(), ids=str)
def test_lock_pins_each_dependency(requirement):
    pins = lock_pins()
    name = canonicalize_name(requirement.name)
    if name == "torch":
        assert name not in pins, "torch must come from the CUDA base image, not the lock"
        return

    assert name in pins, f"requirements.lock does not pin {requirement.name}"
    assert requirement.specifier.contains(pins[name]), f"{requirement.name}=={pins[name]} does not satisfy {requirement}"


def test_package_imports_are_dependencies():
    """The image installs only the declared dependencies, so every third-party import must be one."""
    declared = {canonicalize_name(requirement.name) for requirement in project_dependencies()}
    distributions = importlib.metadata.packages_distributions()
    undeclared = {}
    for path in sorted((ROOT / "seedbot").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                if top == "seedbot" or top in sys.stdlib_module_names:
                    continue
                owners = {canonicalize_name(owner) for owner in distributions.get(top, [top])}
                if not owners & declared:
                    undeclared.setdefault(top, path.relative_to(ROOT).as_posix())

    assert undeclared == {}, "imported by seedbot but not in pyproject dependencies: " + ", ".join(
        f"{module} ({where})" for module, where in undeclared.items()
    )
