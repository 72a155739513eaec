"""Runs `moto_server` (same arguments) as the local stack: moto, held to IAM as AWS holds
it, fast enough for long concurrent test runs and a `make dev` stack that grows.

Here: 1. no dashboard instance tracking (moto keeps every model object it ever made for its
/moto-api dashboard, every DynamoDB item and every copy a transaction makes, many gigabytes
over a test run; only SNS objects are tracked, which the tests read back as the SMS log);
2. one request at a time (moto's backends are not thread-safe: a transaction deep-copies a
table while another thread changes it; AWS serializes conflicting writes itself); and
GuardDuty Malware Protection for S3, played.

moto_iam.py: IAM as AWS holds it, and a log line for every refusal (which role, which
action), so that a permission missing from template.yaml names itself in moto.log.
moto_speed.py: 3. to 10., fixes that give moto's answers in less time.
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

import moto_iam  # noqa: E402,F401  (IAM as AWS holds it: moto_iam.py)

# GuardDuty Malware Protection for S3, played locally: in a bucket that local_stack.py tagged
# as protected, every object stored (PutObject, CopyObject, a completed multipart upload) gets
# the tag GuardDuty writes, THREATS_FOUND for the EICAR test file and NO_THREATS_FOUND for
# anything else, at once rather than moments later. A copy then takes its source's tags, as in
# S3 (TaggingDirective COPY).
import moto.s3.models as s3_models  # noqa: E402

SCAN_TAG = "carethread-local:guardduty-malware-protection"
_put_object = s3_models.S3Backend.put_object


def _put_and_scan(self, bucket_name, key_name, value, *args, **kwargs):
    key = _put_object(self, bucket_name, key_name, value, *args, **kwargs)
    try:
        bucket_tags = self.get_bucket_tagging(bucket_name).get("Tags", [])
    except Exception:
        bucket_tags = []
    if any(t.get("Key") == SCAN_TAG for t in bucket_tags):
        data = bytes(value) if not isinstance(value, bytes) else value
        verdict = "THREATS_FOUND" if b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE" in data else "NO_THREATS_FOUND"
        self.tagger.tag_resource(key.arn, [{"Key": VERDICT_TAG, "Value": verdict}])
        # PutObject then sets the request's own tags, which replace all others: the verdict is
        # added again there, once (a later PutObjectTagging replaces it, as in S3).
        key.carethread_verdict = verdict
    return key


_put_object_tagging = s3_models.S3Backend.put_object_tagging


def _put_object_tagging_after_scan(self, key, tags, *args, **kwargs):
    verdict = getattr(key, "carethread_verdict", None)
    if verdict and VERDICT_TAG not in (tags or {}):
        tags = {**(tags or {}), VERDICT_TAG: verdict}
    key.carethread_verdict = None
    return _put_object_tagging(self, key, tags, *args, **kwargs)


VERDICT_TAG = "GuardDutyMalwareScanStatus"
s3_models.S3Backend.put_object = _put_and_scan
s3_models.S3Backend.put_object_tagging = _put_object_tagging_after_scan

import moto_speed  # noqa: E402,F401  (3. to 10.: moto_speed.py)

from moto.server import main  # noqa: E402  (after the patches, so every model class sees them)

if __name__ == "__main__":
    main(sys.argv[1:])
