"""The README, the Sphinx documentation and the CI files agree with each other and build cleanly."""
from __future__ import annotations

import configparser
import os
import shutil
import importlib.util
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"
README = REPO / "README.rst"

DEMO_COMMAND = "python3 -m pip install -e . && python3 -m exchangelib demo"
TEST_COMMAND = 'python3 -m pip install -e ".[test]" && python3 -B -m pytest -q'

# Pages promised by the README and the docs' table of contents.
PAGES = [
    "index", "installation", "quickstart", "local-server", "connecting", "dates-and-timezones",
    "errors-and-retries", "folders", "items", "searching", "bulk", "attachments",
    "extended-properties", "recurrence", "oof", "troubleshooting", "performance", "changelog", "api",
    "migrating-from-5x",
]


def code_blocks(rst: str) -> List[Tuple[str, str, int]]:
    """(language, code, line number) of each ``.. code-block::`` / ``.. code::`` and ``::`` block."""
    lines = rst.splitlines()
    blocks = []
    i = 0
    while i < len(lines):
        line = lines[i]
        directive = re.match(r"^(\s*)\.\. (?:code-block|code|sourcecode)::\s*(\S*)\s*$", line)
        literal = not directive and line.rstrip().endswith("::") and not line.lstrip().startswith("..")
        if not directive and not literal:
            i += 1
            continue
        indent = len(directive.group(1)) if directive else len(line) - len(line.lstrip())
        language = directive.group(2) if directive else ""
        start = i + 1
        i += 1
        # Directive options (":class: ...") come before the blank line that starts the content.
        while directive and i < len(lines) and re.match(r"^\s+:[\w-]+:", lines[i]):
            i += 1
        body = []
        while i < len(lines) and (not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > indent):
            body.append(lines[i])
            i += 1
        code = textwrap.dedent("\n".join(body)).strip("\n")
        if code:
            blocks.append((language, code, start))
    return blocks


def rst_files() -> List[Path]:
    return [README] + sorted(DOCS.glob("*.rst"))


# -- README and CI ------------------------------------------------------------------------------

def test_readme_has_exactly_the_two_setup_commands():
    commands = [
        line.strip()
        for language, code, _ in code_blocks(README.read_text(encoding="utf-8"))
        if language != "python"
        for line in code.splitlines()
        if line.strip()
    ]
    assert commands == [DEMO_COMMAND, TEST_COMMAND]


def test_readme_renders_without_warnings_as_pypi_does():
    """setup.py publishes README.rst as the long description; PyPI renders it with plain docutils."""
    pytest.importorskip("docutils", reason="docutils is not installed (it comes with Sphinx: pip install -e '.[docs]')")
    from docutils.core import publish_doctree
    from docutils.utils import SystemMessage

    try:
        publish_doctree(README.read_text(encoding="utf-8"), source_path=str(README),
                        settings_overrides={"report_level": 2, "halt_level": 2, "warning_stream": False})
    except SystemMessage as exc:
        pytest.fail(f"README.rst is not valid plain reStructuredText: {exc}")


def test_readme_links_point_at_existing_files():
    targets = re.findall(r"`[^`<]*<([^>]+)>`_", README.read_text(encoding="utf-8"))
    local = [t for t in targets if "://" not in t]
    assert local, "the README should link to the documentation pages"
    missing = [t for t in local if not (REPO / t).is_file()]
    assert missing == []


def test_ci_runs_the_readme_test_command_verbatim():
    run = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    commands = [line.strip() for line in run.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert TEST_COMMAND in commands, f".ci/run must run {TEST_COMMAND!r} exactly; it runs {commands!r}"


def test_tox_and_travis_run_the_same_suite_and_the_docs_build():
    tox = configparser.ConfigParser(interpolation=None)
    tox.read(REPO / "tox.ini", encoding="utf-8")
    envs = [e.strip() for e in tox["tox"]["env_list"].split(",")]
    assert envs == ["py39", "py310", "py311", "py312", "py313", "docs", "mypy"]
    assert tox["testenv"]["extras"].strip() == "test"
    # The README's pytest invocation, with tox's interpreter and optional extra arguments.
    assert tox["testenv"]["commands"].strip() == "python -B -m pytest -q {posargs}"
    assert "sphinx-build -W" in tox["testenv:docs"]["commands"]

    travis = (REPO / ".travis.yml").read_text(encoding="utf-8")
    assert re.search(r"^script: \.ci/run$", travis, re.M)
    assert "sphinx-build -W" in travis
    for version in ("3.9", "3.10", "3.11", "3.12", "3.13"):
        assert f'- "{version}"' in travis


# -- Code examples ----------------------------------------------------------------------------

@pytest.mark.parametrize("path", rst_files(), ids=lambda p: p.name)
def test_python_examples_compile(path):
    """Every Python example is syntactically valid, so it can be pasted and run."""
    blocks = [(code, line) for language, code, line in code_blocks(path.read_text(encoding="utf-8"))
              if language == "python"]
    for code, line in blocks:
        try:
            compile(code, f"{path.name}:{line}", "exec")
        except SyntaxError as exc:
            pytest.fail(f"{path.name}, example at line {line}: {exc}")


# -- API reference stubs (docs/conf.py) -----------------------------------------------------------

def load_conf():
    spec = importlib.util.spec_from_file_location("exchangelib_docs_conf", DOCS / "conf.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def fake_package(tmp_path, monkeypatch):
    """A package with modules that import, modules that don't, and private/excluded ones."""
    root = tmp_path / "src" / "fakepkg"
    files: Dict[str, str] = {
        "__init__.py": '"""A package."""\n',
        "good.py": '"""Imports fine."""\n',
        "broken.py": "raise ImportError('not written yet')\n",
        "_private.py": "",
        "__main__.py": "",
        "cli.py": "",
        "sub/__init__.py": "import fakepkg.does_not_exist\n",
        "sub/child.py": "",
        "deep/__init__.py": "",
        "deep/leaf.py": "",
    }
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path / "src"))
    yield "fakepkg"
    for name in [m for m in sys.modules if m == "fakepkg" or m.startswith("fakepkg.")]:
        del sys.modules[name]


def test_api_stubs_cover_exactly_the_modules_that_import(tmp_path, fake_package):
    conf = load_conf()
    api = tmp_path / "api"
    api.mkdir()
    (api / "fakepkg.gone.rst").write_text(conf.stub_text("fakepkg.gone"), encoding="utf-8")  # stale stub
    (api / "notes.rst").write_text("Hand-written\n============\n", encoding="utf-8")

    modules, failed = conf.write_api_stubs(api, package=fake_package, exclude=("fakepkg.cli",))

    assert modules == ["fakepkg", "fakepkg.deep", "fakepkg.deep.leaf", "fakepkg.good"]
    assert sorted(failed) == ["fakepkg.broken", "fakepkg.sub"]
    assert "not written yet" in failed["fakepkg.broken"]
    assert sorted(p.name for p in api.glob("*.rst")) == [
        "fakepkg.deep.leaf.rst", "fakepkg.deep.rst", "fakepkg.good.rst", "fakepkg.rst", "notes.rst",
    ]
    assert ".. automodule:: fakepkg.good\n" in (api / "fakepkg.good.rst").read_text(encoding="utf-8")


def test_api_stubs_explain_when_nothing_imports(tmp_path):
    conf = load_conf()
    modules, failed = conf.write_api_stubs(tmp_path / "api", package="no_such_package_for_docs")
    assert modules == []
    page = (tmp_path / "api" / "unavailable.rst").read_text(encoding="utf-8")
    assert "no_such_package_for_docs" in page and "ModuleNotFoundError" in page


# -- The Sphinx build --------------------------------------------------------------------------
# One build (the same command as CI's docs job, run in parallel) shared by the tests below.

@pytest.fixture(scope="module")
def html(tmp_path_factory):
    pytest.importorskip("sphinx", reason="Sphinx is not installed: pip install -e '.[docs]' to build the docs")
    out = tmp_path_factory.mktemp("html")
    # Build a copy of the sources: the API stubs Sphinx generates land in the copy, not the checkout.
    src = tmp_path_factory.mktemp("src")
    shutil.copytree(DOCS, src / "docs", ignore=shutil.ignore_patterns("_build", "api"))
    (src / "docs" / "api").mkdir()
    shutil.copy2(Path(REPO) / "CHANGELOG.md", src / "CHANGELOG.md")
    env = dict(os.environ, EXCHANGELIB_REPO_DIR=str(REPO))
    proc = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-j", "auto", "-b", "html",
         "-d", str(out / ".doctrees"), str(src / "docs"), str(out)],
        cwd=str(src), capture_output=True, text=True, timeout=300, env=env,
    )
    assert proc.returncode == 0, f"sphinx-build -W failed:\n{proc.stderr}\n{proc.stdout}"
    return out


@pytest.mark.slow
def test_docs_build_without_warnings_and_have_every_page(html):
    missing = [page for page in PAGES if not (html / f"{page}.html").is_file()]
    assert missing == []


@pytest.mark.slow
def test_api_reference_documents_the_package(html):
    page = (html / "api" / "exchangelib.version.html").read_text(encoding="utf-8")
    assert 'id="exchangelib.version.Build"' in page
    assert 'id="exchangelib.version.Version"' in page
    index = (html / "api.html").read_text(encoding="utf-8")
    assert "exchangelib.version.html" in index


@pytest.mark.slow
def test_changelog_page_shows_the_changelog(html):
    assert "Unreleased" in (html / "changelog.html").read_text(encoding="utf-8")


def _setup_extras() -> List[str]:
    """The extras ``setup.py`` defines, read from its source (no build needed)."""
    import ast

    tree = ast.parse((REPO / "setup.py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == "extras_require" and isinstance(node.value, ast.Dict):
            return sorted(ast.literal_eval(k) for k in node.value.keys if k is not None)
    raise AssertionError("setup.py defines no extras_require")


def test_installation_page_lists_the_extras_setup_py_defines():
    text = (DOCS / "installation.rst").read_text(encoding="utf-8")
    section = text.split("\nOptional extras\n", 1)[1].split("\nChecking the installation\n", 1)[0]
    documented = sorted(set(re.findall(r"^``([a-z0-9_-]+)``\n", section, re.M)))
    assert documented == _setup_extras()


def test_local_server_page_names_every_implemented_operation():
    from exchangelib.testing.context import OPERATIONS
    import exchangelib.testing.ops  # noqa: F401 - registers the handlers

    text = (DOCS / "local-server.rst").read_text(encoding="utf-8")
    section = text.split("\nOperations\n", 1)[1].split("\nLimits\n", 1)[0]
    documented = set(re.findall(r"``([A-Z][A-Za-z]+)``", section))
    assert documented == set(OPERATIONS), (sorted(set(OPERATIONS) - documented), sorted(documented - set(OPERATIONS)))


def test_readme_says_a_virtual_environment_is_expected():
    text = README.read_text(encoding="utf-8")
    assert "python3 -m venv .venv && . .venv/bin/activate" in text
    assert "python3 -m venv .venv && . .venv/bin/activate" in (DOCS / "installation.rst").read_text(encoding="utf-8")
