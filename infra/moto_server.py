"""Runs `moto_server` (same arguments) with two fixes for long, concurrent test runs, and a
log line for every call IAM refuses (which role, which action), so that a permission missing
from template.yaml names itself in moto.log.

1. No dashboard instance tracking. moto keeps a reference to every model object it ever made,
   for its /moto-api dashboard: every DynamoDB item, and every copy of a table's items that a
   TransactWriteItems makes. Over a test run that grows to many gigabytes. Here only SNS
   objects are tracked, which the tests read back as the SMS log (`/moto-api/data.json`).
2. One request at a time. moto's backends are not thread-safe: a TransactWriteItems deep-copies
   the table while another request thread changes it ("dictionary changed size during
   iteration", answered as an HTML 500). AWS serializes conflicting writes itself; here every
   request holds one lock, which keeps moto's answers what AWS would give.
"""

import sys
import threading

from moto.core import common_models


def _new(cls, *args, **kwargs):
    instance = object.__new__(cls)
    if cls.__module__.startswith("moto.sns."):
        cls.instances_tracked.append(instance)
    return instance


common_models.BaseModel.__new__ = staticmethod(_new)

from moto.moto_server import werkzeug_app  # noqa: E402

_one_at_a_time = threading.Lock()
_dispatch = werkzeug_app.DomainDispatcherApplication.__call__


def _serialized(self, environ, start_response):
    with _one_at_a_time:
        # The response body is materialized inside the lock: moto builds it from live state.
        return list(_dispatch(self, environ, start_response))


werkzeug_app.DomainDispatcherApplication.__call__ = _serialized

from moto.iam import access_control  # noqa: E402

_check = access_control.IAMRequestBase.check_action_permitted


def _logged_check(self, resource):
    try:
        return _check(self, resource)
    except Exception:
        principal = getattr(getattr(self, "_access_key", None), "arn", "?")
        print(f"IAM DENIED {self._action} to {principal}", file=sys.stderr, flush=True)
        raise


access_control.IAMRequestBase.check_action_permitted = _logged_check

from moto.server import main  # noqa: E402  (after the patch, so every model class sees it)

if __name__ == "__main__":
    main(sys.argv[1:])
