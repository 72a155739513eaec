#!/usr/bin/env bash
# Publishes the web app to a deployed stack: builds web/dist, writes its config.json from
# the stack's outputs (API URL, Cognito hosted sign-in), uploads to the web bucket and
# invalidates CloudFront. Needs the AWS CLI and credentials for the practice's account.
#   infra/deploy_web.sh <stack-name>
set -euo pipefail
cd "$(dirname "$0")/.."
stack=${1:?usage: infra/deploy_web.sh <stack-name>}
output() {
  aws cloudformation describe-stacks --stack-name "$stack" \
    --query "Stacks[0].Outputs[?OutputKey=='$1'].OutputValue" --output text
}
api=$(output ApiUrl)
web=$(output WebUrl)
bucket=$(output WebBucketName)
distribution=$(output WebDistributionId)
domain=$(output AuthDomain)
client=$(output UserPoolClientId)

python3 infra/web.py
python3 - "$api" "$domain" "$client" "$web" >web/dist/config.json <<'PY'
import json, sys
api, domain, client, web = sys.argv[1:]
# The API's host names its region (…execute-api.<region>.amazonaws.com), the user pool's too.
region = api.split("://", 1)[-1].split(".")[2]
print(json.dumps({"auth": "cognito", "apiBaseUrl": api.rstrip("/"),
                  "cognito": {"domain": domain, "clientId": client, "redirectUri": web, "region": region}}))
PY
# Hashed assets may be cached for a year; index.html and config.json never.
aws s3 sync web/dist/assets "s3://$bucket/assets" --delete --cache-control "public, max-age=31536000, immutable"
for f in index.html config.json; do
  aws s3 cp "web/dist/$f" "s3://$bucket/$f" --cache-control "no-cache"
done
aws cloudfront create-invalidation --distribution-id "$distribution" --paths /index.html /config.json >/dev/null
echo "web app published: $web"
