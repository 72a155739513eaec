"""CPU of one boto3 DynamoDB call, for the benchmark's Python peer (bench/src/on_aws.rs): the
median process CPU time of a GetItem (a key that is not there) on a client made once, against
the benchmark's local stack with its connections kept alive. Prints {"cpuMicrosPerCall": n}."""
import json
import os
import sys
import time

import boto3

calls = int(sys.argv[1]) if len(sys.argv) > 1 else 200
client = boto3.client("dynamodb", region_name=os.environ.get("AWS_REGION", "us-east-1"))
table = os.environ["TABLE_NAME"]
key = {"pk": {"S": "BENCH#python"}, "sk": {"S": "none"}}
for _ in range(10):
    client.get_item(TableName=table, Key=key)
samples = []
for _ in range(calls):
    start = time.process_time_ns()
    client.get_item(TableName=table, Key=key)
    samples.append((time.process_time_ns() - start) // 1000)
samples.sort()
print(json.dumps({"cpuMicrosPerCall": samples[len(samples) // 2]}))
