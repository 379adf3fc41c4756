#!/usr/bin/env bash
# Deploy Lightbox to AWS as the stack lightbox-<env>.
#
#   ./deploy.sh -e dev|prod [--yes] [--dry-run] [--endpoint-url URL]
#
#   -e, --environment   dev or prod; parameters come from infra/aws/<env>.env
#   --yes               deploy prod without asking
#   --dry-run           build and check the package, print every AWS command instead of running it
#   --endpoint-url URL  send every AWS call to URL (LocalStack); AWS_ENDPOINT_URL works too
#
# LIGHTBOX_DATABASE_URL is the PostgreSQL URL the functions use (never stored in the repo).
# LIGHTBOX_ARTIFACT_BUCKET names the bucket for packaged code (default: created per account).
set -euo pipefail
cd "$(dirname "$0")"

usage() {
  sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
}

fail() {
  echo "deploy.sh: $*" >&2
  exit 1
}

environment="" yes=0 dry_run=0 endpoint="${AWS_ENDPOINT_URL:-}"
while [ $# -gt 0 ]; do
  case "$1" in
    -e | --environment) environment=${2:-}; shift 2 ;;
    --yes) yes=1; shift ;;
    --dry-run) dry_run=1; shift ;;
    --endpoint-url) endpoint=${2:-}; shift 2 ;;
    -h | --help) usage ;;
    *) echo "deploy.sh: unknown argument '$1'" >&2; usage ;;
  esac
done
case "$environment" in
  dev | prod) ;;
  "") echo "deploy.sh: -e dev|prod is required" >&2; usage ;;
  *) fail "unknown environment '$environment': use dev or prod" ;;
esac

stack="lightbox-$environment"
build=".build/$environment"
parameters_file="infra/aws/$environment.env"
# Lambda's runtime, Python 3.12: the handlers are import-checked with the wheels built for it.
# PYTHON, else python3.12, else the venv ./dev.sh made (which prefers 3.12).
is_python312() {
  "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' 2>/dev/null
}
python=${PYTHON:-}
if [ -z "$python" ]; then
  for candidate in python3.12 .venv/bin/python; do
    if is_python312 "$candidate"; then
      python=$candidate
      break
    fi
  done
fi
[ -f "$parameters_file" ] || fail "missing $parameters_file"

# In a dry run, show the command; otherwise run it.
run() {
  if [ "$dry_run" = 1 ]; then
    printf '+'
    printf ' %q' "$@"
    printf '\n'
  else
    "$@"
  fi
}
aws_cli() {
  run aws ${endpoint:+--endpoint-url "$endpoint"} "$@"
}

[ -n "$python" ] && is_python312 "$python" \
  || fail "Python 3.12, Lambda's runtime, is required: set PYTHON to one"
command -v zip >/dev/null || fail "zip is required"
if [ "$dry_run" = 0 ]; then
  command -v aws >/dev/null || fail "the AWS CLI (aws) is required; --dry-run works without it"
  [ -n "${LIGHTBOX_DATABASE_URL:-}" ] || fail "set LIGHTBOX_DATABASE_URL to the database URL"
fi

# --- build: the functions with wheels for Lambda's runtime, never this machine's ----------
echo "==> building the Lambda package in $build"
rm -rf "$build"
mkdir -p "$build/package"
"$python" -m pip install --quiet --disable-pip-version-check --no-warn-conflicts \
  --root-user-action=ignore --target "$build/package" \
  --platform manylinux2014_x86_64 --platform manylinux_2_28_x86_64 \
  --only-binary=:all: --python-version 3.12 --implementation cp \
  -r requirements.txt
cp -R functions/. "$build/package/"
cp -R migrations "$build/package/migrations"
find "$build/package" -name __pycache__ -prune -exec rm -rf {} +
sed 's#^\(    CodeUri:\) functions/$#\1 package/#' template.yaml >"$build/template.yaml"
grep -q 'CodeUri: package/' "$build/template.yaml" || fail "could not point the template at the package"

# Every handler the template names must import from the package alone.
"$python" - "$build/package" "$build/template.yaml" <<'PY'
import importlib, re, sys
sys.path[:0] = [sys.argv[1]]
handlers = re.findall(r"^\s+Handler: (\S+)$", open(sys.argv[2]).read(), re.M)
for handler in handlers:
    module, attribute = handler.rsplit(".", 1)
    if not callable(getattr(importlib.import_module(module), attribute)):
        sys.exit(f"{handler} is not callable")
print(f"==> {len(handlers)} handlers import from the package: {', '.join(handlers)}")
PY
echo "==> package size: $(du -sh "$build/package" | cut -f1)"

if [ "$environment" = prod ] && [ "$yes" = 0 ] && [ "$dry_run" = 0 ]; then
  read -r -p "Deploy to PRODUCTION ($stack)? Type 'prod' to continue: " answer
  [ "$answer" = prod ] || fail "not confirmed"
fi

# --- package and deploy --------------------------------------------------------------------
if [ "$dry_run" = 1 ]; then
  artifact_bucket=${LIGHTBOX_ARTIFACT_BUCKET:-"lightbox-artifacts-ACCOUNT-REGION"}
else
  account=$(aws ${endpoint:+--endpoint-url "$endpoint"} sts get-caller-identity --query Account --output text)
  region=$(aws configure get region || echo "${AWS_REGION:-us-east-1}")
  artifact_bucket=${LIGHTBOX_ARTIFACT_BUCKET:-"lightbox-artifacts-$account-$region"}
  aws ${endpoint:+--endpoint-url "$endpoint"} s3api head-bucket --bucket "$artifact_bucket" 2>/dev/null ||
    aws_cli s3 mb "s3://$artifact_bucket"
fi

overrides=("Environment=$environment" "DatabaseUrl=${LIGHTBOX_DATABASE_URL:-<LIGHTBOX_DATABASE_URL>}")
while IFS= read -r line; do
  case "$line" in '' | '#'*) continue ;; esac
  overrides+=("$line")
done <"$parameters_file"

echo "==> deploying $stack"
aws_cli cloudformation package --template-file "$build/template.yaml" \
  --s3-bucket "$artifact_bucket" --s3-prefix "$stack" \
  --output-template-file "$build/packaged.yaml"
aws_cli cloudformation deploy --template-file "$build/packaged.yaml" --stack-name "$stack" \
  --capabilities CAPABILITY_IAM CAPABILITY_AUTO_EXPAND --no-fail-on-empty-changeset \
  --parameter-overrides "${overrides[@]}"

echo "==> migrating the database"
if [ "$dry_run" = 1 ]; then
  migrate_function="<MigrateFunctionName output of $stack>"
else
  migrate_function=$(aws ${endpoint:+--endpoint-url "$endpoint"} cloudformation describe-stacks \
    --stack-name "$stack" --output text \
    --query "Stacks[0].Outputs[?OutputKey=='MigrateFunctionName'].OutputValue")
fi
if [ "$dry_run" = 1 ]; then
  aws_cli lambda invoke --function-name "$migrate_function" "$build/migrate.json"
else
  # invoke succeeds even when the function fails: the failure is in FunctionError.
  failure=$(aws ${endpoint:+--endpoint-url "$endpoint"} lambda invoke \
    --function-name "$migrate_function" --query FunctionError --output text "$build/migrate.json")
  cat "$build/migrate.json"
  echo
  [ "$failure" = None ] || fail "migrations failed ($failure)"
fi

aws_cli cloudformation describe-stacks --stack-name "$stack" \
  --query "Stacks[0].Outputs" --output table
