"""The ``trailtui`` command: browse (default), ``index``, ``query``, ``detect``, ``marks`` and ``athena``.

Exit codes: 0 every input loaded; 2 usage error (bad arguments, a path that does not exist, a
filter that does not parse, an index that cannot be written or read: a full disk, a read-only
directory; the message suggests ``--db``); 3 results printed but some inputs could not be loaded
(listed on stderr); 130 interrupted with Ctrl+C.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
from pathlib import Path

from trailtui import __version__

EXIT_OK, EXIT_USAGE, EXIT_PARTIAL, EXIT_INTERRUPTED = 0, 2, 3, 130

_BROWSE_HELP = """Browse AWS CloudTrail logs in the terminal.

  trailtui [PATH ...]            open the app on files and directories (default: .)
  trailtui --demo                open the app on a built-in sample incident
  trailtui index PATH ...        build or update the index, print a summary
  trailtui query PATH ... --filter EXPR [--format table|csv|json|ndjson] [--limit N] [--count]
  trailtui query PATH ... --preset NAME [--since TIME] [--until TIME]   a ready-made filter
  trailtui s3://BUCKET/AWSLogs/o-ID/ --since -2d --account ID --region R   straight from S3
  trailtui PATH ... --follow     new deliveries join the list while you read (local or s3://)
  trailtui query PATH ... --follow --format ndjson   print each new matching event as it arrives
  trailtui query --list-presets  list the presets (incident response, S3 user guide)
  trailtui detect PATH ... [--rules DIR] [--level high] [--format table|csv|json|ndjson]   run Sigma rules
  trailtui athena ddl s3://BUCKET/AWSLogs/[o-ORG/] [--accounts ID,...] [--regions R,...]   the Athena table
  trailtui athena sql --filter EXPR --since TIME --account ID,... --region R,...   the filter as Athena SQL
  trailtui athena run --filter EXPR --since TIME --account ... --region ... --workgroup WG   run it, browse what it found
  trailtui marks [PATH ...] [--format md|csv|ndjson] [--output BASE]   the incident timeline of your marks

Filter examples: 'name:GetObject is:anonymous', 'actor:*alice* -error:*', 'ip:203.0.113.0/24'.
Press ? in the app for every key and the whole filter grammar."""


def _add_s3(parser: argparse.ArgumentParser, *, window: bool = True) -> None:
    """Options for ``s3://`` paths (and the time window, which also prunes their listing)."""
    if window:
        parser.add_argument("--since", metavar="TIME",
                            help="only events from TIME on (UTC ISO 8601, or -2h, -7d); for s3:// also lists only those days")
        parser.add_argument("--until", metavar="TIME", help="only events before TIME (a bare date keeps that day)")
    s3 = parser.add_argument_group("S3 (s3://BUCKET[/PREFIX] paths)")
    s3.add_argument("--account", metavar="ID[,ID...]", help="only these accounts' folders of the CloudTrail layout")
    s3.add_argument("--region", metavar="R[,R...]", help="only these regions' folders (us-east-1,eu-west-1)")
    s3.add_argument("--profile", metavar="NAME", help="AWS profile for S3 (default: boto3's credential chain)")
    s3.add_argument("--endpoint-url", metavar="URL", help="an S3-compatible endpoint (MinIO, a local test server)")
    s3.add_argument("--dry-run", action="store_true",
                    help="print the prefixes that would be listed and the objects and bytes to read, then exit")


def _add_follow(parser: argparse.ArgumentParser, what: str) -> None:
    """``--follow`` and ``--interval``: keep reading new deliveries after the first load."""
    parser.add_argument("--follow", action="store_true",
                        help=f"keep following new deliveries: {what} (local trees: watched and rescanned; "
                             "s3://: today's folders polled), until Ctrl+C")
    parser.add_argument("--interval", type=float, metavar="SECONDS",
                        help="with --follow: seconds between S3 polls (default 60; local trees are also "
                             "rescanned at least every 10 s)")


def _follow_interval(parser: argparse.ArgumentParser, args) -> float | None:
    """The follow interval in seconds (None without --follow); a usage error for a bad one."""
    from trailtui.core.sources.follow import DEFAULT_INTERVAL

    if args.interval is not None and not args.follow:
        parser.error("--interval goes with --follow")
    if args.interval is not None and not args.interval > 0:
        parser.error("--interval must be more than 0 seconds")
    if not args.follow:
        return None
    return DEFAULT_INTERVAL if args.interval is None else args.interval


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
    browse.add_argument("--rules", "-r", metavar="PATH", action="append", default=[],
                        help="Sigma rules to run besides the built-in pack (a file or folder; repeatable): D shows "
                        "the detections")
    _add_follow(browse, "new events join the list while you read")
    _add_s3(browse)
    _add_common(browse)

    index = argparse.ArgumentParser(prog="trailtui index", description="Build or update the index without the UI.")
    index.add_argument("paths", nargs="+", metavar="PATH")
    index.add_argument("--verbose", "-v", action="store_true", help="name every skipped file and its reason")
    _add_follow(index, "one line per delivery")
    _add_s3(index)
    _add_common(index)

    query = argparse.ArgumentParser(prog="trailtui query", description="Index as needed, then print matching events.")
    query.add_argument("paths", nargs="*", metavar="PATH")
    query.add_argument("--filter", "-f", metavar="EXPR", default="", help="filter expression (see README)")
    query.add_argument("--preset", "-p", metavar="NAME", help="start from a preset filter (--list-presets); --filter terms are ANDed")
    query.add_argument("--since", metavar="TIME", help="only events from TIME on (UTC ISO 8601, or -2h, -7d): since:TIME")
    query.add_argument("--until", metavar="TIME", help="only events before TIME (a bare date keeps that day): until:TIME")
    query.add_argument("--list-presets", action="store_true", help="list the presets (name, title, why) and exit")
    query.add_argument("--format", choices=("table", "csv", "json", "ndjson"), default="table")
    query.add_argument("--limit", type=int, metavar="N", help="print at most N events")
    query.add_argument("--count", action="store_true", help="print only the number of matching events")
    query.add_argument("--oldest-first", action="store_true", help="oldest events first (default newest first)")
    _add_follow(query, "then each new matching event is printed as it arrives (csv or ndjson)")
    _add_s3(query, window=False)
    _add_common(query)
    return browse, index, query


def build_marks_parser() -> argparse.ArgumentParser:
    """The ``marks`` subcommand's parser: print or write the incident timeline."""
    marks = argparse.ArgumentParser(
        prog="trailtui marks",
        description="Print the incident timeline: the events you marked (m in the app), oldest first, with your "
        "notes. With PATH the logs are indexed first (as 'query' does); without it the index of --db (or of the "
        "current directory) is read as it is.",
    )
    marks.add_argument("paths", nargs="*", metavar="PATH", help="the log files or directories you opened in the app")
    marks.add_argument("--format", choices=("md", "csv", "ndjson"), default=None,
                       help="md: a Markdown table (default); csv: the same columns; ndjson: the original events")
    marks.add_argument("--output", "-o", metavar="BASE",
                       help="write BASE.md, BASE.csv and BASE.ndjson (the originals) instead of printing")
    _add_common(marks)
    return marks


def build_detect_parser() -> argparse.ArgumentParser:
    """The ``detect`` subcommand's parser: run Sigma rules over the index and print the hits."""
    from trailtui.core.detect.report import FORMATS
    from trailtui.core.detect.rules import LEVELS

    detect = argparse.ArgumentParser(
        prog="trailtui detect",
        description="Index as needed, run the Sigma rules (the built-in pack, the rules directory beside the "
        "config file, and every --rules path) over every event, and print the hits. The results are kept in the "
        "index: the app's Detections view (D) shows them. The --rules paths are remembered by the index: a later "
        "detect or the app on the same logs runs them again unless given others.",
    )
    detect.add_argument("paths", nargs="+", metavar="PATH")
    detect.add_argument("--rules", "-r", metavar="PATH", action="append", default=[],
                        help="a Sigma rule file or a folder of them (repeatable), e.g. SigmaHQ's "
                        "rules/cloud/aws/cloudtrail")
    detect.add_argument("--no-builtin", action="store_true", help="leave out the built-in rule pack")
    detect.add_argument("--level", choices=LEVELS, default="informational",
                        help="print rules of this level and above (default: every level)")
    detect.add_argument("--format", choices=FORMATS, default="table",
                        help="table: one line per rule with hits; csv, ndjson: one line per hit; json: rules with "
                        "their hits")
    _add_s3(detect, window=False)
    _add_common(detect)
    return detect


def _add_athena_query(parser: argparse.ArgumentParser) -> None:
    """The query options of ``athena sql`` and ``athena run``."""
    from trailtui.core.athena.ddl import DEFAULT_TABLE

    parser.add_argument("--filter", "-f", metavar="EXPR", default="", help="the filter (the grammar of trailtui query)")
    parser.add_argument("--since", metavar="TIME", help="since:TIME, ANDed (also the day partitions read)")
    parser.add_argument("--until", metavar="TIME", help="until:TIME, ANDed")
    parser.add_argument("--account", "--accounts", dest="account", metavar="ID[,ID...]", required=True,
                        help="the accounts to read (the account partition)")
    parser.add_argument("--region", "--regions", dest="region", metavar="R[,R...]", required=True,
                        help="the Regions to read (the region partition)")
    parser.add_argument("--table", default=DEFAULT_TABLE, help=f"the table of athena ddl (default {DEFAULT_TABLE})")
    parser.add_argument("--limit", type=int, metavar="N", help="LIMIT N (none by default)")
    parser.add_argument("--late-days", type=int, default=1, metavar="N",
                        help="day folders read after the window's last day, for late deliveries (default 1)")


def build_athena_parser() -> argparse.ArgumentParser:
    """The ``athena`` subcommand's parser: ``athena ddl`` prints the Athena table of a trail."""
    from trailtui.core.athena.ddl import DEFAULT_FIRST_DAY, DEFAULT_TABLE

    athena = argparse.ArgumentParser(
        prog="trailtui athena",
        description="When the logs outgrow one machine: ask Amazon Athena. 'ddl' prints the CREATE EXTERNAL "
        "TABLE of the Athena user guide's CloudTrail table over a trail's S3 delivery, with partition projection "
        "on account, Region and day.",
    )
    commands = athena.add_subparsers(dest="athena_command", metavar="COMMAND", required=True)
    ddl = commands.add_parser("ddl", help="print the CREATE EXTERNAL TABLE of a trail's delivery")
    ddl.add_argument("url", metavar="s3://BUCKET/AWSLogs/[o-ORG/]", help="the trail's AWSLogs/ folder (or an "
                     "organization's folder in it)")
    ddl.add_argument("--table", default=DEFAULT_TABLE, help=f"the table's name (default {DEFAULT_TABLE})")
    ddl.add_argument("--accounts", "--account", dest="account", metavar="ID[,ID...]",
                     help="the accounts it covers (default: the account folders found by listing)")
    ddl.add_argument("--regions", "--region", dest="region", metavar="R[,R...]",
                     help="the Regions it covers (default: the Region folders found by listing)")
    ddl.add_argument("--first-day", default=DEFAULT_FIRST_DAY, metavar="YYYY/MM/DD",
                     help=f"the first day of the day projection (default {DEFAULT_FIRST_DAY})")
    ddl.add_argument("--profile", metavar="NAME", help="AWS profile for the listing (default: boto3's credential chain)")
    ddl.add_argument("--endpoint-url", metavar="URL", help="an S3-compatible endpoint (a local test server)")
    sql = commands.add_parser("sql", help="print the Athena SQL of a filter (notes on stderr)")
    _add_athena_query(sql)
    run = commands.add_parser("run", parents=[], help="run the filter in Athena, download exactly the files it "
                              "found, and browse them (or print them with --no-ui)")
    _add_athena_query(run)
    run.add_argument("--database", default="default", help="the Glue database of the table (default: default)")
    run.add_argument("--workgroup", metavar="WG", help="the Athena workgroup (default: primary)")
    run.add_argument("--output", metavar="s3://...", help="where Athena writes results (default: the workgroup's)")
    run.add_argument("--no-ui", action="store_true", help="print the matching events instead of opening the app")
    run.add_argument("--format", choices=("table", "csv", "json", "ndjson"), default="table", help="with --no-ui")
    run.add_argument("--athena-region", metavar="REGION", help="the Region Athena runs in (default: the profile's)")
    run.add_argument("--profile", metavar="NAME", help="AWS profile (default: boto3's credential chain)")
    run.add_argument("--endpoint-url", metavar="URL", help="an Athena- and S3-compatible endpoint (a local test server)")
    _add_common(run)
    return athena


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    argv = _join_negated_filters(list(sys.argv[1:] if argv is None else argv))
    browse, index, query = build_parsers()
    try:
        if argv and argv[0] == "index":
            return _cmd_index(index, index.parse_args(argv[1:]))
        if argv and argv[0] == "query":
            return _cmd_query(query, query.parse_args(argv[1:]))
        if argv and argv[0] == "detect":
            detect = build_detect_parser()
            return _cmd_detect(detect, detect.parse_args(argv[1:]))
        if argv and argv[0] == "athena":
            athena = build_athena_parser()
            return _cmd_athena(athena, athena.parse_args(argv[1:]))
        if argv and argv[0] == "marks":
            marks = build_marks_parser()
            return _cmd_marks(marks, marks.parse_args(argv[1:]))
        return _cmd_browse(browse, browse.parse_args(argv))
    except KeyboardInterrupt:
        print("trailtui: interrupted; what was indexed so far is kept", file=sys.stderr)
        return EXIT_INTERRUPTED
    except sqlite3.Error as err:  # the index failed while being read (damaged, its disk gone)
        return _index_failed(err, None)
    except SystemExit as exit_:
        # argparse and the usage checks below end with SystemExit; a caller of main() gets a code.
        return exit_.code if isinstance(exit_.code, int) else EXIT_USAGE


_VALUE_OPTIONS = frozenset(("--filter", "-f", "--since", "--until"))


def _join_negated_filters(argv: list[str]) -> list[str]:
    """``--filter -is:anonymous`` as the user meant it: argparse would read a value starting with
    ``-`` as an option, so such a value is joined to its option (``--filter=-is:anonymous``)."""
    joined: list[str] = []
    position = 0
    while position < len(argv):
        arg = argv[position]
        following = argv[position + 1] if position + 1 < len(argv) else None
        if arg in _VALUE_OPTIONS and following is not None and following.startswith("-") and following != "--":
            joined.append(f"{'--filter' if arg == '-f' else arg}={following}")  # --since -2d too
            position += 2
            continue
        joined.append(arg)
        position += 1
    return joined


def _db_path(args, paths: list[str]) -> Path:
    from trailtui.core.store.index import default_db_path

    return Path(args.db).expanduser() if args.db else default_db_path(paths)


def _open_writer(db_path: Path):
    from trailtui.core.store.index import IndexError_, connect

    try:
        return connect(db_path)
    except IndexError_ as err:
        print(f"trailtui: {err}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE) from None


def _check_paths(paths: list[str]) -> None:
    """Exit 2 naming the first path that does not exist (or an S3 URL without a bucket)."""
    from trailtui.core.sources.s3 import S3SourceError, is_s3_url, parse_s3_url
    from trailtui.core.text import printable

    for path in paths:
        if is_s3_url(path):
            try:
                parse_s3_url(path)
            except S3SourceError as err:
                print(f"trailtui: {printable(str(err))}", file=sys.stderr)
                raise SystemExit(EXIT_USAGE) from None
        elif not Path(path).expanduser().exists():
            print(f"trailtui: {printable(path)}: no such file or directory", file=sys.stderr)
            raise SystemExit(EXIT_USAGE)


def _s3_options(args, *, since: str | None = None, until: str | None = None):
    """The S3Options the command line gives (the window resolved to UTC ISO-8601 text); exits 2
    on a malformed --account, --region or time."""
    from trailtui.core.filter import FilterError, parse_time
    from trailtui.core.text import printable
    from trailtui.core.sources import layout
    from trailtui.core.sources.s3 import S3Options

    def listed(text: str | None, form, what: str, expected: str) -> tuple[str, ...]:
        values = tuple(value.strip() for value in (text or "").split(",") if value.strip())
        for value in values:
            if not form.match(value):
                print(f"trailtui: {what} {printable(value)}: expected {expected}", file=sys.stderr)
                raise SystemExit(EXIT_USAGE)
        return values

    def moment(text: str | None, option: str) -> str | None:
        if not text:
            return None
        try:
            return parse_time(text)
        except FilterError as err:
            print(f"trailtui: {option} {printable(text)}: {err}", file=sys.stderr)
            raise SystemExit(EXIT_USAGE) from None

    return S3Options(
        since=moment(since if since is not None else getattr(args, "since", None), "--since"),
        until=moment(until if until is not None else getattr(args, "until", None), "--until"),
        accounts=listed(args.account, layout.ACCOUNT_ID, "--account", "a 12-digit AWS account ID (111122223333)"),
        regions=listed(args.region, layout.REGION, "--region", "an AWS Region name (us-east-1, eu-west-2)"),
        profile=getattr(args, "profile", None),
        endpoint_url=getattr(args, "endpoint_url", None),
    )


def _scope_filter(options) -> str:
    """The filter terms ``--account`` and ``--region`` stand for (``recipientAccountId``,
    ``awsRegion``; several values OR'd): an S3 listing reads only their folders, but the index
    may hold other accounts' and Regions' events from earlier runs or other paths. Events of
    eventVersion 1.01 have no ``recipientAccountId``: for them the caller's account stands in."""
    from trailtui.core.filter.terms import and_text, field_term

    accounts = " OR ".join(f"{field_term('recipientAccountId', account)} OR "
                           f"(-recipientAccountId:* {field_term('account', account)})" for account in options.accounts)
    regions = " OR ".join(field_term("awsRegion", region) for region in options.regions)
    return and_text(accounts, regions)


def _dry_run(paths: list[str], options, db_path: Path) -> int:
    """``--dry-run``: what an S3 source would list and download into the index at ``db_path``
    (objects it holds unchanged are not downloaded again); nothing is downloaded or written."""
    from trailtui.core.sources.s3 import S3SourceError, is_s3_url, list_objects, make_client, parse_s3_url
    from trailtui.core.text import plural, printable

    remote = [path for path in paths if is_s3_url(path)]
    if not remote:
        print("trailtui: --dry-run is for s3:// paths (local files are read where they are)", file=sys.stderr)
        return EXIT_USAGE
    try:
        client = make_client(options)
        for path in remote:
            listing = list_objects(client, parse_s3_url(path), options)
            for prefix in listing.listed:
                whole = " (not CloudTrail's layout: listed whole)" if prefix in listing.whole else ""
                print(f"list {printable(prefix)}{whole}")
            for where, message in listing.problems:
                print(f"error: {printable(where)}: {printable(message)}", file=sys.stderr)
            unchanged = _indexed_objects(db_path, listing.objects)
            fetch = [obj for obj in listing.objects if obj.url not in unchanged]
            print(f"{printable(path)}: {plural(len(listing.objects), 'object')} ({listing.bytes:,} bytes) listed in "
                  f"{plural(listing.requests, 'request')}; would download {len(fetch):,} "
                  f"({sum(obj.size for obj in fetch):,} bytes), {len(unchanged):,} already in {printable(str(db_path))}")
    except S3SourceError as err:
        print(f"trailtui: {printable(str(err))}", file=sys.stderr)
        return EXIT_USAGE
    print("dry run: nothing was downloaded or indexed")
    return EXIT_OK


def _indexed_objects(db_path: Path, objects) -> set[str]:
    """URLs of ``objects`` the index at ``db_path`` holds as they are now (same size and ETag,
    cached copy present): what a load would not download again. Read-only; empty when there is
    no index (or it cannot be read)."""
    import sqlite3

    from trailtui.core.loader import object_unchanged, recorded_files
    from trailtui.core.sources.s3 import cache_root

    if not db_path.exists():
        return set()
    try:
        conn = sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            known = recorded_files(conn)
        finally:
            conn.close()
    except sqlite3.Error:
        return set()
    root = cache_root(db_path)
    return {obj.url for obj in objects if object_unchanged(known.get(obj.url), obj, root)}


def _under(path: str, given: list[str]) -> bool:
    """The indexed ``path`` (a file's absolute path, or an object's ``s3://`` URL) is one of
    ``given`` (as the user wrote them) or under one of them."""
    from trailtui.core.sources.s3 import is_s3_url

    for root in given:
        root = root if is_s3_url(root) else str(Path(root).expanduser().absolute())
        if path == root or path.startswith(root.rstrip("/") + "/"):
            return True
    return False


def _run_index(paths: list[str], db_path: Path, *, quiet: bool = False, s3_options=None, s3_lister=None):
    """Index ``paths`` with progress on stderr; returns the LoadSummary. Exits 2 on a bad path
    or an S3 source that cannot be used (no credentials). ``s3_lister``: lists the S3 URLs
    instead of the layout-aware listing (``athena run``: exactly the objects it found)."""
    from trailtui.core.discover import InputPathError
    from trailtui.core.loader import DecoderStopped, default_workers, index_paths
    from trailtui.core.sources.s3 import S3SourceError

    _check_paths(paths)
    conn = _open_writer(db_path)
    progress = _Progress(enabled=not quiet)
    try:
        summary = index_paths(conn, paths, on_progress=progress.update, workers=default_workers(interactive=False),
                              s3_options=s3_options, s3_lister=s3_lister)
    except (InputPathError, S3SourceError) as err:
        from trailtui.core.text import printable

        progress.close()
        print(f"trailtui: {printable(str(err))}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE) from None
    except (sqlite3.Error, OSError) as err:  # a full disk, a read-only file, a damaged index
        conn.close()
        raise SystemExit(_index_failed(err, db_path)) from None
    except DecoderStopped as err:  # what was merged stays; the next run reads the rest
        from trailtui.core.text import printable

        conn.close()
        progress.close()
        print(f"trailtui: {printable(str(err))}", file=sys.stderr)
        raise SystemExit(EXIT_PARTIAL) from None
    finally:
        progress.close()
    return conn, summary


def _index_failed(err: BaseException, db_path: Path | None) -> int:
    """Say why the index could not be written or read (no traceback) and what to do; a damaged
    index in the cache directory is removed so the next run rebuilds it. Returns exit code 2."""
    from trailtui.core.store.index import describe_write_error, discard_damaged, is_damaged
    from trailtui.core.text import printable

    if db_path is not None and is_damaged(err) and discard_damaged(db_path):
        message = f"the index {db_path} was damaged ({err}) and is removed: run the command again to rebuild it"
    else:
        message = describe_write_error(err, db_path)
    print(f"trailtui: {printable(message)}", file=sys.stderr)
    return EXIT_USAGE


#: Loader phases with no per-file progress, shown by name (see loader.LoadProgress.phase).
_STEP_PHASES = ("merging duplicate eventIDs", "building indexes", "indexing free text")


class _Progress:
    """Indexing progress on stderr: a rich progress bar on a terminal, plain lines otherwise."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.bar = None
        self.task = None
        self.last_line = 0.0
        self.last_phase = ""
        self.noted = ""  # the listing notes printed so far
        if enabled and sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self.bar = Progress(
                TextColumn("{task.fields[phase]}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("files · {task.fields[events]:,} events · {task.fields[rate]:,.0f}/s{task.fields[s3]}"),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self.bar.start()
            self.task = self.bar.add_task("index", total=None, events=0, rate=0.0, phase="indexing", s3="")

    def update(self, progress) -> None:
        fresh = progress.listing_note_after(self.noted)
        if fresh:
            # Shown by query too (which shows no progress): it is about what is (not) about to be downloaded.
            self.noted = progress.listing_note
            from trailtui.core.text import printable

            line = f"trailtui: note: {printable(fresh)}"
            if self.bar is not None:
                self.bar.console.print(line, markup=False, highlight=False)
            else:
                print(line, file=sys.stderr)
        if not self.enabled:
            return
        phase_before, self.last_phase = self.last_phase, progress.phase
        from trailtui.core.text import plural

        if self.bar is not None:
            self.bar.update(
                # No total (so no time left) while an S3 listing still adds to it.
                self.task, total=None if progress.s3_listing else progress.files_total, completed=progress.files_done,
                events=progress.events_added, rate=progress.rate,
                s3=f" · {progress.download_note}" if progress.download_note else "",
                phase=progress.phase if progress.phase in _STEP_PHASES else "indexing",
            )
        elif progress.phase in _STEP_PHASES:
            if progress.phase != phase_before:  # once per phase: each step reports progress
                print(f"indexing: {_step_line(progress)}", file=sys.stderr)
        elif progress.elapsed - self.last_line >= 2.0 or progress.phase == "done":
            self.last_line = progress.elapsed
            print(
                f"indexing: {progress.files_done:,}/{plural(progress.files_total, 'file')}, "
                f"{plural(progress.events_added, 'event')}, {progress.rate:,.0f} events/s"
                + (f", {progress.download_note}" if progress.download_note else ""),
                file=sys.stderr,
            )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def _step_line(progress) -> str:
    """What a loader phase without per-file progress is doing, for a plain-text log."""
    from trailtui.core.text import plural

    if progress.phase == "merging duplicate eventIDs":
        return f"{plural(progress.events_added, 'event')} read, merging duplicate eventIDs"
    if progress.phase == "building indexes":
        return (f"{plural(progress.events_added, 'event')} after merging {plural(progress.duplicates, 'duplicate')}, "
                "building the filter indexes")
    return f"every field filter is ready; indexing free text ({plural(progress.fts_total, 'event')})"


def _report_problems(summary, stream) -> None:
    from trailtui.core.text import printable

    for path, reason in summary.failures:
        print(f"error: {printable(path)}: {printable(reason)}", file=stream)
    for path, position, message in summary.record_problems:
        print(f"error: {printable(path)}: {printable(position)}: {printable(message)}", file=stream)


def _explain_if_empty(conn, paths: list[str]) -> None:
    """On stderr, why ``paths`` gave no events (what was found, what trailtui reads, --demo)."""
    from trailtui.core.summary import empty_explanation, index_summary

    explanation = empty_explanation(index_summary(conn), paths)
    if explanation:
        print(explanation, file=sys.stderr)


def _cmd_index(parser: argparse.ArgumentParser, args) -> int:
    from trailtui.core.text import plural, printable

    interval = _follow_interval(parser, args)
    options = _s3_options(args)
    if args.dry_run:
        return _dry_run(args.paths, options, _db_path(args, args.paths))
    db_path = _db_path(args, args.paths)
    conn, summary = _run_index(args.paths, db_path, s3_options=options)
    for notice in summary.notices:
        print(f"notice: {notice}")
    print(f"index: {db_path}")
    print(
        f"files: {summary.files_total} found, {summary.files_read} read, {summary.files_unchanged} unchanged, "
        f"{summary.files_skipped} skipped, {summary.files_failed} failed"
        + (f", {summary.files_removed} removed" if summary.files_removed else "")
    )
    print(
        f"events: {summary.events_added:,} added, {plural(summary.duplicates, 'duplicate')} merged, "
        f"{plural(summary.record_errors, 'bad record')}, {summary.events_total:,} in the index "
        f"({summary.elapsed:.1f} s, {summary.rate:,.0f} events/s)"
    )
    if summary.skips:
        reasons: dict[str, int] = {}
        for _, reason in summary.skips:
            reasons[reason] = reasons.get(reason, 0) + 1
        print("skipped: " + "; ".join(f"{count} {printable(reason)}" for reason, count in sorted(reasons.items())))
        if args.verbose:
            for path, reason in summary.skips:
                print(f"skipped: {printable(path)}: {printable(reason)}")
    # Files under these paths that an earlier run skipped (not read again): named, not only counted.
    named = {path for path, _ in summary.skips}
    earlier_skips = [(path, reason) for path, reason in
                     conn.execute("SELECT path, reason FROM files WHERE outcome = 'skipped' ORDER BY path")
                     if path not in named and _under(path, args.paths)]
    if earlier_skips and args.verbose:
        for path, reason in earlier_skips:
            print(f"skipped by an earlier run: {printable(path)}: {printable(reason or 'skipped')}")
    elif earlier_skips:
        print(f"skipped by an earlier run: {plural(len(earlier_skips), 'file')} (-v names them)")
    _report_problems(summary, sys.stderr)
    earlier = _earlier_problems(conn, summary)
    _explain_if_empty(conn, args.paths)
    if interval is not None:
        sys.stdout.flush()

        def delivered(round_summary, error: str | None) -> None:
            if error is not None:
                print(f"trailtui: following: {printable(error)}", file=sys.stderr)
                return
            _report_problems(round_summary, sys.stderr)
            if round_summary.files_read or round_summary.files_failed or round_summary.files_skipped:
                print(f"{_now_text()} +{plural(round_summary.events_added, 'event')} from "
                      f"{plural(round_summary.files_read, 'file')} ({round_summary.events_total:,} in the index)",
                      flush=True)

        print(f"following {len(args.paths)} path(s); Ctrl+C stops", file=sys.stderr)
        _follow(conn, db_path, args.paths, options, interval, delivered)
    conn.close()
    return EXIT_PARTIAL if summary.failures or summary.record_problems or earlier else EXIT_OK


def _now_text() -> str:
    """Now as UTC ISO-8601 to the second (``2026-12-01T04:40:12Z``)."""
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _follow(conn, db_path: Path, paths: list[str], options, interval: float, on_round) -> None:
    """Follow new deliveries into ``conn`` until Ctrl+C (KeyboardInterrupt propagates); an
    index that cannot be written any more ends it with exit 2."""
    from trailtui.core.loader import default_workers
    from trailtui.core.sources.follow import Follower, follow

    follower = Follower(paths, s3_options=options, interval=interval, db_path=db_path)
    try:
        follow(conn, follower, on_round=on_round, workers=default_workers(interactive=False))
    except (sqlite3.Error, OSError) as err:
        conn.close()
        raise SystemExit(_index_failed(err, db_path)) from None
    finally:
        follower.close()


def _earlier_problems(conn, summary, shown: int = 50) -> int:
    """Report the problems an earlier run recorded in files this run did not re-read (they are
    unchanged, so still bad): a rerun must not look clean. Returns how many there are."""
    from trailtui.core.query import load_problems
    from trailtui.core.text import printable

    reported = {path for path, _ in summary.failures} | {path for path, _, _ in summary.record_problems}
    earlier = [problem for problem in load_problems(conn) if problem.path not in reported]
    for problem in earlier[:shown]:
        where = f"{printable(problem.position)}: " if problem.position else ""
        print(f"error (unchanged since it was indexed): {printable(problem.path)}: {where}{printable(problem.message)}",
              file=sys.stderr)
    if len(earlier) > shown:
        print(f"... and {len(earlier) - shown} more (the app's ! view lists them all)", file=sys.stderr)
    return len(earlier)


def _cmd_query(parser: argparse.ArgumentParser, args) -> int:
    from trailtui.core.export import write_events
    from trailtui.core.filter.terms import field_term as term
    from trailtui.core.filter.terms import and_text
    from trailtui.core.filter import FilterError, compile_filter
    from trailtui.core.store.originals import OriginalUnavailable
    from trailtui.core.presets import UnknownPreset, get_preset, preset_filter
    from trailtui.core.query import EventQuery
    from trailtui.core.text import printable

    if args.list_presets:
        try:
            _list_presets(sys.stdout)
            sys.stdout.flush()
        except BrokenPipeError:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    if not args.paths:
        parser.error("the following arguments are required: PATH")
    columns = None
    options = _s3_options(args, since=args.since, until=args.until)
    text = and_text(args.filter, _scope_filter(options))
    if args.preset:
        try:
            preset = get_preset(args.preset)
        except UnknownPreset as err:
            print(f"trailtui: {printable(str(err))}", file=sys.stderr)
            return EXIT_USAGE
        text = preset_filter(preset, since=args.since, until=args.until, extra=text)
        columns = preset.columns
    else:
        text = and_text(text, *(term(name, value) for name, value in (("since", args.since), ("until", args.until)) if value))
    try:
        compiled = compile_filter(text)
    except FilterError as err:
        _print_filter_error(text, err)
        return EXIT_USAGE
    if args.limit is not None and args.limit < 0:
        parser.error("--limit must be 0 or more")
    interval = _follow_interval(parser, args)
    if interval is not None and (args.format in ("json", "csv") or args.count):
        parser.error("--follow prints events as they arrive: --format ndjson (or table), not json, csv or --count")
    if args.dry_run:
        return _dry_run(args.paths, options, _db_path(args, args.paths))
    db_path = _db_path(args, args.paths)
    conn, summary = _run_index(args.paths, db_path, quiet=True, s3_options=options)
    for notice in summary.notices:  # e.g. the index was rebuilt
        print(f"trailtui: notice: {notice}", file=sys.stderr)
    out = sys.stdout
    if interval is not None:
        return _query_follow(conn, db_path, args, compiled, columns, summary, options, interval)
    query = EventQuery(conn, compiled, newest_first=not args.oldest_first)
    try:
        if args.count:
            print(query.count(), file=out)
        else:
            write_events(query, args.format, out, columns=columns, limit=args.limit, terminal=out.isatty())
        out.flush()
    except BrokenPipeError:
        # `trailtui query ... | head`: the reader left; that is not an error.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except OriginalUnavailable as err:
        print(f"trailtui: {printable(str(err))}", file=sys.stderr)
        return EXIT_PARTIAL
    _report_problems(summary, sys.stderr)
    _explain_if_empty(conn, args.paths)
    return EXIT_PARTIAL if summary.failures or summary.record_problems else EXIT_OK


def _cmd_detect(parser: argparse.ArgumentParser, args) -> int:
    """``trailtui detect``: index, run every rule, print the detections (see
    :func:`build_detect_parser`). Exit 3 when some inputs or rules could not be used."""
    from trailtui.core.detect.report import write_detections
    from trailtui.core.detect.rules import PACK_DIR, load_rules, rule_sources
    from trailtui.core.detect.runner import detections, rule_paths_for, run_rules
    from trailtui.core.store.index import indexing_lock
    from trailtui.core.store.originals import OriginalUnavailable
    from trailtui.core.text import printable

    for given in args.rules:
        if not Path(given).expanduser().exists():
            parser.error(f"--rules {printable(given)}: no such file or directory")
    options = _s3_options(args)
    if args.dry_run:
        return _dry_run(args.paths, options, _db_path(args, args.paths))
    db_path = _db_path(args, args.paths)
    conn, summary = _run_index(args.paths, db_path, quiet=True, s3_options=options)
    for notice in summary.notices:
        print(f"trailtui: notice: {notice}", file=sys.stderr)
    with indexing_lock(conn):
        sources = rule_sources(rule_paths_for(conn, args.rules))
        if args.no_builtin:
            sources = [source for source in sources if Path(source).parent != PACK_DIR]
        rules, problems = load_rules(sources)
        _report_rule_problems(problems, sys.stderr)
        run = run_rules(conn, rules)
    for title, reason in run.problems:
        print(f"trailtui: rule failed: {printable(title)}: {printable(reason)}", file=sys.stderr)
    found = detections(conn, min_level=args.level)
    out = sys.stdout
    try:
        write_detections(conn, found, args.format, out)
        out.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except OriginalUnavailable as err:
        print(f"trailtui: {printable(str(err))}", file=sys.stderr)
        return EXIT_PARTIAL
    events = conn.execute("SELECT count(*) FROM events").fetchone()[0]
    print(f"trailtui: {len(rules)} rules over {events:,} events in {run.seconds:.1f} s: {len(found)} with hits"
          + (f" at level {args.level} or above" if args.level != "informational" else ""), file=sys.stderr)
    _report_problems(summary, sys.stderr)
    _explain_if_empty(conn, args.paths)
    failed = summary.failures or summary.record_problems or problems or run.problems
    return EXIT_PARTIAL if failed else EXIT_OK


def _report_rule_problems(problems, stream) -> None:
    """Each rule file or rule not used, with its reason (:func:`problem_lines`), on ``stream``."""
    from trailtui.core.detect.rules import problem_lines
    from trailtui.core.text import printable

    for line in problem_lines(problems):
        print(f"trailtui: {printable(line)}", file=stream)


def _cmd_athena(parser: argparse.ArgumentParser, args) -> int:
    """``trailtui athena ddl``: the table on stdout; what was listed, and anything that could
    not be, on stderr. Exit 2 for a URL or value the table cannot be made of, or S3 unusable.
    ``athena sql``: the SQL on stdout, the terms applied locally on stderr; exit 2 for a filter
    the grammar refuses, or a bad account, Region, table or limit."""
    from trailtui.core.athena.ddl import SOURCE_PAGE, DdlError, create_table, discover_partitions, table_location
    from trailtui.core.sources.s3 import S3SourceError, make_client
    from trailtui.core.text import printable

    if args.athena_command == "sql":
        return _athena_sql(args)
    if args.athena_command == "run":
        return _athena_run(args)
    options = _s3_options(args)
    try:
        where = table_location(args.url)
        accounts, regions = list(options.accounts), list(options.regions)
        if not accounts or not regions:
            found_accounts, found_regions, listing = discover_partitions(make_client(options), where, options)
            for prefix, message in listing.problems:
                print(f"trailtui: could not list {printable(prefix)}: {printable(message)}", file=sys.stderr)
            accounts, regions = accounts or found_accounts, regions or found_regions
            print(f"trailtui: found {len(found_accounts)} account(s) and {len(found_regions)} Region(s) under "
                  f"{printable(where.location)} ({listing.requests} listing requests)", file=sys.stderr)
        sys.stdout.write(create_table(where, accounts=accounts, regions=regions, table=args.table,
                                      first_day=args.first_day))
        print(f"trailtui: the CloudTrail table of the Athena user guide ({SOURCE_PAGE}), partitioned by account, "
              "Region and day as CloudTrail delivers (partition projection: no MSCK REPAIR needed)", file=sys.stderr)
    except (DdlError, S3SourceError) as err:
        print(f"trailtui: {printable(str(err))}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK


def _athena_query(args, *, now=None, paths_only: bool = False):
    """The filter text and :class:`AthenaQuery` of ``athena sql``/``run``'s options (``now``:
    the moment relative times count back from), with its notes on stderr; exits 2 for a filter
    or value that cannot be queried."""
    from trailtui.core.athena.sql import athena_query
    from trailtui.core.filter import FilterError
    from trailtui.core.filter.terms import and_text, field_term
    from trailtui.core.text import printable

    options = _s3_options(args)  # checks the accounts, Regions and times
    text = and_text(args.filter, *(field_term(name, value) for name, value in (("since", args.since),
                                                                               ("until", args.until)) if value))
    try:
        query = athena_query(text, accounts=list(options.accounts), regions=list(options.regions), table=args.table,
                             limit=args.limit, late_days=args.late_days, now=now, paths_only=paths_only)
    except FilterError as err:
        _print_filter_error(text, err)
        raise SystemExit(EXIT_USAGE) from None
    except ValueError as err:
        print(f"trailtui: {printable(str(err))}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE) from None
    for note in query.notes:
        print(f"trailtui: athena: {printable(note)}", file=sys.stderr)
    return text, query


def _athena_sql(args) -> int:
    """``trailtui athena sql`` (see :func:`_cmd_athena`)."""
    _, query = _athena_query(args)
    sys.stdout.write(query.sql)
    return EXIT_OK


def _athena_run(args) -> int:
    """``trailtui athena run``: the query in Athena (state, data scanned and cost on stderr;
    Ctrl+C stops it, exit 130), then exactly the objects its ``"$path"`` names downloaded and
    indexed, then the app on them with the whole filter (``--no-ui``: the matching events
    printed as ``query`` prints them). Exit 2 when the query cannot run, 3 when some objects
    could not be read."""
    from datetime import datetime, timezone

    from trailtui.core.athena.run import AthenaRunError, ExactObjects, make_athena_client, run_query
    from trailtui.core.sources.s3 import S3Options, make_client
    from trailtui.core.text import printable

    now = datetime.now(timezone.utc)  # one moment for Athena's SQL and the local filter
    text, query = _athena_query(args, now=now, paths_only=True)

    def show(progress) -> None:
        print(f"trailtui: athena: {progress.state.lower()} · {progress.scanned / 1e9:,.2f} GB scanned · "
              f"${progress.cost:,.4f} · {progress.seconds:.0f} s", file=sys.stderr)

    try:
        client = make_athena_client(args.profile, args.endpoint_url, args.athena_region)
        outcome = run_query(client, query.sql, database=args.database, workgroup=args.workgroup, output=args.output,
                            on_progress=show)
    except AthenaRunError as err:
        print(f"trailtui: {printable(str(err))}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("trailtui: interrupted; a query Athena had started was stopped", file=sys.stderr)
        return EXIT_INTERRUPTED
    column = next((name for name in ("$path", '"$path"') if name in outcome.columns), None)
    if column is None:
        print(f"trailtui: the query's result has no \"$path\" column (it has: {printable(', '.join(outcome.columns))})",
              file=sys.stderr)
        return EXIT_USAGE
    paths = sorted(set(outcome.column(column)))
    counted = sum(int(count) for count in outcome.column("events") if count.isdigit()) if "events" in outcome.columns else None
    print(f"trailtui: athena: {len(paths):,} objects hold events that may match"
          + (f" ({counted:,} events)" if counted is not None else ""), file=sys.stderr)
    if not paths:
        return EXIT_OK
    options = S3Options(profile=args.profile, endpoint_url=args.endpoint_url)
    # One index per set of objects found (unless --db): another query's objects do not mix in.
    db_path = _db_path(args, paths)
    conn, summary = _run_index(paths, db_path, quiet=True, s3_options=options,
                               s3_lister=ExactObjects(make_client(options), paths))
    _report_problems(summary, sys.stderr)
    failed = EXIT_PARTIAL if summary.failures or summary.record_problems else EXIT_OK
    if args.no_ui:
        from trailtui.core.export import write_events
        from trailtui.core.filter import compile_filter
        from trailtui.core.query import EventQuery

        write_events(EventQuery(conn, compile_filter(text, now=now), newest_first=True), args.format, sys.stdout,
                     terminal=sys.stdout.isatty())
        conn.close()
        return failed
    conn.close()
    from trailtui.tui.app import TrailApp

    app = TrailApp(db_path=db_path, paths=[], initial_filter=text)  # the index as Athena's files made it
    app.run()
    return app.return_code or failed


def _query_follow(conn, db_path: Path, args, compiled, columns, summary, options, interval: float) -> int:
    """``query --follow``: the matches so far (oldest first; ``--limit N``: the newest N of
    them, 0: none), then each new matching event as it arrives, until Ctrl+C (exit 130) or
    the reader leaves (exit 0)."""
    from dataclasses import replace

    from trailtui.core.export import write_events
    from trailtui.core.news import NewMatches
    from trailtui.core.query import EventQuery
    from trailtui.core.store.originals import OriginalUnavailable
    from trailtui.core.text import printable

    out = sys.stdout
    news = NewMatches(conn, compiled)  # what matches now is not news
    shown = compiled
    if args.limit is not None:
        newest = list(EventQuery(conn, compiled, newest_first=True).iter_ids(args.limit))
        shown = replace(compiled, where="events.id IN (SELECT value FROM json_each(?))",
                        params=("[" + ",".join(map(str, newest)) + "]",))

    def write(selected) -> None:
        try:
            write_events(EventQuery(conn, selected, newest_first=False), args.format, out, columns=columns,
                         terminal=out.isatty())
        except OriginalUnavailable as err:
            print(f"trailtui: {printable(str(err))}", file=sys.stderr)
        out.flush()

    def delivered(round_summary, error: str | None) -> None:
        if error is not None:
            print(f"trailtui: following: {printable(error)}", file=sys.stderr)
            return
        _report_problems(round_summary, sys.stderr)
        arrived = news.take()
        if arrived is not None:
            write(arrived)

    try:
        write(shown)
        _report_problems(summary, sys.stderr)
        _follow(conn, db_path, args.paths, options, interval, delivered)
    except BrokenPipeError:
        # `trailtui query --follow ... | head -1`: the reader left; that is not an error.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return EXIT_OK


def _cmd_marks(parser: argparse.ArgumentParser, args) -> int:
    """``trailtui marks``: the incident timeline on stdout, or its three files with --output."""
    from trailtui.core.incident import export_timeline, write_timeline
    from trailtui.core.store.index import IndexError_, connect
    from trailtui.core.text import printable
    from trailtui.core.userstate import user_state_path

    if args.output and args.format:
        parser.error("--output writes all three formats (md, csv, ndjson); leave --format out")
    db_path = _db_path(args, args.paths or ["."])
    summary = None
    if args.paths:
        conn, summary = _run_index(args.paths, db_path, quiet=True)
        for notice in summary.notices:
            print(f"trailtui: notice: {notice}", file=sys.stderr)
    else:
        if not db_path.exists():
            print(f"trailtui: no index at {printable(str(db_path))}: give the log paths you opened "
                  "(trailtui marks PATH ...) or the index file (--db FILE)", file=sys.stderr)
            return EXIT_USAGE
        try:
            conn = connect(db_path, readonly=True)
        except IndexError_ as err:
            print(f"trailtui: {printable(str(err))}", file=sys.stderr)
            return EXIT_USAGE
    problems: list[str] = []
    try:
        marked = conn.execute("SELECT count(*) FROM user.marks").fetchone()[0]
        if not marked:
            print(f"trailtui: no marked events in {printable(str(user_state_path(db_path)))} "
                  "(press m on an event in the app to mark it)", file=sys.stderr)
        if args.output:
            for path in export_timeline(conn, args.output, on_problem=problems.append):
                print(f"wrote {printable(str(path))}")
        else:
            out = sys.stdout
            problems = write_timeline(conn, args.format or "md", out, terminal=out.isatty())
            out.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except OSError as err:
        print(f"trailtui: cannot write {printable(str(args.output))}: {printable(err.strerror or str(err))}",
              file=sys.stderr)
        return EXIT_USAGE
    finally:
        conn.close()
    for problem in problems:
        print(f"trailtui: warning: {problem}", file=sys.stderr)
    if summary is not None:
        _report_problems(summary, sys.stderr)
        if summary.failures or summary.record_problems:
            return EXIT_PARTIAL
    return EXIT_PARTIAL if problems else EXIT_OK


def _print_filter_error(text: str, err) -> None:
    from trailtui.core.text import printable

    print(f"trailtui: bad filter: {err}", file=sys.stderr)
    print(f"  {printable(text)}", file=sys.stderr)
    print("  " + " " * len(printable(text[: err.position])) + "^", file=sys.stderr)


def _list_presets(out) -> None:
    """``--list-presets``: each preset's name, title, why and filter (escaped), by group."""
    from trailtui.core.presets import PRESETS
    from trailtui.core.text import printable

    groups: dict[str, list] = {}
    for preset in PRESETS:
        groups.setdefault(preset.group, []).append(preset)
    for number, (group, presets) in enumerate(groups.items()):
        print(("\n" if number else "") + f"{printable(group)}:", file=out)
        for preset in presets:
            print(f"  {printable(preset.name):<30} {printable(preset.title)}", file=out)
            print(f"  {'':<30} why: {printable(preset.why)}", file=out)
            print(f"  {'':<30} filter: {printable(preset.filter)}", file=out)
            if preset.time_range:
                print(f"  {'':<30} add --since/--until for the time range", file=out)


def _cmd_browse(parser: argparse.ArgumentParser, args) -> int:
    from trailtui.core.filter import FilterError, compile_filter
    from trailtui.core.text import printable
    from trailtui.core.filter.terms import and_text

    if args.demo:
        if args.paths:
            parser.error("--demo takes no PATH")
        from trailtui.core.demo import write_demo_logs
        from trailtui.core.store.index import cache_dir

        demo_root = cache_dir() / "demo-logs"
        write_demo_logs(demo_root)
        paths = [str(demo_root / "AWSLogs")]
    else:
        paths = args.paths or ["."]
    _check_paths(paths)
    options = _s3_options(args)
    if args.dry_run:
        return _dry_run(paths, options, _db_path(args, paths))
    # The window prunes an S3 listing by day; the exact bounds apply to eventTime as filter terms.
    window = [f"{name}:{value}" for name, value in (("since", options.since), ("until", options.until)) if value]
    initial = and_text(*window, _scope_filter(options), args.filter)
    try:
        compile_filter(initial)
    except FilterError as err:
        _print_filter_error(initial, err)
        return EXIT_USAGE
    db_path = _db_path(args, paths)
    from trailtui.core.store.index import IndexError_, connect

    try:
        connect(db_path).close()  # create (or check) the index before the UI starts
    except IndexError_ as err:
        print(f"trailtui: {err}", file=sys.stderr)
        return EXIT_USAGE
    from trailtui.tui.app import TrailApp

    for given in args.rules:
        if not Path(given).expanduser().exists():
            parser.error(f"--rules {printable(given)}: no such file or directory")
    app = TrailApp(db_path=db_path, paths=paths, initial_filter=initial, s3_options=options,
                   follow_interval=_follow_interval(parser, args), rules=args.rules)
    app.run()
    return app.return_code or EXIT_OK
