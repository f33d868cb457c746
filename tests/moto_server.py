"""moto_server with DynamoDB's atomicity: one request at a time through the backend.

moto's server is threaded and its DynamoDB backend takes no lock, so two
concurrent conditional writes can both pass their condition - something
DynamoDB never allows. The race tests of the store contract exist to catch
exactly that in our code, so the emulator must not produce it itself: this
launcher runs moto's own server with every DynamoDB request serialised by one
lock (connections stay concurrent; only the backend work is serial). SQS and
SES requests pass freely: an SQS long poll holding the lock would stall every
other client for its whole wait.

It also takes three costs off every request, which make the moto-bound tests
CPU-bound in this one Python process (py-spy of the test run): the request log
line werkzeug writes to stderr; moto's look-up of its own service modules,
which lists and stats its package directory on each request; and the list of a
response class's methods (inspect.getmembers, about 5% of the busy CPU of a
GetItem/PutItem loop), which moto builds again for each request to check that
the action has a handler.

Usage: python tests/moto_server.py -H 127.0.0.1 -p PORT   (moto_server's flags)
"""

import functools
import logging
import threading

from moto import backends, server
from moto.core import responses

logging.getLogger("werkzeug").setLevel(logging.WARNING)
backends.list_of_moto_modules = functools.cache(
    lambda modules=backends.list_of_moto_modules: tuple(modules())
)
# A class's methods do not change while the server runs.
responses.method_names_from_class = functools.cache(
    lambda clazz, names=responses.method_names_from_class: frozenset(names(clazz))
)

_lock = threading.Lock()
_call = server.DomainDispatcherApplication.__call__


def _serialised(self, environ, start_response):
    if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
        with _lock:
            return _call(self, environ, start_response)
    return _call(self, environ, start_response)


server.DomainDispatcherApplication.__call__ = _serialised

if __name__ == "__main__":
    server.main()
