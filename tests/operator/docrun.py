"""Run the commands of a markdown document as written, so that the docs cannot drift from the code.

The rules, the same for every document:

- Fenced ```bash blocks are commands. They run one by one in ONE bash session per document (so `export`
  and variables carry from block to block), in a copy of the project, with stdin closed. A command that
  fails fails the test, with its output.
- Secrets are the environment's, as they would be yours: a line `export NAME=...` for a passphrase
  (`*_PASSPHRASE`) or an RPC URL (`*_RPC_URL`) is not run; the test has set NAME (the stand-in's URL, the
  test passphrase).
- `ape accounts generate ALIAS` gets on stdin what a user types: some entropy, "n" to "Show mnemonic?",
  and the passphrase twice.
- Services (`ballast keeper run ...`, `ballast bot run ...` without `--once`, or any command ending in
  `&`) start in the background, as in another terminal; the test stops them by process group at the end.
- `ape console ...` gets on stdin the ```python blocks that follow it, up to the next ```bash block, as
  typed into the console; an exception in the console, or an `ERROR:` line of ape's log (a transaction
  that failed), fails the test. (A trace ape prints inside `with reverts(...)` is expected.)
- A ```console block is a transcript: each `$ COMMAND` runs, and the lines under it must appear in its
  output; a transcript that shows `ballast: error:` expects exit code 1.
- ```text, ```yaml, ```toml and other blocks are shown, not run (files a command needs are written by
  the commands themselves, with heredocs).

`hooks` let the test stand in for the world around the document: `after_command(runner)` (a faucet: fund
every new account), `before_console(runner, index)` (let time pass where the document says to wait).
"""

from __future__ import annotations

import contextlib
import os
import queue
import re
import shlex
import signal
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Block:
    lang: str
    text: str
    line: int  # 1-based line of the opening fence


FENCE = re.compile(r"^(\s*)```(\w*)\s*$")


def blocks(markdown: str) -> list[Block]:
    """The fenced code blocks of a markdown text, in order (indented fences included)."""
    out: list[Block] = []
    lines = markdown.splitlines()
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, lang, start = m.group(1), m.group(2), i
        body = []
        i += 1
        while i < len(lines) and lines[i].strip() != "```":
            body.append(lines[i].removeprefix(indent))
            i += 1
        out.append(Block(lang or "", "\n".join(body), start + 1))
        i += 1
    return out


HEREDOC = re.compile(r"<<-?\s*(['\"]?)(\w+)\1")


def commands(script: str) -> list[str]:
    """Split a bash block into commands: `\\` continuations joined, heredocs kept whole, blank and
    comment-only lines dropped."""
    out: list[str] = []
    lines = script.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line.strip() or line.strip().startswith("#"):
            continue
        parts = [line]
        while parts[-1].rstrip().endswith("\\") and i < len(lines):
            parts.append(lines[i])
            i += 1
        m = HEREDOC.search(" ".join(parts))
        if m:
            word = m.group(2)
            while i < len(lines):
                parts.append(lines[i])
                i += 1
                if lines[i - 1].strip() == word:
                    break
        out.append("\n".join(parts))
    return out


SECRET_EXPORT = re.compile(r"^export\s+(\w+_PASSPHRASE|\w+_RPC_URL)=")
GENERATE = re.compile(r"^ape accounts generate\s+([\w.-]+)")
SERVICE = re.compile(r"^(ballast (keeper|bot) run)\b")


TRAILING_COMMENT = re.compile(r"\s+#[^'\"]*$")


def without_comment(cmd: str) -> str:
    """The command without a trailing `# comment` on its last line (`anvil ... &   # stop it later`)."""
    lines = cmd.rstrip().splitlines() or [""]
    lines[-1] = TRAILING_COMMENT.sub("", lines[-1])
    return "\n".join(lines).rstrip()


def is_service(cmd: str) -> bool:
    flat = " ".join(without_comment(cmd).split())
    if flat.endswith("&"):
        return True
    return bool(SERVICE.match(flat)) and "--once" not in flat


CONSOLE_ERROR = re.compile(r"Traceback \(most recent call last\)|^\w*(Error|Exception)\b.*|^ERROR: .*", re.MULTILINE)


def python_input(blocks_: list[str]) -> str:
    """What a user types into IPython: the blocks, with a blank line closing every indented statement."""
    out: list[str] = []
    for text in blocks_:
        previous_indented = False
        for line in text.splitlines():
            indented = line.startswith((" ", "\t"))
            if previous_indented and not indented and line.strip() and not line.lstrip().startswith(")"):
                out.append("")
            out.append(line)
            if line.strip():
                previous_indented = indented
        out += ["", ""]
    return "\n".join(out) + "\n"


class Shell:
    """One bash session (job control on, so each background job is its own process group)."""

    def __init__(self, cwd: Path, env: dict[str, str], logdir: Path):
        self.cwd, self.logdir = cwd, logdir
        self.proc = subprocess.Popen(
            ["bash", "--noprofile", "--norc"], cwd=cwd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, bufsize=1, start_new_session=True,
        )  # fmt: skip
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.services: list[tuple[int, str, Path]] = []  # (pgid, command, log)
        self.transcript: list[str] = []
        self.run("set -m")

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put("")  # EOF

    def run(self, command: str, stdin: str = "/dev/null", timeout: float = 900) -> tuple[int, str]:
        """Run `command` in the session, stdin from the file `stdin`; (exit code, output)."""
        marker = f"__RC_{uuid.uuid4().hex}__"
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"{{ {command}\n}} < {shlex.quote(stdin)} 2>&1\necho {marker} $?\n")
        self.proc.stdin.flush()
        out: list[str] = []
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"timed out after {timeout} s: {command}\n{''.join(out)[-4000:]}") from None
            if line == "":
                raise AssertionError(f"the shell exited during: {command}\n{''.join(out)[-4000:]}")
            if marker in line:  # after the output's last line, or on it when that has no newline (curl)
                before, _, after = line.partition(marker)
                out.append(before)
                rc = int(after.split()[0])
                text = "".join(out)
                self.transcript.append(f"$ {command}\n{text}[exit {rc}]\n")
                with (self.logdir / "transcript.txt").open("a") as f:
                    f.write(self.transcript[-1])
                return rc, text
            out.append(line)

    def start(self, command: str) -> Path:
        """A service in the background (its own process group), its output in a log file."""
        log = self.logdir / f"service-{len(self.services)}.log"
        body = without_comment(command)
        if body.endswith("&"):
            body = body[:-1].rstrip()
        rc, out = self.run(f"{{ {body}\n}} < /dev/null > {shlex.quote(str(log))} 2>&1 &\necho __PID__ $!")
        assert rc == 0, out
        pid = int(re.search(r"__PID__ (\d+)", out).group(1))
        self.services.append((pid, command, log))
        return log

    def close(self) -> None:
        for pgid, _cmd, _log in reversed(self.services):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pgid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for pgid, _cmd, _log in self.services:
            while time.monotonic() < deadline:
                try:
                    os.killpg(pgid, 0)
                except (ProcessLookupError, PermissionError):
                    break
                time.sleep(0.2)
            else:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(pgid, signal.SIGKILL)
        with contextlib.suppress(Exception):
            assert self.proc.stdin is not None
            self.proc.stdin.write("exit\n")
            self.proc.stdin.flush()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


@dataclass
class DocRunner:
    """Runs the blocks of one document in a `Shell`."""

    doc: Path
    shell: Shell
    passphrase: str
    after_command: object = None  # callable(runner) or None
    before_console: object = None  # callable(runner, index) or None
    consoles: int = 0
    ran: list[str] = field(default_factory=list)  # the commands run, for the test's own checks

    def fail(self, block: Block, command: str, rc: int, out: str, why: str = "") -> None:
        raise AssertionError(
            f"{self.doc.name}:{block.line}: `{command}` {why or f'exited {rc}'}\n{out[-6000:]}"
        )

    def run(self) -> None:
        items = blocks(self.doc.read_text())
        i = 0
        while i < len(items):
            block = items[i]
            i += 1
            if block.lang == "bash":
                for cmd in commands(block.text):
                    if SECRET_EXPORT.match(cmd):
                        continue
                    if cmd.startswith("ape console"):
                        python = []
                        while i < len(items) and items[i].lang != "bash":
                            if items[i].lang == "python":
                                python.append(items[i].text)
                            i += 1
                        self.console(block, cmd, python)
                        continue
                    self.command(block, cmd)
                    if self.after_command:
                        self.after_command(self)
            elif block.lang == "console":
                self.transcript(block)

    def command(self, block: Block, cmd: str) -> str:
        self.ran.append(cmd)
        if is_service(cmd):
            self.shell.start(cmd)
            return ""
        stdin = "/dev/null"
        m = GENERATE.match(cmd)
        if m:
            path = self.shell.logdir / f"generate-{m.group(1)}.txt"
            path.write_text(f"some extra entropy\nn\n{self.passphrase}\n{self.passphrase}\n")
            stdin = str(path)
        rc, out = self.shell.run(cmd, stdin)
        if rc != 0:
            self.fail(block, cmd, rc, out)
        return out

    def console(self, block: Block, cmd: str, python: list[str]) -> None:
        self.ran.append(cmd)
        if self.before_console:
            self.before_console(self, self.consoles)
        self.consoles += 1
        path = self.shell.logdir / f"console-{self.doc.stem}-{self.consoles}.py"
        path.write_text(python_input([*python, 'print("__CONSOLE_DONE__")']))
        rc, out = self.shell.run(cmd, str(path))
        path.with_suffix(".out").write_text(out)  # what the console printed, for a failure's post-mortem
        error = CONSOLE_ERROR.search(out)
        if rc != 0 or error or "__CONSOLE_DONE__" not in out:
            why = f"console failed ({error.group(0) if error else 'did not finish'})"
            self.fail(block, cmd, rc, out, why)

    def transcript(self, block: Block) -> None:
        entries: list[tuple[str, list[str]]] = []
        for line in block.text.splitlines():
            if line.startswith("$ "):
                entries.append((line[2:], []))
            elif entries and line.strip():
                entries[-1][1].append(line.strip())
        for cmd, expected in entries:
            self.ran.append(cmd)
            rc, out = self.shell.run(cmd)
            wants_error = any(e.startswith("ballast: error:") for e in expected)
            if (rc != 0) != wants_error or (wants_error and rc != 1):
                self.fail(block, cmd, rc, out, f"exited {rc}, the transcript expects {1 if wants_error else 0}")
            for line in expected:
                if line not in out:
                    self.fail(block, cmd, rc, out, f"printed no line `{line}`")
