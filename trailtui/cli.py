"""The ``trailtui`` command: browse (default), ``index`` and ``query``.

Exit codes: 0 every input loaded; 2 usage error (bad arguments, a path that does not exist, a
filter that does not parse); 3 results printed but some inputs could not be loaded (listed on
stderr); 130 interrupted with Ctrl+C.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
from pathlib import Path

from trailtui import __version__

EXIT_OK, EXIT_USAGE, EXIT_PARTIAL, EXIT_INTERRUPTED = 0, 2, 3, 130

_BROWSE_HELP = """Browse AWS CloudTrail logs in the terminal.

  trailtui [PATH ...]            open the app on files and directories (default: .)
  trailtui --demo                open the app on a built-in sample incident
  trailtui index PATH ...        build or update the index, print a summary
  trailtui query PATH ... --filter EXPR [--format table|csv|json|ndjson] [--limit N] [--count]

Filter examples: 'name:GetObject is:anonymous', 'actor:*alice* -error:*', 'ip:203.0.113.0/24'.
Press ? in the app for every key and the whole filter grammar."""


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", metavar="FILE", help="index file to use (default: one per set of paths in ~/.cache/trailtui)")
    parser.add_argument("--version", action="version", version=f"trailtui {__version__}")


def build_parsers() -> tuple[argparse.ArgumentParser, argparse.ArgumentParser, argparse.ArgumentParser]:
    """The three argument parsers: browse (default), ``index``, ``query``."""
    browse = argparse.ArgumentParser(
        prog="trailtui", description=_BROWSE_HELP, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    browse.add_argument("paths", nargs="*", metavar="PATH", help="log files or directories (walked recursively)")
    browse.add_argument("--demo", action="store_true", help="open a built-in sample incident (no logs needed)")
    browse.add_argument("--filter", metavar="EXPR", default="", help="start with this filter")
    _add_common(browse)

    index = argparse.ArgumentParser(prog="trailtui index", description="Build or update the index without the UI.")
    index.add_argument("paths", nargs="+", metavar="PATH")
    _add_common(index)

    query = argparse.ArgumentParser(prog="trailtui query", description="Index as needed, then print matching events.")
    query.add_argument("paths", nargs="+", metavar="PATH")
    query.add_argument("--filter", "-f", metavar="EXPR", default="", help="filter expression (see README)")
    query.add_argument("--format", choices=("table", "csv", "json", "ndjson"), default="table")
    query.add_argument("--limit", type=int, metavar="N", help="print at most N events")
    query.add_argument("--count", action="store_true", help="print only the number of matching events")
    query.add_argument("--oldest-first", action="store_true", help="oldest events first (default newest first)")
    _add_common(query)
    return browse, index, query


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    browse, index, query = build_parsers()
    try:
        if argv and argv[0] == "index":
            return _cmd_index(index.parse_args(argv[1:]))
        if argv and argv[0] == "query":
            return _cmd_query(query, query.parse_args(argv[1:]))
        return _cmd_browse(browse, browse.parse_args(argv))
    except KeyboardInterrupt:
        print("trailtui: interrupted; what was indexed so far is kept", file=sys.stderr)
        return EXIT_INTERRUPTED
    except SystemExit as exit_:
        # argparse and the usage checks below end with SystemExit; a caller of main() gets a code.
        return exit_.code if isinstance(exit_.code, int) else EXIT_USAGE


def _db_path(args, paths: list[str]) -> Path:
    from trailtui.core.index import default_db_path

    return Path(args.db).expanduser() if args.db else default_db_path(paths)


def _open_writer(db_path: Path):
    from trailtui.core.index import IndexError_, connect

    try:
        return connect(db_path)
    except IndexError_ as err:
        print(f"trailtui: {err}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE) from None


def _run_index(paths: list[str], db_path: Path, *, quiet: bool = False):
    """Index ``paths`` with progress on stderr; returns the LoadSummary. Exits 2 on a bad path."""
    from trailtui.core.discover import InputPathError
    from trailtui.core.loader import index_paths

    for path in paths:
        if not Path(path).expanduser().exists():
            print(f"trailtui: {path}: no such file or directory", file=sys.stderr)
            raise SystemExit(EXIT_USAGE)
    conn = _open_writer(db_path)
    progress = _Progress(enabled=not quiet)
    try:
        summary = index_paths(conn, paths, on_progress=progress.update)
    except InputPathError as err:
        print(f"trailtui: {err}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE) from None
    finally:
        progress.close()
    return conn, summary


class _Progress:
    """Indexing progress on stderr: a rich progress bar on a terminal, plain lines otherwise."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.bar = None
        self.task = None
        self.last_line = 0.0
        if enabled and sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self.bar = Progress(
                TextColumn("{task.fields[phase]}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("files · {task.fields[events]:,} events · {task.fields[rate]:,.0f}/s"),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self.bar.start()
            self.task = self.bar.add_task("index", total=None, events=0, rate=0.0, phase="indexing")

    def update(self, progress) -> None:
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.update(
                self.task, total=progress.files_total, completed=progress.files_done,
                events=progress.events_added, rate=progress.rate,
                phase="building indexes" if progress.phase == "building indexes" else "indexing",
            )
        elif progress.phase == "building indexes":
            print(f"indexing: {progress.events_added:,} events read, building the filter indexes", file=sys.stderr)
        elif progress.elapsed - self.last_line >= 2.0 or progress.phase == "done":
            self.last_line = progress.elapsed
            print(
                f"indexing: {progress.files_done}/{progress.files_total} files, "
                f"{progress.events_added:,} events, {progress.rate:,.0f} events/s",
                file=sys.stderr,
            )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def _report_problems(summary, stream) -> None:
    from trailtui.core.text import printable

    for path, reason in summary.failures:
        print(f"error: {printable(path)}: {printable(reason)}", file=stream)
    for path, position, message in summary.record_problems:
        print(f"error: {printable(path)}: {printable(position)}: {printable(message)}", file=stream)


def _cmd_index(args) -> int:
    from trailtui.core.text import printable

    db_path = _db_path(args, args.paths)
    conn, summary = _run_index(args.paths, db_path)
    for notice in summary.notices:
        print(f"notice: {notice}")
    print(f"index: {db_path}")
    print(
        f"files: {summary.files_total} found, {summary.files_read} read, {summary.files_unchanged} unchanged, "
        f"{summary.files_skipped} skipped, {summary.files_failed} failed"
        + (f", {summary.files_removed} removed" if summary.files_removed else "")
    )
    print(
        f"events: {summary.events_added:,} added, {summary.duplicates:,} duplicates, "
        f"{summary.record_errors} bad records, {summary.events_total:,} in the index "
        f"({summary.elapsed:.1f} s, {summary.rate:,.0f} events/s)"
    )
    if summary.skips:
        reasons: dict[str, int] = {}
        for _, reason in summary.skips:
            reasons[reason] = reasons.get(reason, 0) + 1
        print("skipped: " + "; ".join(f"{count} {printable(reason)}" for reason, count in sorted(reasons.items())))
    _report_problems(summary, sys.stderr)
    conn.close()
    return EXIT_PARTIAL if summary.failures or summary.record_problems else EXIT_OK


def _cmd_query(parser: argparse.ArgumentParser, args) -> int:
    from trailtui.core.filter import FilterError, compile_filter
    from trailtui.core.originals import OriginalUnavailable
    from trailtui.core.query import EventQuery
    from trailtui.core.text import printable

    try:
        compiled = compile_filter(args.filter)
    except FilterError as err:
        _print_filter_error(args.filter, err)
        return EXIT_USAGE
    if args.limit is not None and args.limit < 0:
        parser.error("--limit must be 0 or more")
    db_path = _db_path(args, args.paths)
    conn, summary = _run_index(args.paths, db_path, quiet=True)
    query = EventQuery(conn, compiled, newest_first=not args.oldest_first)
    out = sys.stdout
    try:
        if args.count:
            print(query.count(), file=out)
        else:
            _write_events(query, args.format, args.limit, out)
        out.flush()
    except BrokenPipeError:
        # `trailtui query ... | head`: the reader left; that is not an error.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except OriginalUnavailable as err:
        print(f"trailtui: {printable(str(err))}", file=sys.stderr)
        return EXIT_PARTIAL
    _report_problems(summary, sys.stderr)
    return EXIT_PARTIAL if summary.failures or summary.record_problems else EXIT_OK


def _print_filter_error(text: str, err) -> None:
    from trailtui.core.text import printable

    print(f"trailtui: bad filter: {err}", file=sys.stderr)
    print(f"  {printable(text)}", file=sys.stderr)
    print("  " + " " * len(printable(text[: err.position])) + "^", file=sys.stderr)


#: Columns of ``--format table`` and ``csv``: CloudTrail names (plus trailtui's actor/resource).
OUTPUT_COLUMNS = (
    "eventTime", "eventName", "eventSource", "actor", "sourceIPAddress", "awsRegion", "resource",
    "errorCode", "userIdentity_arn", "userAgent", "recipientAccountId", "eventID",
)


def _write_events(query, fmt: str, limit: int | None, out) -> None:
    from trailtui.core.text import printable

    if fmt == "ndjson":
        for original in query.iter_originals(limit):
            out.write(_one_line(original).decode("utf-8", "replace") + "\n")
    elif fmt == "json":
        out.write("[")
        for number, original in enumerate(query.iter_originals(limit)):
            out.write(("," if number else "") + "\n" + _one_line(original).decode("utf-8", "replace"))
        out.write("\n]\n")
    elif fmt == "csv":
        writer = csv.writer(out)
        writer.writerow([name.replace("_", ".") for name in OUTPUT_COLUMNS])
        for row in query.iter_rows(list(OUTPUT_COLUMNS), limit):
            writer.writerow([_csv_cell(value) for value in row])
    else:
        columns = ("eventTime", "eventName", "eventSource", "actor", "sourceIPAddress", "awsRegion", "resource", "errorCode")
        widths = (20, 28, 26, 32, 16, 14, 40, 16)
        out.write("  ".join(name.ljust(width) for name, width in zip(columns, widths)).rstrip() + "\n")
        for row in query.iter_rows(list(columns), limit):
            cells = [_fit(printable(value), width) for value, width in zip(row, widths)]
            out.write("  ".join(cells).rstrip() + "\n")


def _fit(text: str, width: int) -> str:
    return text.ljust(width) if len(text) <= width else text[: width - 1] + "…"


def _csv_cell(value) -> str:
    """A CSV cell; text that a spreadsheet would run as a formula is prefixed with ``'``."""
    if value is None:
        return ""
    text = str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def _one_line(original: bytes) -> bytes:
    """The original event on one line: whitespace outside strings removed, all else byte-exact."""
    from trailtui.core.export import minify_json

    return minify_json(original)


def _cmd_browse(parser: argparse.ArgumentParser, args) -> int:
    from trailtui.core.filter import FilterError, compile_filter

    if args.demo:
        if args.paths:
            parser.error("--demo takes no PATH")
        from trailtui.core.demo import write_demo_logs
        from trailtui.core.index import cache_dir

        demo_root = cache_dir() / "demo-logs"
        write_demo_logs(demo_root)
        paths = [str(demo_root / "AWSLogs")]
    else:
        paths = args.paths or ["."]
    for path in paths:
        if not Path(path).expanduser().exists():
            print(f"trailtui: {path}: no such file or directory", file=sys.stderr)
            return EXIT_USAGE
    try:
        compile_filter(args.filter)
    except FilterError as err:
        _print_filter_error(args.filter, err)
        return EXIT_USAGE
    db_path = _db_path(args, paths)
    from trailtui.core.index import IndexError_, connect

    try:
        connect(db_path).close()  # create (or check) the index before the UI starts
    except IndexError_ as err:
        print(f"trailtui: {err}", file=sys.stderr)
        return EXIT_USAGE
    from trailtui.tui.app import TrailApp

    app = TrailApp(db_path=db_path, paths=paths, initial_filter=args.filter)
    app.run()
    return app.return_code or EXIT_OK
