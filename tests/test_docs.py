"""What users read: the README runs as written, and no user-facing file tells the project's history.

README convention: every ```python block runs, in order, in one fresh interpreter. A block
that needs something a fresh checkout lacks (a data set, a trained run) is preceded by the
line `<!-- readme: skip -->`, and the README says in words what it needs.
"""

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from kzoo import cli, configs
from kzoo.data import examples as load_examples
from kzoo.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
USER_FACING = ("README.md", "docs", "zoo_configs", "examples", "kzoo")
TEXT_SUFFIXES = {".md", ".py", ".yaml", ".yml", ".txt", ".cfg", ".toml", ".html", ".css", ".js"}
SKIP_MARK = "<!-- readme: skip -->"

# The project's development history, which users neither see nor need. API names such as
# `clear_session` do not match: each pattern wants a number or a phrase.
PROCESS_WORDS = [
    re.compile(r"\bsessions? \d+\b", re.IGNORECASE),
    re.compile(r"\bissues? #?\d+\b", re.IGNORECASE),
    re.compile(r"\b(?:PR|pull request) #?\d+\b", re.IGNORECASE),
    re.compile(r"\bwe (?:tried|attempted)\b", re.IGNORECASE),
    re.compile(r"\battempts? (?:at|to)\b", re.IGNORECASE),
]
OUTSIDE_REPO = re.compile(r"\.\./shared\b")


def _user_files():
    for entry in USER_FACING:
        path = ROOT / entry
        if path.is_file():
            yield path
        elif path.is_dir():
            for file in sorted(path.rglob("*")):
                if file.suffix in TEXT_SUFFIXES and "__pycache__" not in file.parts:
                    yield file


def test_user_facing_files_carry_no_history_and_no_path_outside_the_repository():
    problems = []
    for path in _user_files():
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            for pattern in [*PROCESS_WORDS, OUTSIDE_REPO]:
                if match := pattern.search(line):
                    where = path.relative_to(ROOT)
                    problems.append(f"{where}:{number}: {match.group(0)!r} in {line.strip()!r}")
    assert not problems, "user-facing text must not say:\n" + "\n".join(problems)


@pytest.mark.parametrize(
    "text",
    ["before session 3", "short of issue 6's 0.95", "see issue #12", "Sessions 2 and 3", "PR 4"],
)
def test_the_history_patterns_catch_what_they_are_for(text):
    assert any(p.search(text) for p in PROCESS_WORDS)


@pytest.mark.parametrize(
    "text", ["keras.backend.clear_session()", "a training session", "an issue with masks"]
)
def test_the_history_patterns_leave_ordinary_words_alone(text):
    assert not any(p.search(text) for p in PROCESS_WORDS)


def _readme_blocks(language: str, path: Path = ROOT / "README.md") -> list[tuple[int, str, bool]]:
    """(line number, code, skipped) of each fenced block in `language`."""
    lines = path.read_text().splitlines()
    blocks, index = [], 0
    while index < len(lines):
        if lines[index].strip() == f"```{language}":
            start = index
            previous = next((line for line in reversed(lines[:start]) if line.strip()), "")
            end = lines.index("```", start + 1)
            code = "\n".join(lines[start + 1 : end])
            blocks.append((start + 1, code, previous.strip() == SKIP_MARK))
            index = end
        index += 1
    return blocks


def test_readme_is_short():
    assert len((ROOT / "README.md").read_text().splitlines()) < 200


def test_readme_links_point_at_files_in_the_repository():
    text = (ROOT / "README.md").read_text()
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text)
    local = [t for t in targets if "://" not in t]
    assert local
    missing = [t for t in local if not (ROOT / t).exists()]
    assert not missing, f"README links to files that do not exist: {missing}"


def test_readme_python_blocks_run_as_written(tmp_path):
    blocks = [(line, code) for line, code, skipped in _readme_blocks("python") if not skipped]
    assert blocks, "the README has no runnable python block"
    script = "\n\n".join(f"# README.md line {line}\n{code}" for line, code in blocks)
    result = subprocess.run(
        [sys.executable, "-W", "error::DeprecationWarning:kzoo", "-c", script],
        cwd=tmp_path,  # anything the tour writes lands here
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.mark.parametrize(
    "page", ["README.md", *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md"))]
)
def test_kzoo_commands_in_readme_and_docs_parse(page):
    """Every `kzoo ...` line of a shell block names real commands and flags."""
    parser = cli.build_parser()
    commands = [
        line.strip().removeprefix("$ ")
        for _, code, _ in _readme_blocks("bash", ROOT / page)
        for line in code.splitlines()
        if line.strip().removeprefix("$ ").startswith("kzoo ")
    ]
    for command in commands:
        argv = shlex.split(command, comments=True)[1:]
        argv = [a for a in argv if a not in ("&", "&&")]
        try:
            parser.parse_args(argv)
        except SystemExit as exit:
            pytest.fail(f"{page}: {command!r} does not parse (exit {exit.code})")


def test_readme_results_match_the_zoo_configs_references():
    """Each results row run by a zoo config shows the figures of that config's `reference`."""
    text = (ROOT / "README.md").read_text().split("## Results", 1)[1].split("\n## ", 1)[0]
    checked = 0
    for row in text.splitlines():
        cells = [c.strip() for c in row.strip().strip("|").split("|")]
        if len(cells) != 4 or not cells[0].startswith("`"):
            continue
        command, _, result, time = cells
        if "kzoo demo" in command:
            name = "demo"
        elif match := re.search(r"kzoo train (\w+)", command):
            name = match[1]
        elif "fsdd_leave_one_speaker_out" in command:
            name = "digits_fsdd"
        else:
            continue  # an example script without a config
        reference = configs.load(name)["reference"]["result"]
        figure = re.search(r"\d\.\d{3}", result)[0]
        seconds = re.search(r"(\d+) s\b", time)[0]
        assert figure in reference and seconds in reference, (name, result, time, reference)
        checked += 1
    assert checked >= 5


def test_zoo_configs_name_no_local_path_as_their_default_data():
    for name in configs.names():
        source = configs.load(name)["data"]["source"]
        assert source is None or source == "vowels" or str(source).startswith("tfds:"), (
            f"zoo_configs/{name}.yaml: data.source {source!r} is a local path users lack"
        )


@pytest.mark.parametrize("name", ["digits_fsdd", "digits_fsdd_fast", "sincnet_speakers_fsdd"])
def test_fsdd_configs_need_data_and_say_where_to_get_it(name):
    data = configs.load(name)["data"]
    assert data["source"] is None
    with pytest.raises(ConfigError) as caught:
        load_examples(data)
    message = str(caught.value)
    assert "--data" in message
    assert "https://github.com/Jakobovski/free-spoken-digit-dataset" in message
    assert "\n" not in message


def test_cli_without_data_for_an_fsdd_config_is_one_line_and_writes_nothing(tmp_path, capsys):
    output = tmp_path / "run"
    code = cli.main(["train", "digits_fsdd", "--output", str(output), "--quiet"])
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(lines) == 1 and lines[0].startswith("kzoo: error: No data source"), lines
    assert "free-spoken-digit-dataset" in lines[0]
    assert not output.exists()
