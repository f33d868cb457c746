"""moto_server with DynamoDB's atomicity: one request at a time through the backend.

moto's server is threaded and its DynamoDB backend takes no lock, so two
concurrent conditional writes can both pass their condition - something
DynamoDB never allows. The race tests of the store contract exist to catch
exactly that in our code, so the emulator must not produce it itself: this
launcher runs moto's own server with every DynamoDB request serialised by one
lock (connections stay concurrent; only the backend work is serial). SQS and
SES requests pass freely: an SQS long poll holding the lock would stall every
other client for its whole wait.

It also takes costs off requests, which make the moto-bound tests CPU-bound in
this one Python process (py-spy, then cProfile, of the test run): the request log
line werkzeug writes to stderr; moto's look-up of its own service modules,
which lists and stats its package directory on each request; the list of a
response class's methods (inspect.getmembers, about 5% of the busy CPU of a
GetItem/PutItem loop), which moto builds again for each request to check that
the action has a handler; the sort of every item of a table on each Query
(a quarter of the DynamoDB CPU: moto sorts the whole table, then picks the
partition or the index's entries, then sorts those again); and the walk of the
botocore output shape over every attribute of every item returned (another
quarter), where a DynamoDB item operation's result is already its JSON body.
None of them changes an answer: the tests' results are the same either way.

Usage: python tests/moto_server.py -H 127.0.0.1 -p PORT   (moto_server's flags)
"""

import functools
import json
import logging
import os
import threading

from moto import backends, server
from moto.core import responses
from moto.dynamodb.models.table import Table

logging.getLogger("werkzeug").setLevel(logging.WARNING)
backends.list_of_moto_modules = functools.cache(
    lambda modules=backends.list_of_moto_modules: tuple(modules())
)
# A class's methods do not change while the server runs.
responses.method_names_from_class = functools.cache(
    lambda clazz, names=responses.method_names_from_class: frozenset(names(clazz))
)


# Table.query sorts self.all_items() (every item of the table) before it filters it,
# then sorts what it kept by the key it queries on, a total order (the table's own keys
# end every index's sort key): the first sort decides nothing. For a query on the
# table itself only the queried partition can match.
def _unsorted_items(table, partition):
    if partition is not None:
        found = table.items.get(partition)
        if found is None:
            return []
        return list(found.values()) if table.range_key_attr else [found]
    items = []
    for entry in table.items.values():
        if table.range_key_attr:
            items.extend(entry.values())
        else:
            items.append(entry)
    return items


_query = Table.query


def _query_unsorted(self, hash_key, *args, **kwargs):
    index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
    partition = None if index_name else hash_key
    self.all_items = lambda: _unsorted_items(self, partition)
    try:
        return _query(self, hash_key, *args, **kwargs)
    finally:
        del self.all_items


Table.query = _query_unsorted

# What the item operations return is their JSON body already (attribute values are
# strings, lists, maps and booleans); the serializer's walk of the output shape only
# copies it. Anything else (errors, table descriptions with timestamps, a result that is
# not plain JSON) goes through the serializer as before.
_ITEM_OPERATIONS = frozenset(
    "GetItem PutItem UpdateItem DeleteItem Query Scan BatchGetItem BatchWriteItem "
    "TransactGetItems TransactWriteItems".split()
)
_execute = responses.ActionResult.execute_result


def _execute_plain_json(self, context):
    result = self.result
    if (
        isinstance(result, dict)
        and context.service_model.service_name == "dynamodb"
        and context.operation_model.name in _ITEM_OPERATIONS
    ):
        try:
            body = json.dumps(result)
        except (TypeError, ValueError):
            return _execute(self, context)
        return 200, {"Content-Type": "application/x-amz-json-1.0"}, body
    return _execute(self, context)


responses.ActionResult.execute_result = _execute_plain_json

_lock = threading.Lock()
_call = server.DomainDispatcherApplication.__call__


# The raw MIME SES received, for the tests that compare it with what engage built:
# moto's /moto-api/data.json has it too, but lists every tracked object of every
# service (each DynamoDB item of every test's table), seconds of this process's CPU.
RAW_MESSAGES_PATH = "/engage-test/ses/raw-messages"


def _raw_messages(start_response):
    from moto.ses.models import ses_backends

    raw = [
        message.raw_data
        for regions in ses_backends.values()
        for backend in regions.values()
        for message in backend.sent_messages
        if hasattr(message, "raw_data")
    ]
    body = json.dumps(raw).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def _serialised(self, environ, start_response):
    if environ.get("PATH_INFO") == RAW_MESSAGES_PATH:
        return _raw_messages(start_response)
    if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
        with _lock:
            return _call(self, environ, start_response)
    return _call(self, environ, start_response)


server.DomainDispatcherApplication.__call__ = _serialised

# moto's SIGTERM handler calls sys.exit, and the interpreter then frees every object
# the test run left (about 1.4 GB of items): 17 s after the last test before
# ./tests/run could exit. Nothing here needs flushing.
server.signal_handler = lambda signum, frame: os._exit(0)

if __name__ == "__main__":
    server.main()
