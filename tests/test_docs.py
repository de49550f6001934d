"""The docs stay true: named files and functions exist, excerpts match the code,
and every environment variable the code reads is documented in the README."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])
TUTORIAL = sorted((ROOT / "docs" / "tutorial").glob("*.md"))
BACKTICKED = re.compile(r"`([^`\n]+)`")
FILE_REFERENCE = re.compile(
    r"^(?:[\w.-]+/)*[\w.-]+\.(?:py|md|yml|html|txt|cfg|ini|css)$|^deploy/Caddyfile$|^Dockerfile$|^Makefile$"
)
IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
TEST_REFERENCE = re.compile(r"^(tests/[\w/]+\.py)::(test_\w+)$")
ENV_READ = re.compile(r"""os\.environ(?:\.get)?[\[(]\s*["']([A-Z][A-Z0-9_]+)["']""")
# "`app/file.py` `name`", "`app/file.py` (`one`, `two`)" and "`name` in `app/file.py`".
NAMES_AFTER_FILE = re.compile(r"`((?:[\w.-]+/)*[\w.-]+\.py)`((?:,?\s+\(?`[a-z_][a-z0-9_]*`\)?)+)")
NAME_IN_FILE = re.compile(r"`([a-z_][a-z0-9_]*)` in `((?:[\w.-]+/)*[\w.-]+\.py)`")


def defined_in(name, path):
    text = path.read_text()
    return re.search(rf"^\s*(?:def|class)\s+{name}\b|^\s*{name}\s*[:=]", text, re.MULTILINE) is not None


def all_test_names():
    names = set()
    for path in (ROOT / "tests").rglob("test_*.py"):
        names.update(re.findall(r"^def (test_\w+)", path.read_text(), re.MULTILINE))
    return names


@pytest.mark.parametrize("doc", DOCS, ids=lambda path: str(path.relative_to(ROOT)))
def test_every_named_file_function_and_test_exists(doc):
    tests = all_test_names()
    problems = []
    for number, line in enumerate(doc.read_text().splitlines(), 1):
        spans = BACKTICKED.findall(line)
        files = [span for span in spans if FILE_REFERENCE.match(span)]
        for span in files:
            if not (ROOT / span).exists():
                problems.append(f"line {number}: no file {span}")
        for span in spans:
            if match := TEST_REFERENCE.match(span):
                path, name = ROOT / match.group(1), match.group(2)
                if not path.exists() or f"def {name}(" not in path.read_text():
                    problems.append(f"line {number}: no test {span}")
            elif IDENTIFIER.match(span) and span.startswith("test_") and span not in tests:
                problems.append(f"line {number}: no test named {span}")
        named = [
            (path, name) for path, names in NAMES_AFTER_FILE.findall(line) for name in re.findall(r"`(\w+)`", names)
        ]
        named += [(path, name) for name, path in NAME_IN_FILE.findall(line)]
        for path, name in named:
            if not name.startswith("test_") and (ROOT / path).exists() and not defined_in(name, ROOT / path):
                problems.append(f"line {number}: {name} is not defined in {path}")
    assert problems == []


def excerpts(doc):
    """Python blocks that start with ``# path``: (path, chunks of consecutive lines)."""
    for block in re.findall(r"```python\n(.*?)```", doc.read_text(), re.DOTALL):
        first, *rest = block.rstrip("\n").split("\n")
        if first.startswith("# ") and FILE_REFERENCE.match(first[2:].strip()):
            chunks, current = [], []
            for line in rest:
                if line.strip() == "# ...":
                    chunks.append(current)
                    current = []
                else:
                    current.append(line.rstrip())
            chunks.append(current)
            yield first[2:].strip(), [chunk for chunk in chunks if chunk]


@pytest.mark.parametrize("doc", TUTORIAL, ids=lambda path: path.name)
def test_every_tutorial_excerpt_still_appears_in_the_code(doc):
    found_any = False
    for path, chunks in excerpts(doc):
        found_any = True
        source = [line.rstrip() for line in (ROOT / path).read_text().splitlines()]
        position = 0
        for chunk in chunks:
            for start in range(position, len(source) - len(chunk) + 1):
                if source[start : start + len(chunk)] == chunk:
                    position = start + len(chunk)
                    break
            else:
                pytest.fail(f"{doc.name}: excerpt from {path} no longer matches:\n" + "\n".join(chunk))
    if doc.name != "README.md":
        assert found_any, f"{doc.name} quotes no code"


def test_every_environment_variable_the_code_reads_is_documented():
    sources = [
        *(ROOT / "app").rglob("*.py"),
        ROOT / "config.py",
        ROOT / "wsgi.py",
        ROOT / "gunicorn.conf.py",
        ROOT / "tests" / "conftest.py",
    ]
    read = set()
    for path in sources:
        read.update(ENV_READ.findall(path.read_text()))
    readme = (ROOT / "README.md").read_text()
    assert read, "found no environment reads at all"
    missing = sorted(name for name in read if f"`{name}`" not in readme)
    assert missing == []


def test_the_tutorial_has_a_chapter_for_every_practice():
    names = [path.stem for path in TUTORIAL if path.stem != "README"]
    assert len(names) >= 14
    index = (ROOT / "docs" / "tutorial" / "README.md").read_text()
    for name in names:
        assert f"({name}.md)" in index, name
