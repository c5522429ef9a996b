"""A Griffe extension: docstring examples (`>>>` lines and their output) become code blocks.

kzoo's docstrings follow Keras: an `Example:` line, then doctest lines at the docstring's
own indentation, which pytest checks. Markdown would read `>>>` as nested quotes; this
wraps each run of doctest lines in a fenced `pycon` block before the docstring is parsed.
"""

from __future__ import annotations

import griffe

FENCE = "```"


def fence(text: str) -> str:
    lines, out, index = text.splitlines(), [], 0
    while index < len(lines):
        line = lines[index]
        if not line.lstrip().startswith(">>>"):
            out.append(line)
            index += 1
            continue
        indent = line[: len(line) - len(line.lstrip())]
        out.append(f"{indent}{FENCE}pycon")
        while index < len(lines) and lines[index].strip():
            out.append(lines[index])
            index += 1
        out.append(f"{indent}{FENCE}")
    return "\n".join(out)


class DoctestFences(griffe.Extension):
    def on_instance(self, *, obj: griffe.Object, **kwargs) -> None:
        if obj.docstring is not None and ">>>" in obj.docstring.value:
            obj.docstring.value = fence(obj.docstring.value)
