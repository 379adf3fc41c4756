#!/usr/bin/env bash
# Deploy Lightbox to AWS as the stack lightbox-<env>.
#
#   ./deploy.sh -e dev|prod [--yes] [--dry-run] [--endpoint-url URL] [--no-migrate]
#               [-p NAME=VALUE]...
#
#   -e, --environment   dev or prod; parameters come from infra/aws/<env>.env, then from
#                       infra/aws/<env>.local.env (not in git: VPC and subnet ids), then -p
#   -p, --parameter     one more template parameter, NAME=VALUE (repeatable)
#   --yes               deploy prod without asking
#   --dry-run           build and check everything offline and print each AWS command; with
#                       credentials (or an endpoint) also create the change set, unexecuted;
#                       the packages' sizes are written into docs/DEPLOY.md
#   --endpoint-url URL  send every AWS call to URL (LocalStack); AWS_ENDPOINT_URL works too
#   --no-migrate        deploy without running the migrations through the admin function after
#
# With CreateDatabase=false, LIGHTBOX_DATABASE_URL is the database the functions use
# (never stored in the repo). LIGHTBOX_ARTIFACT_BUCKET names the bucket for the packaged
# code (default: lightbox-artifacts-<account>-<region>, created when missing).
set -euo pipefail
cd "$(dirname "$0")"

usage() {
  # The comment at the top of this file, up to its first line of code.
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
  exit 2
}

fail() {
  echo "deploy.sh: $*" >&2
  exit 1
}

environment="" yes=0 dry_run=0 migrate=1 endpoint="${AWS_ENDPOINT_URL:-}" extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    -e | --environment) environment=${2:-}; shift 2 ;;
    -p | --parameter)
      [[ ${2:-} == ?*=* ]] || fail "-p takes NAME=VALUE, not '${2:-}'"
      extra+=("$2"); shift 2 ;;
    --yes) yes=1; shift ;;
    --dry-run) dry_run=1; shift ;;
    --endpoint-url) endpoint=${2:-}; shift 2 ;;
    --no-migrate) migrate=0; shift ;;
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

# --- parameters: the environment's file, its local companion, then -p ----------------------
overrides=("Environment=$environment")
for file in "infra/aws/$environment.env" "infra/aws/$environment.local.env"; do
  [ -f "$file" ] || continue
  while IFS= read -r line || [ -n "$line" ]; do
    case "$line" in '' | '#'*) continue ;; esac
    [[ $line == ?*=* ]] || fail "$file: expected NAME=VALUE, not '$line'"
    overrides+=("$line")
  done <"$file"
done
overrides+=(${extra[@]+"${extra[@]}"})
parameter() {  # the last value given for a parameter, else $2
  local value=$2 entry
  for entry in "${overrides[@]}"; do
    [ "${entry%%=*}" = "$1" ] && value=${entry#*=}
  done
  echo "$value"
}
create_database=$(parameter CreateDatabase true)
case "$create_database" in
  true) ;;
  false)
    if [ -n "${LIGHTBOX_DATABASE_URL:-}" ]; then
      overrides+=("ExternalDatabaseUrl=$LIGHTBOX_DATABASE_URL")
    elif [ "$dry_run" = 0 ]; then
      fail "CreateDatabase=false: set LIGHTBOX_DATABASE_URL to the database the functions use"
    fi ;;
  *) fail "CreateDatabase must be true or false, not '$create_database'" ;;
esac
# The processor the functions run on, and the packages' wheels are built for; unset, the
# template's default.
architecture=$(parameter Architecture "")
case "$architecture" in
  "" | x86_64 | arm64) ;;
  *) fail "Architecture must be x86_64 or arm64, not '$architecture'" ;;
esac
if [ "$create_database" = true ]; then
  for name in VpcId PrivateSubnetIds; do
    [ -n "$(parameter "$name" "")" ] ||
      fail "CreateDatabase=true needs $name (in infra/aws/$environment.local.env or -p $name=...)"
  done
fi

# --- tools -------------------------------------------------------------------------------------
# Lambda's runtime, Python 3.12, imports every handler before anything ships:
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
[ -n "$python" ] && is_python312 "$python" \
  || fail "Python 3.12, Lambda's runtime, is required: set PYTHON to one"
python=$("$python" -c 'import sys; print(sys.executable)')
has_aws=0
command -v aws >/dev/null && has_aws=1
[ "$has_aws" = 1 ] || [ "$dry_run" = 1 ] ||
  fail "the AWS CLI (aws) is required; --dry-run works without it"

# Every client the CLI makes, S3 uploads of `cloudformation package` included, goes there.
[ -z "$endpoint" ] || export AWS_ENDPOINT_URL=$endpoint
aws_quiet() {
  aws ${endpoint:+--endpoint-url "$endpoint"} "$@"
}
# A dry run talks to AWS only when it can: then it shows the change set it would execute.
live=1
if [ "$dry_run" = 1 ]; then
  live=0
  if [ "$has_aws" = 1 ] && aws_quiet sts get-caller-identity >/dev/null 2>&1; then
    live=1
  fi
fi
# In a dry run, every command that would change something is shown; otherwise it runs.
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

# --- build and check: packages for Lambda's runtime, never this machine's ----------------------
./dev.sh setup deploy
echo "==> building the Lambda packages in $build"
.venv/bin/python -m infra.aws.build --out "$build" --python "$python" \
  ${architecture:+--architecture "$architecture"}
if [ "$dry_run" = 1 ]; then
  # The deploy guide quotes the packages' sizes as this build measured them, never by hand.
  .venv/bin/python -m infra.aws.sizes "$build/packages.json" docs/DEPLOY.md
fi

if [ "$environment" = prod ] && [ "$yes" = 0 ] && [ "$dry_run" = 0 ]; then
  read -r -p "Deploy to PRODUCTION ($stack)? Type 'prod' to continue: " answer
  [ "$answer" = prod ] || fail "not confirmed"
fi

# --- package and deploy ----------------------------------------------------------------------
if [ "$live" = 1 ]; then
  account=$(aws_quiet sts get-caller-identity --query Account --output text)
  region=${AWS_REGION:-${AWS_DEFAULT_REGION:-$(aws configure get region || echo us-east-1)}}
  artifact_bucket=${LIGHTBOX_ARTIFACT_BUCKET:-"lightbox-artifacts-$account-$region"}
  # Code is uploaded by content hash, so a dry run may upload it too: it changes no stack.
  if ! aws_quiet s3api head-bucket --bucket "$artifact_bucket" >/dev/null 2>&1; then
    aws_quiet s3 mb "s3://$artifact_bucket" --region "$region"
  fi
  echo "==> uploading the packages to s3://$artifact_bucket/$stack/"
  aws_quiet cloudformation package --template-file "$build/template.json" \
    --s3-bucket "$artifact_bucket" --s3-prefix "$stack" \
    --output-template-file "$build/packaged.yaml" >"$build/package.log" 2>&1 ||
    fail "packaging failed: $(tail -n 3 "$build/package.log")"
else
  artifact_bucket=${LIGHTBOX_ARTIFACT_BUCKET:-"lightbox-artifacts-ACCOUNT-REGION"}
  aws_cli cloudformation package --template-file "$build/template.json" \
    --s3-bucket "$artifact_bucket" --s3-prefix "$stack" \
    --output-template-file "$build/packaged.yaml"
fi

echo "==> deploying $stack"
# The template goes up to the artifact bucket too: CloudFormation takes a template of more
# than 51,200 bytes only from S3.
deploy=(cloudformation deploy --template-file "$build/packaged.yaml" --stack-name "$stack"
  --s3-bucket "$artifact_bucket" --s3-prefix "$stack"
  --capabilities CAPABILITY_IAM CAPABILITY_AUTO_EXPAND --no-fail-on-empty-changeset
  --parameter-overrides "${overrides[@]}")
if [ "$dry_run" = 1 ] && [ "$live" = 1 ]; then
  aws_quiet "${deploy[@]}" --no-execute-changeset
  change_set=$(aws_quiet cloudformation list-change-sets --stack-name "$stack" \
    --query "sort_by(Summaries, &CreationTime)[-1].ChangeSetName" --output text)
  echo "==> the change set $change_set, not executed:"
  aws_quiet cloudformation describe-change-set --stack-name "$stack" \
    --change-set-name "$change_set" --output table \
    --query "Changes[].ResourceChange.{Action: Action, Resource: LogicalResourceId, Type: ResourceType, Replacement: Replacement}"
else
  aws_cli "${deploy[@]}"
fi

if [ "$migrate" = 1 ]; then
  echo "==> migrating the database"
  # The event from a file, as bytes: AWS CLI v2 reads an inline --payload as base64 unless
  # told otherwise, and v1 knows no option to tell it.
  printf '{"command": "migrate"}' >"$build/migrate-event.json"
  if [ "$dry_run" = 1 ]; then
    aws_cli lambda invoke --function-name "<AdminFunctionName output of $stack>" \
      --payload "fileb://$build/migrate-event.json" "$build/migrate.json"
  else
    admin_function=$(aws_quiet cloudformation describe-stacks --stack-name "$stack" \
      --output text --query "Stacks[0].Outputs[?OutputKey=='AdminFunctionName'].OutputValue")
    # invoke succeeds even when the function fails: the failure is in FunctionError.
    failure=$(aws_quiet lambda invoke --function-name "$admin_function" \
      --payload "fileb://$build/migrate-event.json" \
      --cli-read-timeout 330 --query FunctionError --output text "$build/migrate.json")
    cat "$build/migrate.json"
    echo
    [ "$failure" = None ] || fail "migrations failed ($failure): see $build/migrate.json"
  fi
fi

if [ "$dry_run" = 0 ]; then
  aws_quiet cloudformation describe-stacks --stack-name "$stack" \
    --query "Stacks[0].Outputs" --output table
fi
