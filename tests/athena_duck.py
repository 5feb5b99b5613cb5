"""DuckDB standing in for Amazon Athena in the tests (Athena itself is not reachable offline).

:func:`athena_table` loads the events of a trailtui index into a DuckDB table typed as the DDL
``trailtui athena ddl`` prints (its column types, parsed with sqlglot, written in DuckDB's
dialect: structs, arrays, maps, the JSON text columns as VARCHAR), each event shaped as Hive's
JsonSerDe reads it (keys matched case-insensitively, an object or array in a STRING column as
its JSON text, booleans as ``true``/``false``), with the partitions ``account``
(recipientAccountId), ``region`` (awsRegion), ``day`` (the event's UTC date) and ``"$path"``.

:func:`to_duckdb` turns the Trino SQL ``trailtui athena sql`` prints into DuckDB's, with shims
where Trino's semantics differ from what sqlglot's translation gives: ``json_extract_scalar``
returns NULL for an object or array (``trino_json_extract_scalar``), ``json_format(json_extract())``
is the value's JSON text, and ``contains(network, TRY_CAST(ip AS IPADDRESS))`` (DuckDB has no
IPADDRESS type offline) is a Python function written to Trino's rules (IPv4 as IPv4-mapped IPv6).
"""

from __future__ import annotations

import ipaddress
import sqlite3
import time
from pathlib import Path

import orjson

duckdb = __import__("pytest").importorskip("duckdb", reason="DuckDB stands in for Athena (the test extra)")
import sqlglot  # noqa: E402
from sqlglot import exp  # noqa: E402

from trailtui.core.sources import layout  # noqa: E402
from trailtui.core.store.originals import original_events  # noqa: E402

#: The partitions of an event delivered outside CloudTrail's layout (exports): stand-ins.
NO_ACCOUNT, NO_REGION = "000000000000", "us-east-1"


def _columns(ddl: str) -> dict[str, exp.DataType]:
    create = sqlglot.parse_one(ddl, read="athena")
    return {column.name: column.args["kind"] for column in create.this.expressions if isinstance(column, exp.ColumnDef)}


def _field(value: dict, name: str):
    """``value[name]``, the key matched case aside (as Hive's JsonSerDe does)."""
    if name in value:
        return value[name]
    for key, item in value.items():
        if isinstance(key, str) and key.lower() == name:
            return item
    return None


def _shape(value, kind: exp.DataType):
    """One JSON value as the DDL's ``kind`` holds it."""
    if value is None:
        return None
    if kind.this == exp.DataType.Type.STRUCT:
        if not isinstance(value, dict):
            return None
        return {member.name: _shape(_field(value, member.name.lower()), member.args["kind"]) for member in kind.expressions}
    if kind.this == exp.DataType.Type.ARRAY:
        return [_shape(item, kind.expressions[0]) for item in value] if isinstance(value, list) else None
    if kind.this == exp.DataType.Type.MAP:
        return {str(key): _shape(item, kind.expressions[1]) for key, item in value.items()} if isinstance(value, dict) else None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    return orjson.dumps(value).decode()  # numbers, objects and arrays: their JSON text


def athena_table(index: sqlite3.Connection, ddl: str, work: Path):
    """A DuckDB connection holding ``cloudtrail_logs``: the index's events (one row per eventID,
    as the index keeps them), typed and shaped as the module docstring says."""
    columns = _columns(ddl)
    rows = index.execute(
        'SELECT e.id, f.path, e."eventTime" FROM events e JOIN files f ON f.id = e.file_id ORDER BY e.id').fetchall()
    where = {event_id: (path, seconds) for event_id, path, seconds in rows}
    lines = []
    for event_id, original in original_events(index, list(where)):
        event = orjson.loads(original)
        record = {name: _shape(_field(event, name), kind) for name, kind in columns.items()}
        path, seconds = where[event_id]
        # The partitions are folders of the delivery; exports without them get stand-ins.
        recipient, region = event.get("recipientAccountId"), event.get("awsRegion")
        record["account"] = recipient if isinstance(recipient, str) and layout.ACCOUNT_ID.match(recipient) else NO_ACCOUNT
        record["region"] = region if isinstance(region, str) and layout.REGION.match(region) else NO_REGION
        record["day"] = None if seconds is None else time.strftime("%Y/%m/%d", time.gmtime(seconds))
        record["$path"] = path
        lines.append(orjson.dumps(record))
    data = work / "cloudtrail_logs.ndjson"
    data.write_bytes(b"\n".join(lines) + b"\n")
    types = {name: kind.sql("duckdb") for name, kind in columns.items()}
    types.update({"account": "VARCHAR", "region": "VARCHAR", "day": "VARCHAR", "$path": "VARCHAR"})
    conn = duckdb.connect()
    conn.execute(
        "CREATE MACRO trino_json_extract_scalar(j, p) AS "
        "CASE WHEN json_type(j, p) IN ('OBJECT', 'ARRAY') THEN NULL ELSE json_extract_string(j, p) END"
    )
    conn.create_function("trino_cidr_contains", _cidr_contains, ["VARCHAR", "VARCHAR"], "BOOLEAN",
                         null_handling="special")
    column_types = "{" + ", ".join(f"'{name}': '{kind}'" for name, kind in types.items()) + "}"
    conn.execute(f"CREATE TABLE cloudtrail_logs AS SELECT * FROM read_json('{data}', format = 'newline_delimited', "
                 f"columns = {column_types})")
    return conn


def _cidr_contains(network: str | None, address: str | None) -> bool | None:
    """Trino's ``contains(network, TRY_CAST(address AS IPADDRESS))``: NULL when the address does
    not cast; IPv4 compared as IPv4-mapped IPv6, as Trino's IPADDRESS holds it."""
    if network is None or address is None:
        return None
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    net = ipaddress.ip_network(network, strict=False)
    if ip.version == 4:
        ip = ipaddress.IPv6Address("::ffff:" + str(ip))
    if net.version == 4:
        net = ipaddress.IPv6Network(f"::ffff:{net.network_address}/{96 + net.prefixlen}")
    return ip in net


def _path_text(node: exp.Expression) -> exp.Expression:
    return exp.Literal.string(node.name if isinstance(node, exp.Literal) else node.sql(dialect="trino").strip("'"))


def _shim(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.JSONExtractScalar):
        return exp.Anonymous(this="trino_json_extract_scalar", expressions=[node.this, _path_text(node.expression)])
    if isinstance(node, exp.JSONFormat) and isinstance(node.this, exp.JSONExtract):
        inner = node.this
        extracted = exp.Anonymous(this="json_extract", expressions=[inner.this, _path_text(inner.expression)])
        return exp.Cast(this=extracted, to=exp.DataType.build("VARCHAR"))
    if isinstance(node, exp.ArrayContains) and isinstance(node.expression, exp.TryCast):
        return exp.Anonymous(this="trino_cidr_contains", expressions=[node.this, node.expression.this])
    return node


def to_duckdb(trino_sql: str) -> str:
    """The WHERE clause of ``trino_sql`` (``athena sql``'s output) as a DuckDB query of the
    eventIDs it selects."""
    tree = sqlglot.parse_one(trino_sql, read="trino").transform(_shim)
    return f"SELECT DISTINCT eventid FROM cloudtrail_logs WHERE {tree.args['where'].this.sql(dialect='duckdb')}"
