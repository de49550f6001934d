"""What one request of each app sends to Redis and SQL, counted in the bench's process.

Each app is built in this process (``bench/contenders.py``) and asked for a page
many times in a row through Werkzeug's test client, one request at a time, while:

- Redis counts the commands it runs (``INFO commandstats`` before and after, on the
  bench's own redis-server, where nothing else runs meanwhile); a command counts as
  a write when Redis files it under the ``@write`` category (``ACL CAT write``);
- redis-py counts round trips: each ``send_packed_command`` sends one command, or a
  whole pipeline, and waits for the answers;
- SQLAlchemy (``before_cursor_execute`` on every engine) and Django
  (``connection.execute_wrapper``) count the SQL statements and keep their text.

A session's Redis bytes are the ``MEMORY USAGE`` of the keys a signed-in request
touches (found with ``COMMAND GETKEYS``), summed.
"""

import re
import sys
from collections import Counter
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field

import redis
from sqlalchemy import event
from sqlalchemy.engine import Engine

from bench.contenders import SIGN_IN_PAGE, SIGNED_IN_PAGE, WsgiBrowser, expect_page

# Commands the bench itself sends while counting.
OWN_COMMANDS = ("info",)


@dataclass
class Costs:
    """Per-request averages of one page of one app."""

    requests: int
    redis_commands: dict = field(default_factory=dict)
    redis_writes: dict = field(default_factory=dict)
    redis_round_trips: float = 0.0
    sql_statements: Counter = field(default_factory=Counter)
    session_bytes: int | None = None

    @property
    def commands(self):
        return sum(self.redis_commands.values())

    @property
    def writes(self):
        return sum(self.redis_writes.values())

    @property
    def sql(self):
        return sum(self.sql_statements.values()) / self.requests

    def describe_commands(self, calls=None):
        calls = self.redis_commands if calls is None else calls
        return ", ".join(f"`{name.upper()}` {count:.2f}" for name, count in sorted(calls.items())) or "none"

    def describe_sql(self):
        return "; ".join(f"`{text}` ({count / self.requests:.2f})" for text, count in self.sql_statements.most_common())


class _Tally:
    def __init__(self):
        self.round_trips = 0
        self.commands = []
        self.statements = Counter()

    def statement(self, sql):
        self.statements[summary(sql)] += 1


def summary(sql):
    """Enough of a statement to say what it is: a SELECT's columns give way to its FROM clause."""
    text = re.sub(r"\s+", " ", sql).strip()
    if text.upper().startswith("SELECT") and " FROM " in text:
        text = "SELECT … " + text[text.index(" FROM ") + 1 :]  # noqa: S608 - a label, never run
    return text if len(text) <= 160 else text[:159] + "…"


@contextmanager
def watching():
    """Count Redis round trips and commands (with arguments) and SQL statements of this process."""
    tally = _Tally()
    connection_class = redis.connection.AbstractConnection
    original_send = connection_class.send_packed_command
    original_command = connection_class.send_command
    original_pipeline = connection_class.pack_commands

    def send_packed_command(self, command, check_health=True):
        tally.round_trips += 1
        return original_send(self, command, check_health)

    def send_command(self, *args, **kwargs):
        tally.commands.append(args)
        return original_command(self, *args, **kwargs)

    def pack_commands(self, commands):
        commands = list(commands)
        tally.commands.extend(commands)
        return original_pipeline(self, commands)

    def before_cursor_execute(connection, cursor, statement, parameters, context, executemany):
        tally.statement(statement)

    def django_execute(execute, sql, params, many, context):
        tally.statement(sql)
        return execute(sql, params, many, context)

    with ExitStack() as stack:
        connection_class.send_packed_command = send_packed_command
        connection_class.send_command = send_command
        connection_class.pack_commands = pack_commands
        stack.callback(setattr, connection_class, "send_packed_command", original_send)
        stack.callback(setattr, connection_class, "send_command", original_command)
        stack.callback(setattr, connection_class, "pack_commands", original_pipeline)
        event.listen(Engine, "before_cursor_execute", before_cursor_execute)
        stack.callback(event.remove, Engine, "before_cursor_execute", before_cursor_execute)
        if _django_configured():
            from django.db import connection

            stack.enter_context(connection.execute_wrapper(django_execute))
        yield tally


def _django_configured():
    if "django.conf" not in sys.modules:
        return False
    from django.conf import settings

    return settings.configured


def command_calls(store):
    return {
        name.removeprefix("cmdstat_"): stats["calls"]
        for name, stats in store.info("commandstats").items()
        if name.removeprefix("cmdstat_") not in OWN_COMMANDS
    }


def per_request(store, browser_for_request, path, markers, count, warm_up=20):
    """Redis and SQL per request of ``path``, over ``count`` requests.

    ``browser_for_request()`` gives the browser of each request: the same signed-in
    one every time, or a new one without cookies for anonymous visits.
    """
    for _ in range(warm_up):
        # Every connection (Redis, SQL) is open before counting starts.
        browser_for_request().get(path)
    write_commands = set(store.acl_cat("write"))
    before = command_calls(store)
    with watching() as tally:
        for _ in range(count):
            expect_page(browser_for_request().get(path), 200, markers, f"{path} (in-process)")
    after = command_calls(store)
    calls = {name: (after[name] - before.get(name, 0)) / count for name in after if after[name] != before.get(name, 0)}
    return Costs(
        requests=count,
        redis_commands=calls,
        redis_writes={name: calls[name] for name in calls if name in write_commands},
        redis_round_trips=tally.round_trips / count,
        sql_statements=tally.statements,
    )


def session_bytes(app_store, browser, path):
    """``MEMORY USAGE`` of the keys one signed-in request of ``browser`` touches, summed."""
    with watching() as tally:
        browser.get(path)
    keys = set()
    for command in tally.commands:
        # A command without keys (PING, CLIENT SETINFO) is an error to COMMAND GETKEYS.
        with suppress(redis.ResponseError):
            keys.update(app_store.command_getkeys(*command))
    return sum(app_store.memory_usage(key, samples=0) or 0 for key in keys)


def measure(contender, store, signed_in_browser, count):
    """``{"signed_in": Costs, "sign_in_page": Costs or None}`` of one app."""
    app = contender.build()
    signed_in = per_request(
        store, lambda: signed_in_browser, contender.signed_in_path, contender.markers(SIGNED_IN_PAGE), count
    )
    if contender.redis_url:
        app_store = redis.Redis.from_url(contender.redis_url)
        signed_in.session_bytes = session_bytes(app_store, signed_in_browser, contender.signed_in_path)
        app_store.close()
    else:
        signed_in.session_bytes = 0
    anonymous = None
    if contender.sign_in_path:
        anonymous = per_request(
            store,
            lambda: WsgiBrowser(app, use_cookies=False),
            contender.sign_in_path,
            contender.markers(SIGN_IN_PAGE),
            count,
        )
    return {"signed_in": signed_in, "sign_in_page": anonymous}
