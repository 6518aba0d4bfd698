"""Terminal output: text from documents, users and models is printed as data, never as markup.

Every console here has rich's markup, highlighting and emoji codes off, so a passage holding
``[/]`` or ``:smile:`` prints as written. Control characters (an ANSI escape sequence in a
document, a carriage return that would overwrite a line) become their visible Unicode control
pictures, one character for one, so they show instead of acting on the terminal.
"""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

# C0 controls but tab and newline, DEL and the C1 controls → a visible stand-in of one character.
_CONTROL_PICTURES: dict[int, int] = {
    **{code: 0x2400 + code for code in range(0x20) if code not in (0x09, 0x0A)},
    0x7F: 0x2421,
    **{code: 0xFFFD for code in range(0x80, 0xA0)},
}

console = Console(markup=False, highlight=False, emoji=False)
err_console = Console(stderr=True, markup=False, highlight=False, emoji=False)

Part = str | tuple[str, str]
"""Plain text, or ``(text, style)`` for a styled label such as ``("error:", "red")``."""


def safe(text: object) -> str:
    """``text`` with terminal control characters replaced by visible stand-ins."""
    return str(text).translate(_CONTROL_PICTURES)


def styled(*parts: Part) -> Text:
    """One line of output from plain and styled parts, every part taken literally."""
    line = Text()
    for part in parts:
        if isinstance(part, tuple):
            line.append(safe(part[0]), style=part[1])
        else:
            line.append(safe(part))
    return line


def say(*parts: Part, err: bool = False, end: str = "\n") -> None:
    """Print ``parts`` (see ``styled``) on stdout, or stderr with ``err``, without re-wrapping."""
    (err_console if err else console).print(styled(*parts), end=end, soft_wrap=True)
