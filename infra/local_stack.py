#!/usr/bin/env python3
"""Run the Carethread local stack on moto.

    start  --port P --state-dir D               start moto_server on 127.0.0.1:P (idempotent)
    stop   --state-dir D                         stop the moto_server started by `start`
    create --port P --prefix NAME --env-file F --state-dir D
                                                 create the table, key, bucket, topic, user
                                                 pool and function roles that template.yaml
                                                 declares, and write F

The resources are derived from template.yaml (next to this directory) so that the local
stack and the deployed stack cannot drift apart silently.

moto enforces IAM here, as AWS does (DESIGN.md, The local stack): it starts with checks off,
the first `create` makes an operator user with every right (its keys go to D/operator.json
and into every env file), then turns enforcement on. From then on every call is signed and
checked: the functions run with their own roles, made from the template's statements
(function_roles.py), which moto and moto_iam.py hold as IAM does.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import json

import boto3
import yaml

from botocore.exceptions import ClientError

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"
REGION = "us-east-1"
CREDENTIALS = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}


def fail(message: str) -> None:
    sys.exit(f"local_stack: {message}")


# --------------------------------------------------------------------------- template


class Tagged:
    """Placeholder for a CloudFormation intrinsic (!Ref, !Sub, !GetAtt, ...)."""

    def __init__(self, tag: str, value):
        self.tag, self.value = tag, value

    def __repr__(self) -> str:
        return f"{self.tag} {self.value!r}"


class CfnLoader(yaml.SafeLoader):
    pass


def _construct_tagged(loader, tag_suffix, node):
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return Tagged("!" + tag_suffix, value)


CfnLoader.add_multi_constructor("!", _construct_tagged)


def load_template(path: Path = TEMPLATE) -> dict:
    with open(path) as f:
        return yaml.load(f, Loader=CfnLoader)


def only_resource(template: dict, rtype: str) -> tuple[str, dict]:
    """The one resource of type `rtype`; fail if there are none or several."""
    found = [(name, r) for name, r in template.get("Resources", {}).items() if r.get("Type") == rtype]
    if len(found) != 1:
        names = ", ".join(n for n, _ in found) or "none"
        fail(f"template.yaml must declare exactly one {rtype}, found {len(found)} ({names}); "
             "update infra/local_stack.py together with the template")
    name, resource = found[0]
    return name, resource.get("Properties", {})


def named_resource(template: dict, name: str, rtype: str) -> tuple[str, dict]:
    """The resource `name`, which must have type `rtype`."""
    resource = template.get("Resources", {}).get(name)
    if not resource or resource.get("Type") != rtype:
        fail(f"template.yaml must declare {name} as {rtype}; update infra/local_stack.py together with the template")
    return name, resource.get("Properties", {})


def warn_unhandled(kind: str, props: dict, handled: set[str]) -> None:
    for key in sorted(set(props) - handled):
        print(f"local_stack: note: {kind} property {key} is not applied locally", file=sys.stderr)


# --------------------------------------------------------------------------- moto process


def moto_answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/moto-api/", timeout=2) as r:
            return r.status == 200
    except (urllib.error.URLError, OSError):
        return False


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


def start(port: int, state_dir: Path) -> None:
    if moto_answers(port):
        print(f"moto already answers on 127.0.0.1:{port}")
        return
    if port_open(port):
        fail(f"port {port} is in use by something that is not moto")
    state_dir.mkdir(parents=True, exist_ok=True)
    if not (Path(sys.executable).parent / "moto_server").exists():
        fail("moto_server not found (pip install 'moto[server]')")
    # moto_server itself, minus the dashboard's unbounded memory (see moto_server.py).
    moto_server = Path(__file__).with_name("moto_server.py")
    log = open(state_dir / "moto.log", "ab")
    # IAM checks stay off until `create` has made the operator (reset-auth turns them on).
    # Cognito checks TOTP codes as AWS does (ACCT-3); without this moto accepts any code.
    # Connections kept alive, as AWS endpoints keep them (moto_speed.py, patch 9).
    env = dict(os.environ, INITIAL_NO_AUTH_ACTION_COUNT="1000000000", MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP="true",
               MOTO_KEEP_ALIVE="1")
    (state_dir / "operator.json").unlink(missing_ok=True)
    proc = subprocess.Popen(
        [sys.executable, str(moto_server), "-H", "127.0.0.1", "-p", str(port)],
        stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=env,
    )
    (state_dir / "moto.pid").write_text(f"{proc.pid}\n")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if moto_answers(port):
            print(f"moto started on 127.0.0.1:{port} (pid {proc.pid}, log {state_dir / 'moto.log'})")
            return
        if proc.poll() is not None:
            fail(f"moto_server exited with {proc.returncode}; see {state_dir / 'moto.log'}")
        time.sleep(0.25)
    proc.terminate()
    fail(f"moto_server did not answer on port {port} within 60 s; see {state_dir / 'moto.log'}")


def is_moto(pid: int) -> bool:
    try:
        return b"moto_server" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return False
    except OSError:  # no /proc: trust the pid file
        return True


def stop(state_dir: Path) -> None:
    pid_file = state_dir / "moto.pid"
    if not pid_file.exists():
        print("no moto.pid: nothing to stop")
        return
    pid = int(pid_file.read_text().strip())
    if is_moto(pid):
        os.kill(pid, signal.SIGTERM)
        for _ in range(40):
            if not is_moto(pid):
                break
            time.sleep(0.25)
        else:
            os.kill(pid, signal.SIGKILL)
        print(f"moto (pid {pid}) stopped")
    else:
        print(f"moto (pid {pid}) is not running")
    pid_file.unlink()


# --------------------------------------------------------------------------- resources


def create_table(session, endpoint: str, name: str, props: dict) -> dict:
    ddb = session.client("dynamodb", endpoint_url=endpoint)
    warn_unhandled("AWS::DynamoDB::Table", props, {
        "AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "BillingMode",
        "StreamSpecification", "TimeToLiveSpecification",
        # Not emulated locally: backups and encryption at rest are AWS-side settings.
        "PointInTimeRecoverySpecification", "SSESpecification",
    })
    try:
        table = ddb.describe_table(TableName=name)["Table"]
        want = sorted(g["IndexName"] for g in props.get("GlobalSecondaryIndexes", []))
        have = sorted(g["IndexName"] for g in table.get("GlobalSecondaryIndexes", []))
        if want != have or table["KeySchema"] != props["KeySchema"]:
            fail(f"table {name} exists with other keys or indexes ({have}, template: {want}); "
                 "restart moto to recreate it")
        print(f"table {name} exists")
    except ddb.exceptions.ResourceNotFoundException:
        args = {
            "TableName": name,
            "AttributeDefinitions": props["AttributeDefinitions"],
            "KeySchema": props["KeySchema"],
            "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
        }
        if props.get("GlobalSecondaryIndexes"):
            args["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
        if props.get("StreamSpecification"):
            args["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
        ddb.create_table(**args)
        ddb.get_waiter("table_exists").wait(TableName=name)
        print(f"table {name} created")
        table = ddb.describe_table(TableName=name)["Table"]

    ttl = props.get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled"):
        current = ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        if current.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
            ddb.update_time_to_live(TableName=name, TimeToLiveSpecification={
                "AttributeName": ttl["AttributeName"], "Enabled": True})
    return table


def create_key(session, endpoint: str, alias: str, props: dict) -> str:
    kms = session.client("kms", endpoint_url=endpoint)
    warn_unhandled("AWS::KMS::Key", props, {
        "KeySpec", "KeyUsage", "Description", "EnableKeyRotation", "KeyPolicy"})
    try:
        arn = kms.describe_key(KeyId=alias)["KeyMetadata"]["Arn"]
        print(f"key {alias} exists")
        return arn
    except kms.exceptions.NotFoundException:
        pass
    description = props.get("Description")
    key = kms.create_key(
        KeySpec=props.get("KeySpec", "SYMMETRIC_DEFAULT"),
        KeyUsage=props.get("KeyUsage", "ENCRYPT_DECRYPT"),
        Description=description if isinstance(description, str) else f"local {alias}",
    )["KeyMetadata"]
    if props.get("EnableKeyRotation"):
        kms.enable_key_rotation(KeyId=key["KeyId"])
    kms.create_alias(AliasName=alias, TargetKeyId=key["KeyId"])
    print(f"key {alias} created")
    return key["Arn"]


def s3_lifecycle_rule(rule: dict) -> dict:
    """A CloudFormation LifecycleConfiguration rule in the shape of the S3 API."""
    known = {"Id", "Status", "Prefix", "ExpirationInDays", "AbortIncompleteMultipartUpload",
             "NoncurrentVersionExpiration"}
    unknown = set(rule) - known
    if unknown:
        fail(f"lifecycle rule {rule.get('Id')}: cannot map {sorted(unknown)} to the S3 API yet")
    out = {"Status": rule["Status"], "Filter": {"Prefix": rule.get("Prefix", "")}}
    if "Id" in rule:
        out["ID"] = rule["Id"]
    if "ExpirationInDays" in rule:
        out["Expiration"] = {"Days": rule["ExpirationInDays"]}
    if "AbortIncompleteMultipartUpload" in rule:
        out["AbortIncompleteMultipartUpload"] = rule["AbortIncompleteMultipartUpload"]
    if "NoncurrentVersionExpiration" in rule:
        out["NoncurrentVersionExpiration"] = rule["NoncurrentVersionExpiration"]
    return out


def s3_cors_rule(rule: dict) -> dict:
    """A CloudFormation CorsRule in the shape of the S3 API."""
    renames = {"Id": "ID", "ExposedHeaders": "ExposeHeaders", "MaxAge": "MaxAgeSeconds"}
    return {renames.get(k, k): v for k, v in rule.items()}


# The web app's origins on this machine (`make dev` serves it from the local gateway, on
# whatever port it was given), standing for the template's CloudFront origin.
LOCAL_WEB_ORIGINS = ["http://127.0.0.1:*", "http://localhost:*"]


def local_origins(rule: dict) -> dict:
    """A CORS rule whose origins computed from the stack (the web app's CloudFront domain, the
    optional AllowedOrigin) are the local web app's origins instead."""
    origins = [o for o in rule.get("AllowedOrigins", []) if isinstance(o, str)]
    if len(origins) < len(rule.get("AllowedOrigins", [])):
        origins += LOCAL_WEB_ORIGINS
    return {**rule, "AllowedOrigins": origins}


def create_bucket(session, endpoint: str, name: str, props: dict, key_arn: str) -> None:
    s3 = session.client("s3", endpoint_url=endpoint)
    warn_unhandled("AWS::S3::Bucket", props, {
        "BucketEncryption", "PublicAccessBlockConfiguration", "OwnershipControls",
        "CorsConfiguration", "LifecycleConfiguration", "ObjectLockEnabled", "ObjectLockConfiguration",
        "VersioningConfiguration"})
    try:
        s3.head_bucket(Bucket=name)
        print(f"bucket {name} exists")
    except ClientError:
        s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=bool(props.get("ObjectLockEnabled")))
        print(f"bucket {name} created")
    if "VersioningConfiguration" in props:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": props["VersioningConfiguration"]["Status"]})
    if "ObjectLockConfiguration" in props:
        retention = dict(props["ObjectLockConfiguration"]["Rule"]["DefaultRetention"])
        # A retention given by a stack parameter: one day locally, so a local stack can go.
        for unit in ("Days", "Years"):
            if unit in retention and not isinstance(retention[unit], int):
                retention = {"Mode": retention["Mode"] if isinstance(retention["Mode"], str) else "GOVERNANCE", "Days": 1}
        s3.put_object_lock_configuration(Bucket=name, ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": retention}})

    # Settings are re-applied on every run: each put replaces the previous value.
    if "PublicAccessBlockConfiguration" in props:
        s3.put_public_access_block(
            Bucket=name, PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"])
    if "OwnershipControls" in props:
        s3.put_bucket_ownership_controls(Bucket=name, OwnershipControls=props["OwnershipControls"])
    if "BucketEncryption" in props:
        rules = []
        for rule in props["BucketEncryption"]["ServerSideEncryptionConfiguration"]:
            default = dict(rule["ServerSideEncryptionByDefault"])
            if "KMSMasterKeyID" in default:
                default["KMSMasterKeyID"] = key_arn  # the template's !GetAtt MessageKey.Arn
            out = {"ApplyServerSideEncryptionByDefault": default}
            if "BucketKeyEnabled" in rule:
                out["BucketKeyEnabled"] = rule["BucketKeyEnabled"]
            rules.append(out)
        s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": rules})
    if "CorsConfiguration" in props:
        s3.put_bucket_cors(Bucket=name, CORSConfiguration={
            "CORSRules": [s3_cors_rule(local_origins(r)) for r in props["CorsConfiguration"]["CorsRules"]]})
    if "LifecycleConfiguration" in props:
        s3.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={
            "Rules": [s3_lifecycle_rule(r) for r in props["LifecycleConfiguration"]["Rules"]]})


# GuardDuty Malware Protection for S3 is played by the local stack's moto (infra/moto_server.py):
# a bucket carrying this tag has every new object tagged with a verdict as it is stored.
LOCAL_SCAN_TAG = "carethread-local:guardduty-malware-protection"


def protect_bucket(session, endpoint: str, name: str, plan_props: dict) -> None:
    """The template's malware protection plan on the attachment bucket, with tagging on: moto
    tags each new object GuardDutyMalwareScanStatus (THREATS_FOUND for the EICAR test file,
    else NO_THREATS_FOUND), as GuardDuty does moments after an upload. The plan's condition
    (AttachmentMalwareScanning) is not evaluated locally: the local bucket is always scanned."""
    warn_unhandled("AWS::GuardDuty::MalwareProtectionPlan", plan_props, {"Role", "ProtectedResource", "Actions"})
    s3 = session.client("s3", endpoint_url=endpoint)
    s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": [{"Key": LOCAL_SCAN_TAG, "Value": "ENABLED"}]})


def create_topic(session, endpoint: str, name: str, props: dict) -> str:
    sns = session.client("sns", endpoint_url=endpoint)
    warn_unhandled("AWS::SNS::Topic", props, {"KmsMasterKeyId"})
    attributes = {}
    if isinstance(props.get("KmsMasterKeyId"), str):
        attributes["KmsMasterKeyId"] = props["KmsMasterKeyId"]
    arn = sns.create_topic(Name=name, Attributes=attributes)["TopicArn"]  # idempotent
    print(f"topic {name} ready")
    return arn


# --------------------------------------------------------------------------- identity and IAM


def create_user_pool(session, endpoint: str, prefix: str, pool_props: dict, client_props: dict) -> tuple[str, str]:
    """The template's user pool and app client (a new pool per prefix)."""
    idp = session.client("cognito-idp", endpoint_url=endpoint)
    warn_unhandled("AWS::Cognito::UserPool", pool_props, {
        "UserPoolName", "AliasAttributes", "UsernameConfiguration", "AutoVerifiedAttributes",
        "AdminCreateUserConfig", "Policies", "Schema", "MfaConfiguration", "EnabledMfas",
        # AWS-side only: deletion protection, threat protection (and its Plus tier), e-mail sending.
        "DeletionProtection", "UserPoolAddOns", "UserPoolTier", "EmailConfiguration", "AccountRecoverySetting", "SmsConfiguration",
        "UserAttributeUpdateSettings"})
    name = f"{prefix}-users"
    for existing in idp.list_user_pools(MaxResults=60)["UserPools"]:
        if existing["Name"] == name:  # a `make dev` against a moto that is still running
            clients = idp.list_user_pool_clients(UserPoolId=existing["Id"], MaxResults=60)["UserPoolClients"]
            if clients:
                print(f"user pool {existing['Id']} exists")
                return existing["Id"], clients[0]["ClientId"]
    args = {k: pool_props[k] for k in ("AliasAttributes", "UsernameConfiguration", "AutoVerifiedAttributes",
                                       "AdminCreateUserConfig", "Policies", "Schema") if k in pool_props}
    pool = idp.create_user_pool(PoolName=name, **args)["UserPool"]
    # CloudFormation's EnabledMfas and MfaConfiguration are the API's SetUserPoolMfaConfig.
    if "SOFTWARE_TOKEN_MFA" in pool_props.get("EnabledMfas", []):
        idp.set_user_pool_mfa_config(UserPoolId=pool["Id"], SoftwareTokenMfaConfiguration={"Enabled": True},
                                     MfaConfiguration=pool_props.get("MfaConfiguration", "OPTIONAL"))
    client_args = {k: client_props[k] for k in ("ExplicitAuthFlows", "ReadAttributes", "WriteAttributes",
                                                "GenerateSecret", "PreventUserExistenceErrors",
                                                "RefreshTokenValidity", "IdTokenValidity", "AccessTokenValidity",
                                                "TokenValidityUnits") if k in client_props}
    client = idp.create_user_pool_client(UserPoolId=pool["Id"], ClientName=f"{prefix}-web", **client_args)
    print(f"user pool {pool['Id']} created")
    return pool["Id"], client["UserPoolClient"]["ClientId"]


def operator_session(endpoint: str, state_dir: Path):
    """The operator's session. The first call makes the operator and turns IAM checks on."""
    keys_file = state_dir / "operator.json"
    if not keys_file.exists():
        setup = boto3.session.Session(region_name=REGION, **CREDENTIALS)
        iam = setup.client("iam", endpoint_url=endpoint)
        try:
            iam.create_user(UserName="operator")
        except iam.exceptions.EntityAlreadyExistsException:
            pass
        iam.put_user_policy(UserName="operator", PolicyName="everything", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
        key = iam.create_access_key(UserName="operator")["AccessKey"]
        state_dir.mkdir(parents=True, exist_ok=True)
        keys_file.write_text(json.dumps({"aws_access_key_id": key["AccessKeyId"],
                                         "aws_secret_access_key": key["SecretAccessKey"]}))
        req = urllib.request.Request(f"{endpoint}/moto-api/reset-auth", data=b"0", method="POST",
                                     headers={"content-type": "text/plain"})
        urllib.request.urlopen(req, timeout=10).read()
        print("IAM enforcement on; operator credentials in", keys_file)
    return boto3.session.Session(region_name=REGION, **json.loads(keys_file.read_text()))


def create(port: int, prefix: str, env_file: Path, state_dir: Path) -> None:
    endpoint = f"http://127.0.0.1:{port}"
    if not moto_answers(port):
        fail(f"nothing answers on {endpoint}; run `start --port {port}` first")
    template = load_template()
    # Look all four up first, so a template change fails before anything is created.
    _, table_props = only_resource(template, "AWS::DynamoDB::Table")
    _, key_props = named_resource(template, "MessageKey", "AWS::KMS::Key")
    _, chain_key_props = named_resource(template, "AuditChainKey", "AWS::KMS::Key")
    # The web bucket (behind CloudFront) is not needed locally: the gateway serves web/dist.
    _, bucket_props = named_resource(template, "AttachmentBucket", "AWS::S3::Bucket")
    _, heads_props = named_resource(template, "AuditHeadsBucket", "AWS::S3::Bucket")
    # The notifications topic; the inbound-SMS topic is played by the gateway's /_local/sms.
    _, topic_props = named_resource(template, "NotificationTopic", "AWS::SNS::Topic")
    _, pool_props = named_resource(template, "UserPool", "AWS::Cognito::UserPool")
    _, client_props = named_resource(template, "UserPoolClient", "AWS::Cognito::UserPoolClient")
    _, scan_props = named_resource(template, "AttachmentMalwareProtection", "AWS::GuardDuty::MalwareProtectionPlan")

    session = operator_session(endpoint, state_dir)
    table_name, bucket_name = f"{prefix}-table", f"{prefix}-attachments"
    table = create_table(session, endpoint, table_name, table_props)
    key_arn = create_key(session, endpoint, f"alias/{prefix}", key_props)
    chain_key_arn = create_key(session, endpoint, f"alias/{prefix}-audit-chain", chain_key_props)
    create_bucket(session, endpoint, bucket_name, bucket_props, key_arn)
    protect_bucket(session, endpoint, bucket_name, scan_props)
    heads_bucket = f"{prefix}-audit-heads"
    create_bucket(session, endpoint, heads_bucket, heads_props, key_arn)
    topic_arn = create_topic(session, endpoint, f"{prefix}-notifications", topic_props)
    pool_id, client_id = create_user_pool(session, endpoint, prefix, pool_props, client_props)
    from function_roles import create_roles  # (it reads this module's constants)

    role_prefix = create_roles(session, endpoint, prefix, table["TableArn"],
                               {"AttachmentBucket": bucket_name, "AuditHeadsBucket": heads_bucket})
    operator = session.get_credentials()

    env = {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_REGION": REGION,
        # The operator's keys, for scripts and tools; functions use their own roles.
        "AWS_ACCESS_KEY_ID": operator.access_key,
        "AWS_SECRET_ACCESS_KEY": operator.secret_key,
        "USER_POOL_ID": pool_id,
        "USER_POOL_CLIENT_ID": client_id,
        "FUNCTION_ROLE_PREFIX": role_prefix,
        "TABLE_NAME": table_name,
        "BUCKET_NAME": bucket_name,
        "KMS_KEY_ID": key_arn,
        # The audit chain's HMAC key (template: the audit-chain function's environment only;
        # locally every function sees it, and only that function's role may use it).
        "AUDIT_CHAIN_KEY_ID": chain_key_arn,
        "AUDIT_HEADS_BUCKET": heads_bucket,
        "TOPIC_ARN": topic_arn,
        "TABLE_STREAM_ARN": table.get("LatestStreamArn", ""),
    }
    env_file.parent.mkdir(parents=True, exist_ok=True)
    env_file.write_text("".join(f"{k}={v}\n" for k, v in env.items()))
    print(f"wrote {env_file}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    p = commands.add_parser("start", help="start moto_server in the background")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--state-dir", type=Path, required=True)

    p = commands.add_parser("stop", help="stop the moto_server started by `start`")
    p.add_argument("--state-dir", type=Path, required=True)

    p = commands.add_parser("create", help="create the resources template.yaml declares")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--prefix", required=True)
    p.add_argument("--env-file", type=Path, required=True)
    p.add_argument("--state-dir", type=Path, required=True)

    args = parser.parse_args()
    if args.command == "start":
        start(args.port, args.state_dir)
    elif args.command == "stop":
        stop(args.state_dir)
    else:
        create(args.port, args.prefix, args.env_file, args.state_dir)


if __name__ == "__main__":
    main()
