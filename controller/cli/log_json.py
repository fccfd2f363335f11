"""``--log-format json``: one JSON object per log line, for log collectors (Loki, Elastic,
Azure Monitor, CloudWatch) that index fields instead of parsing text.

Each object has ``time`` (UTC, ISO 8601 with milliseconds), ``level``, ``logger`` and
``message``, then whatever the record knows of the run: ``runId``, ``tenant``, ``operation``,
``outcome`` (passed to the logger as ``extra={"run_id": ..., "tenant": ...}``), and any other
plain value given as ``extra``, its key in camelCase as everywhere in tenantctl's output. An
exception's text is ``exception``.

The formatter sees a record only after the handler's
:class:`~controller.redaction.RedactingFilter` has redacted its message, exception text and
every string extra; values of other types are written only when they are numbers or booleans,
so nothing unredacted reaches the line.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

__all__ = ["JsonLogFormatter", "message_line"]

# Attributes every LogRecord has; anything else was passed as ``extra=``.
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}
# The fields of a run, first after the message, in this order.
_RUN_FIELDS = ("run_id", "tenant", "operation", "outcome")


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


class JsonLogFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        moment = dt.datetime.fromtimestamp(record.created, dt.UTC)
        line: dict[str, Any] = {
            "time": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        extras = {
            name: value
            for name, value in record.__dict__.items()
            if name not in _STANDARD and not name.startswith("_")
        }
        for name in (*[f for f in _RUN_FIELDS if f in extras], *sorted(extras)):
            value = extras[name]
            if value is None or _camel(name) in line:
                continue
            if isinstance(value, str | int | float | bool):
                line[_camel(name)] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exception"] = record.exc_text
        return json.dumps(line, ensure_ascii=False, separators=(",", ":"))


def message_line(level: int, text: str) -> str:
    """A message the command prints on stderr (a note, a detail, the final error) as the
    same kind of object as its log lines, so that with ``--log-format json`` every line of
    stderr is one JSON object. The caller has redacted ``text``, as it does for text output."""
    record = logging.makeLogRecord(
        {"name": "tenantctl", "levelno": level, "levelname": logging.getLevelName(level)}
    )
    record.msg = text
    return JsonLogFormatter().format(record)
