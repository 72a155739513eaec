"""Runs `moto_server` (same arguments) without the dashboard's instance tracking.

moto keeps a reference to every model object it ever made, for its /moto-api dashboard: every
DynamoDB item, and every copy of a table's items that a TransactWriteItems makes. Over a test
run that grows to many gigabytes. Here only SNS objects are tracked, which the tests read back
as the SMS log (`/moto-api/data.json`, sns.SMS); nothing else of moto changes.
"""

import sys

from moto.core import common_models


def _new(cls, *args, **kwargs):
    instance = object.__new__(cls)
    if cls.__module__.startswith("moto.sns."):
        cls.instances_tracked.append(instance)
    return instance


common_models.BaseModel.__new__ = staticmethod(_new)

from moto.server import main  # noqa: E402  (after the patch, so every model class sees it)

if __name__ == "__main__":
    main(sys.argv[1:])
