"""``trailtui athena sql``: every filter of the grammar tests becomes Trino SQL that parses, whose
columns are the Athena table's (qualified against the schema ``athena ddl`` prints, struct fields
included), calling only the functions allowed; or it is refused exactly where the local compiler
refuses it. Values reach the SQL as literals, whatever they hold; terms Athena cannot run are named
and replaced so that Athena returns a superset; the day partitions follow the time window."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from tests.test_filter import ERROR_CASES, FIELD_CASES, IS_CASES, JSON_CASES, LOGIC_CASES, NOW, TEXT_CASES, TIME_CASES
from trailtui.core.athena.ddl import create_table, table_location
from trailtui.core.athena.sql import athena_query
from trailtui.core.filter import FilterError, compile_filter

sqlglot = pytest.importorskip("sqlglot", reason="sqlglot builds and checks the Athena SQL")
exp = sqlglot.exp
from sqlglot.optimizer.qualify import qualify  # noqa: E402
from sqlglot.schema import MappingSchema  # noqa: E402

ACCOUNTS, REGIONS = ["111122223333"], ["us-east-1"]
DDL = create_table(table_location("s3://b/AWSLogs/"), accounts=ACCOUNTS, regions=REGIONS)
#: The functions (sqlglot's classes, and names it does not model) the SQL may call: nothing that
#: reads another table, runs code or reaches outside the row.
ALLOWED_FUNCTIONS = {exp.And, exp.Or, exp.Not, exp.Translate, exp.Coalesce, exp.Nullif, exp.Case, exp.If,
                     exp.JSONExtractScalar, exp.JSONExtract, exp.JSONFormat, exp.ArrayContains, exp.TryCast,
                     exp.StrPosition, exp.Anonymous}
ALLOWED_NAMES = {"contains", "strpos", "json_extract_scalar", "json_extract", "json_format"}
FOLD = "TRANSLATE({}, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')"


def ascii_lower(text: str) -> str:
    """Folded as SQLite's NOCASE folds: ASCII capitals only."""
    return "".join(chr(ord(c) + 32) if "A" <= c <= "Z" else c for c in text)


def _columns() -> dict:
    create = sqlglot.parse_one(DDL, read="athena")
    columns = {column.name: column.args["kind"] for column in create.this.expressions if isinstance(column, exp.ColumnDef)}
    partitions = create.find(exp.PartitionedByProperty).this.expressions
    return {**columns, **{column.name: exp.DataType.build("VARCHAR") for column in partitions},
            "$path": exp.DataType.build("VARCHAR")}


COLUMNS = _columns()
SCHEMA = MappingSchema({"cloudtrail_logs": {name: kind.sql("trino") for name, kind in COLUMNS.items()}}, dialect="trino")


def struct_field(kind, name: str):
    """The type of field ``name`` of a STRUCT type, or None."""
    if kind.this != exp.DataType.Type.STRUCT:
        return None
    for member in kind.expressions:
        if member.name.lower() == name:
            return member.args["kind"]
    return None


def check(sql: str) -> None:
    """The SQL parses as Trino, every column and struct field is the table's, every function allowed."""
    tree = sqlglot.parse_one(sql, read="trino")
    qualify(tree.copy(), schema=SCHEMA, dialect="trino", validate_qualify_columns=True)
    for node in tree.find_all(exp.Column):
        parts = [part.name.lower() for part in node.parts]
        kind = COLUMNS.get(parts[0])
        assert kind is not None, f"{parts[0]} is not a column of the table"
        for name in parts[1:]:
            kind = struct_field(kind, name)
            assert kind is not None, f"{'.'.join(parts)}: no field {name} in the table's struct"
    for node in tree.find_all(exp.Func):
        assert type(node) in ALLOWED_FUNCTIONS, f"{type(node).__name__} is not allowed: {node.sql('trino')}"
        if isinstance(node, exp.Anonymous):
            assert node.name.lower() in ALLOWED_NAMES, node.name
    assert not list(tree.find_all(exp.Subquery)) and not list(tree.find_all(exp.Join))
    assert {table.name for table in tree.find_all(exp.Table)} == {"cloudtrail_logs"}


GRAMMAR_FILTERS = sorted({case[0] for cases in (FIELD_CASES, IS_CASES, TIME_CASES, JSON_CASES, TEXT_CASES, LOGIC_CASES)
                          for case in cases})


def checked_or_refused(text: str) -> str | None:
    """The checked SQL of ``text`` (:func:`check`), or None when the local compiler refuses the
    filter, and then athena_query must refuse it too."""
    try:
        compile_filter(text, now=NOW)
    except FilterError:
        with pytest.raises(FilterError):
            athena_query(text, accounts=ACCOUNTS, regions=REGIONS, now=NOW)
        return None
    sql = athena_query(text, accounts=ACCOUNTS, regions=REGIONS, now=NOW).sql
    check(sql)
    return sql


@pytest.mark.parametrize("text", GRAMMAR_FILTERS)
def test_every_grammar_filter_is_athena_sql_on_the_table(text: str) -> None:
    sql = checked_or_refused(text)
    if sql is not None:
        assert sql == athena_query(text, accounts=ACCOUNTS, regions=REGIONS, now=NOW).sql  # deterministic


@pytest.mark.parametrize(("text", "position"), [(case[0], case[1]) for case in ERROR_CASES])
def test_a_filter_the_grammar_refuses_is_refused_at_the_same_place(text: str, position: int) -> None:
    with pytest.raises(FilterError) as caught:
        athena_query(text, accounts=ACCOUNTS, regions=REGIONS, now=NOW)
    assert caught.value.position == position


# (Control characters and bidi marks never reach filter text: terms.write_value writes them as *.)
@pytest.mark.parametrize("value", ["O'Brien", "a\\b", "it's 100%_done", "x' OR '1'='1", "--", "/* c */", "ünïcödé",
                                   "'; DROP TABLE cloudtrail_logs; --"])
def test_values_reach_the_sql_as_literals(value: str) -> None:
    from trailtui.core.filter.terms import field_term

    quoted = value.replace("\\", "\\\\").replace('"', '\\"').replace("*", "\\*")
    for text in (field_term("userAgent", value), f'errorMessage:"*{quoted}*"'):  # exact, then contains
        sql = athena_query(text, accounts=ACCOUNTS, regions=REGIONS, now=NOW).sql
        check(sql)
        literals = {node.this for node in sqlglot.parse_one(sql, read="trino").find_all(exp.Literal) if node.is_string}
        escaped = ascii_lower(value).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        assert ascii_lower(value) in literals or f"%{escaped}%" in literals, (text, literals)


def test_terms_athena_cannot_run_are_named_and_keep_a_superset() -> None:
    query = athena_query('actor:*alice* name:GetObject "exfil" -(is:marked OR error:AccessDenied) user~"^a"',
                         accounts=ACCOUNTS, regions=REGIONS, now=NOW)
    where = sqlglot.parse_one(query.sql, read="trino").args["where"].sql("trino")
    assert f"{FOLD.format('eventname')} = 'getobject'" in where
    # -(is:marked OR error:X): is:marked under one negation becomes FALSE, so the NOT keeps more.
    assert f"CASE WHEN {FOLD.format('errorcode')} = 'accessdenied' THEN FALSE ELSE TRUE END" in where
    named = " ".join(query.notes)
    for term in ("'actor:*alice*'", "'exfil'", "'is:marked'", "'user~"):
        assert term in named
    assert "actor" not in where and "exfil" not in where and "marked" not in where


def test_a_negated_term_keeps_events_without_the_field() -> None:
    """``-bucket:logs`` keeps events without a bucket: CASE, whose ELSE takes a NULL comparison,
    not NOT, which would drop it. Only ASCII capitals are folded, as trailtui folds them:
    ``-message:É`` must not drop a message ``é`` that trailtui keeps."""
    where = sqlglot.parse_one(athena_query("-bucket:logs -message:É", accounts=ACCOUNTS, regions=REGIONS, now=NOW).sql,
                              read="trino").args["where"]
    assert not list(where.find_all(exp.Not))
    cases = list(where.find_all(exp.Case))
    assert len(cases) == 2 and all(case.args["default"] == exp.true() for case in cases)
    assert "'É'" in where.sql("trino") and not list(where.find_all(exp.Lower))


def test_the_day_partitions_follow_the_time_window_and_late_deliveries() -> None:
    """From the window's first day (a folder is never dated before its events) to ``late_days``
    past its last (deliveries come after the events)."""
    now = datetime(2026, 3, 20, 12, 0, tzinfo=timezone.utc)
    query = athena_query("since:2026-03-14T10:00:00Z until:2026-03-15 name:GetObject", accounts=ACCOUNTS,
                         regions=REGIONS, now=now)
    assert query.days == ("2026/03/14", "2026/03/17")  # until:2026-03-15 is before 03-16T00:00
    assert "day BETWEEN '2026/03/14' AND '2026/03/17'" in query.sql
    assert "eventtime >= '2026-03-14T10:00:00Z'" in query.sql and "eventtime < '2026-03-16T00:00:00Z'" in query.sql
    assert any("more than 1 day(s) after" in note for note in query.notes)
    late = athena_query("since:2026-12-31 until:2027-01-01", accounts=ACCOUNTS, regions=REGIONS, now=now, late_days=3)
    assert late.days == ("2026/12/31", "2027/01/05")  # across a year
    relative = athena_query("since:-2d", accounts=ACCOUNTS, regions=REGIONS, now=now)
    assert relative.days == ("2026/03/18", "2026/03/21") and "eventtime >= '2026-03-18T12:00:00Z'" in relative.sql
    until_only = athena_query("until:2026-03-01", accounts=ACCOUNTS, regions=REGIONS, now=now)
    assert until_only.days is None and "day <= '2026/03/03'" in until_only.sql
    assert any("every day folder up to 2026/03/03" in note for note in until_only.notes)
    # The calendar's ends: no bound on that side, not a crash; years keep four digits.
    assert "day <= '1000/01/03'" in athena_query("until:1000-01-01", accounts=ACCOUNTS, regions=REGIONS, now=now).sql
    far = athena_query("since:9999-12-31 until:9999-12-31T12:00:00Z", accounts=ACCOUNTS, regions=REGIONS, now=now)
    assert "day >= '9999/12/31'" in far.sql
    # A bound only inside an OR does not bound the days read: said, not guessed.
    loose = athena_query("since:-2d OR name:x", accounts=ACCOUNTS, regions=REGIONS, now=now)
    assert loose.days is None and any("every day folder" in note for note in loose.notes)
    assert "account IN ('111122223333')" in loose.sql and "region IN ('us-east-1')" in loose.sql


@pytest.mark.parametrize(("accounts", "regions", "table", "limit", "said"), [
    ([], REGIONS, "t", None, "no account"),
    (ACCOUNTS, ["mars-1"], "t", None, "not an AWS Region"),
    (ACCOUNTS, REGIONS, "t; DROP", None, "table name"),
    (ACCOUNTS, REGIONS, "t", -1, "limit"),
])
def test_what_cannot_be_queried_is_said(accounts, regions, table, limit, said) -> None:
    with pytest.raises(ValueError) as caught:
        athena_query("name:x", accounts=accounts, regions=regions, table=table, limit=limit, now=NOW)
    assert said in str(caught.value)


def test_the_command_prints_the_sql_and_the_notes(capsys) -> None:
    from trailtui.cli import main

    code = main(["athena", "sql", "--filter", "name:GetObject actor:*bob*", "--since", "2026-03-14", "--account",
                 "111122223333,444455556666", "--region", "us-east-1", "--table", "trail", "--limit", "50"])
    out, err = capsys.readouterr()
    assert code == 0
    check(out.replace("FROM trail", "FROM cloudtrail_logs"))
    assert "LIMIT 50" in out and "account IN ('111122223333', '444455556666')" in out
    assert "applied locally, not in Athena: 'actor:*bob*'" in err
    assert main(["athena", "sql", "--filter", "name:x OR", "--account", "111122223333", "--region", "us-east-1"]) == 2
    assert "^" in capsys.readouterr().err
    assert main(["athena", "sql", "--filter", "name:x", "--region", "us-east-1"]) == 2  # --account is required


def test_any_filter_tree_is_athena_sql_on_the_table_or_refused_with_a_position() -> None:
    """Random filter trees (the round-trip test's: any field, any values, regexes, NOT, AND, OR,
    hostile text) become SQL that parses as Trino and qualifies against the table, or are
    refused as the local compiler refuses them."""
    from hypothesis import given, settings

    from tests.test_filter_terms import trees
    from trailtui.core.filter.terms import write

    @settings(max_examples=300, deadline=None)
    @given(trees)
    def run(tree) -> None:
        checked_or_refused(write(tree))

    run()


def test_athena_run_asks_for_one_row_per_object() -> None:
    """``athena run`` needs the objects, not every event: one row per ``"$path"`` with its count
    and time span, so a broad query is a few pages of results, not one per thousand events."""
    sql = athena_query("name:GetObject since:2026-03-14", accounts=ACCOUNTS, regions=REGIONS, now=NOW,
                       paths_only=True).sql
    tree = sqlglot.parse_one(sql, read="trino")
    qualify(tree.copy(), schema=SCHEMA, dialect="trino", validate_qualify_columns=True)
    assert [column.alias_or_name for column in tree.expressions] == ["$path", "events", "first_event", "last_event"]
    assert [group.name for group in tree.args["group"].expressions] == ["$path"]
