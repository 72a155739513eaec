"""The Python 3.11 function of the cold-start comparison: it imports boto3 and makes its
DynamoDB client at init, as a typical Python Lambda function does, then serves the Lambda
runtime API with the standard library (the managed runtime's own bootstrap is not included,
so this is a lower bound for Python)."""
import json
import os
import urllib.request

import boto3

client = boto3.client("dynamodb")
api = os.environ["AWS_LAMBDA_RUNTIME_API"]
base = f"http://{api}/2018-06-01/runtime/invocation"
while True:
    with urllib.request.urlopen(f"{base}/next") as r:
        request_id = r.headers["Lambda-Runtime-Aws-Request-Id"]
        json.loads(r.read())
    body = json.dumps({"statusCode": 200, "body": "hello"}).encode()
    urllib.request.urlopen(urllib.request.Request(f"{base}/{request_id}/response", data=body, method="POST")).read()
