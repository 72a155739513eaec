"""IAM for the local stack, as AWS holds it (imported by moto_server.py before moto's
services load): Cognito's token-authorized operations and CORS preflights are not held to
IAM; presigned S3 URLs are checked as S3 checks them; DynamoDB requests are checked item by
item against the role's statements as written (iam_conditions.py); every refusal is logged
(`IAM DENIED <action> to <role>`) so a permission missing from template.yaml names itself in
moto.log; and the role session behind an access key is found by an index.
"""

import json
import sys

import iam_conditions
from moto.sts.models import sts_backends

from moto.core.authorization import ActionAuthenticatorMixin

# Cognito's user-facing operations are authorized by the user's own access token or sign-in
# session, never by IAM (AWS: "unauthenticated" and "token-authorized" operations). moto's
# list of them is short, and with IAM enforcement on it fails the rest (500, no signature):
# the second factor's set-up and challenge (ACCT-3) among them.
ActionAuthenticatorMixin.PUBLIC_OPERATIONS = sorted(set(ActionAuthenticatorMixin.PUBLIC_OPERATIONS) | {
    f"AWSCognitoIdentityProviderService.{op}" for op in (
        "AssociateSoftwareToken", "ChangePassword", "ConfirmForgotPassword", "ConfirmSignUp",
        "ForgotPassword", "GetUser", "GlobalSignOut", "InitiateAuth", "ResendConfirmationCode",
        "RespondToAuthChallenge", "RevokeToken", "SetUserMFAPreference", "SignUp",
        "UpdateUserAttributes", "VerifySoftwareToken", "VerifyUserAttribute",
    )
})

# CORS preflights are never signed and AWS never checks them against IAM; with enforcement on
# moto would try (and answer 500). Let them reach moto's CORS handling.
_authorize = ActionAuthenticatorMixin._authenticate_and_authorize_action


def _authorize_unless_preflight(self, *args, **kwargs):
    if getattr(self, "method", None) == "OPTIONS":
        return None
    if "Authorization" not in self.headers and "X-Amz-Credential=" in (self.uri or ""):
        return _authorize_presigned(self, *args, **kwargs)
    return _authorize(self, *args, **kwargs)


def _authorize_presigned(self, *args, **kwargs):
    """moto checks IAM only for header-signed requests; a presigned S3 URL signs in its query.
    Its signer's permission is checked as for any call (the action, by the role that signed
    it), and its signature is recomputed here as S3 does for a query-signed request (moto's
    own check knows only the header form): a PUT whose Content-Type or Content-Length differs
    from what was signed, an edited key or an expired URL are refused, as in AWS."""
    from urllib.parse import parse_qsl, urlparse

    from moto.iam.access_control import IAMRequestBase

    url = urlparse(self.uri)
    query = dict(parse_qsl(url.query, keep_blank_values=True))
    headers = dict(self.headers)
    headers["Authorization"] = (f"AWS4-HMAC-SHA256 Credential={query.get('X-Amz-Credential', '')}, "
                                f"SignedHeaders={query.get('X-Amz-SignedHeaders', '')}, "
                                f"Signature={query.get('X-Amz-Signature', '')}")
    if "X-Amz-Security-Token" in query:
        headers["X-Amz-Security-Token"] = query["X-Amz-Security-Token"]

    def check_query_signature(request) -> None:
        if presigned_signature(request, self.method, url, dict(self.headers)) != query.get("X-Amz-Signature"):
            request._raise_signature_does_not_match()
        if presigned_expired(query):
            request._raise_access_denied()

    original_headers, original_check = self.headers, IAMRequestBase.check_signature
    self.headers, IAMRequestBase.check_signature = headers, check_query_signature
    try:
        return _authorize(self, *args, **kwargs)
    finally:
        self.headers, IAMRequestBase.check_signature = original_headers, original_check


def presigned_signature(request, method: str, url, sent_headers: dict) -> str:
    """SigV4 of a query-signed S3 request, from the signer's secret (moto's record of it)."""
    import hashlib
    import hmac
    from urllib.parse import parse_qsl, quote

    secret = request._access_key.create_credentials().secret_key
    pairs = [(k, v) for k, v in parse_qsl(url.query, keep_blank_values=True) if k != "X-Amz-Signature"]
    canonical_query = "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in sorted(pairs))
    lower = {k.lower(): str(v).strip() for k, v in sent_headers.items()}
    query = dict(pairs)
    signed = query.get("X-Amz-SignedHeaders", "").split(";")
    canonical_headers = "".join(f"{h}:{lower.get(h, '')}\n" for h in signed)
    canonical_request = "\n".join([method, url.path, canonical_query, canonical_headers, ";".join(signed), "UNSIGNED-PAYLOAD"])
    credential = query.get("X-Amz-Credential", "").split("/")
    scope = "/".join(credential[1:])
    to_sign = "\n".join(["AWS4-HMAC-SHA256", query.get("X-Amz-Date", ""), scope,
                         hashlib.sha256(canonical_request.encode()).hexdigest()])
    key = ("AWS4" + secret).encode()
    for part in credential[1:5]:
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def presigned_expired(query: dict) -> bool:
    from datetime import datetime, timedelta, timezone

    try:
        signed_at = datetime.strptime(query["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
        return datetime.now(timezone.utc) > signed_at + timedelta(seconds=int(query["X-Amz-Expires"]))
    except (KeyError, ValueError):
        return True


ActionAuthenticatorMixin._authenticate_and_authorize_action = _authorize_unless_preflight

from moto.iam import access_control  # noqa: E402

_check = access_control.IAMRequestBase.check_action_permitted


# DynamoDB transactions are not IAM actions of their own: AWS checks each item of one against
# its operation's action (a Put needs dynamodb:PutItem, an Update dynamodb:UpdateItem, a
# Delete dynamodb:DeleteItem, a ConditionCheck dynamodb:ConditionCheckItem; a TransactGet's
# items dynamodb:GetItem). moto checks the call's name instead; here each item's action is.
_TRANSACTIONS = {"dynamodb:TransactWriteItems", "dynamodb:TransactGetItems"}


def _item_actions(request) -> list[str]:
    items = iam_conditions.checks(request._action, request._body, lambda _table: "pk")
    return sorted({check.action for check in items}) or [request._action]


def _logged_check(self, resource):
    checked = _item_actions(self) if self._action in _TRANSACTIONS else [self._action]
    call = self._action
    try:
        for action in checked:
            self._action = action
            _check(self, resource)
    except Exception:
        principal = getattr(getattr(self, "_access_key", None), "arn", "?")
        print(f"IAM DENIED {self._action} to {principal}", file=sys.stderr, flush=True)
        raise
    finally:
        self._action = call
    if call.startswith("dynamodb:"):
        _check_dynamodb_items(self)


# moto ignores a statement's resource and conditions, so a function's DynamoDB statements as
# the template writes them (its role's policy `iam_conditions.ROLE_POLICY`, made by
# function_roles.py) are evaluated here, item by item, with their dynamodb:LeadingKeys
# conditions (iam_conditions.py). moto checks the other policies only.
def _role_policies_for_moto(self):
    names = [n for n in self.backend.list_role_policies(self._owner_role_name) if n != iam_conditions.ROLE_POLICY]
    policies = [self.backend.get_role_policy(self._owner_role_name, n)[1] for n in names]
    attached, _ = self.backend.list_attached_role_policies(self._owner_role_name)
    return policies + list(attached)


access_control.AssumedRoleAccessKey.collect_policies = _role_policies_for_moto


def _check_dynamodb_items(request) -> None:
    from moto.dynamodb.models import dynamodb_backends

    key = request._access_key
    if not isinstance(key, access_control.AssumedRoleAccessKey):
        return  # the operator: a user with every right
    if iam_conditions.ROLE_POLICY not in key.backend.list_role_policies(key._owner_role_name):
        return
    statements = json.loads(key.backend.get_role_policy(key._owner_role_name, iam_conditions.ROLE_POLICY)[1])["Statement"]
    backend = dynamodb_backends[request.account_id][request._region]

    def hash_key_of(table: str) -> str:
        try:
            return backend.get_table(table).hash_key_attr
        except Exception:
            return "pk"  # no such table: DynamoDB answers that, after IAM

    for check in iam_conditions.checks(request._action, request._body, hash_key_of):
        if not iam_conditions.permitted(statements, check):
            print(f"IAM DENIED {check} to {key.arn}", file=sys.stderr, flush=True)
            request._raise_access_denied()
        if check.action in iam_conditions.WRITE_ACTIONS:
            _note_partitions(key._owner_role_name, check)


# Which partitions each role wrote, once each, for iam_check.py's report (roles can then be
# narrowed with dynamodb:LeadingKeys to the partitions a function really writes).
_noted: set[tuple[str, str, str]] = set()


def _note_partitions(role: str, check) -> None:
    for pk in check.leading_keys:
        noted = (role, check.action, iam_conditions.partition_shape(pk))
        if noted not in _noted:
            _noted.add(noted)
            sys.stderr.write("IAM PARTITION {} {} {}\n".format(*noted))  # one write: threads interleave
            sys.stderr.flush()


access_control.IAMRequestBase.check_action_permitted = _logged_check
_signature = access_control.IAMRequestBase.check_signature


def _logged_signature(self):
    try:
        return _signature(self)
    except Exception:
        # moto recomputes SNS's form-encoded (query protocol) signatures differently from the
        # AWS SDK for Rust and refuses valid calls; the caller's identity and permission are
        # still checked. Every other service's signature must match.
        if self._action.startswith("sns:"):
            return None
        print(f"IAM SIGNATURE REFUSED {self._action}", file=sys.stderr, flush=True)
        raise


access_control.IAMRequestBase.check_signature = _logged_signature

# The role session behind an access key, found by an index: moto searched every session ever
# assumed (each test assumes the functions' roles again), a tenth of moto's time in a test run.
_sessions_by_key: dict = {}


def _assumed_role_key(self, account_id, partition, access_key_id, headers):
    """moto's AssumedRoleAccessKey.__init__, with the session found by its key in an index
    (rebuilt when sessions were added) rather than by a scan of them all."""
    sessions = sts_backends[account_id][partition].assumed_roles
    index = _sessions_by_key.get((account_id, partition))
    if index is None or index[0] != len(sessions) or access_key_id not in index[1]:
        index = (len(sessions), {s.access_key_id: s for s in sessions})
        _sessions_by_key[(account_id, partition)] = index
    self.account_id, self.partition = account_id, partition
    session = index[1].get(access_key_id)
    if session is None:
        raise access_control.CreateAccessKeyFailure(reason="InvalidId")
    self._access_key_id = access_key_id
    self._secret_access_key = session.secret_access_key
    self._session_token = session.session_token
    self._owner_role_name = session.role_arn.split("/")[-1]
    self._session_name = session.session_name
    if headers["X-Amz-Security-Token"] != self._session_token:
        raise access_control.CreateAccessKeyFailure(reason="InvalidToken")


access_control.AssumedRoleAccessKey.__init__ = _assumed_role_key
