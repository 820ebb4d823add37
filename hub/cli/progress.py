"""Progress of long CLI steps: a bar on a terminal, a line per step otherwise (logs, CI)."""

from __future__ import annotations

import sys
from typing import Any

import click


class StepProgress:
    """A ``progress(step, done, total)`` callback that draws on stderr."""

    def __init__(self, *, terminal: bool | None = None) -> None:
        self._terminal = sys.stderr.isatty() if terminal is None else terminal
        self._step: str | None = None
        self._bar: Any = None
        self._shown = 0

    def __call__(self, step: str, done: int, total: int) -> None:
        if step != self._step:
            self._finish_bar()
            self._step = step
            if self._terminal and total > 1:
                self._bar = click.progressbar(length=total, label=step, file=sys.stderr)
                self._bar.__enter__()
                self._shown = 0
            else:
                click.echo(f"{step} ({total:,})..." if total > 1 else f"{step}...", err=True)
        if self._bar is not None:
            self._bar.update(done - self._shown)
            self._shown = done

    def _finish_bar(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None

    def close(self) -> None:
        self._finish_bar()
