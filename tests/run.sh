#!/usr/bin/env bash
# The whole test suite, as the README and CI run it. Installs what the integration tests need
# (Debian's rabbitmq-server and postgresql, and Node.js with npm for the S3-protocol test server, s3rver,
# which the fixture installs from the npm registry) when it is missing, then runs every test project and
# ends with one line: "N passed, N failed". tests/run.sh --help lists its options.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: tests/run.sh [options] [dotnet test arguments...]

Builds the solution (Release) and runs every test project, then prints "N passed, N failed".
Installs rabbitmq-server, postgresql, nodejs and npm from Debian first when they are missing.

Options:
  --fast                 the fast tier only (a few minutes): unit, saga-harness and in-process tests;
                         nothing that needs RabbitMQ, PostgreSQL, S3 or the CLI and demo processes,
                         so nothing is installed
  --filter <expression>  run only the matching tests (dotnet test --filter), e.g.
                         --filter "FullyQualifiedName~DemoTests"
                         --filter "FullyQualifiedName~CliUsageTests|FullyQualifiedName~DemoTests"
  -h, --help             print this and exit
  --                     pass everything after it to dotnet test as it is

Any other argument is passed to dotnet test, e.g. --logger "console;verbosity=detailed".
USAGE
}

# One case per option, so a new one is one more branch.
test_args=()
fast=false
# The slow tier: tests on real servers, the CLI and the demo as processes, the benchmark smoke run.
slow_tier='FullyQualifiedName!~KlingService.Tests.Integration.&FullyQualifiedName!~KlingService.Tests.Cli.&FullyQualifiedName!~KlingService.Tests.ClientExample.&FullyQualifiedName!~KlingService.Tests.Benchmarks.&FullyQualifiedName!~KlingService.Tests.Hosting.DemoTests'
while (($#)); do
  case $1 in
    -h | --help)
      usage
      exit 0
      ;;
    --fast)
      fast=true
      shift
      ;;
    --filter)
      if (($# < 2)); then
        echo "tests/run.sh: --filter needs an expression (tests/run.sh --help)" >&2
        exit 2
      fi
      test_args+=(--filter "$2")
      shift 2
      ;;
    --filter=*)
      test_args+=(--filter "${1#--filter=}")
      shift
      ;;
    --)
      shift
      test_args+=("$@")
      break
      ;;
    *)
      test_args+=("$1")
      shift
      ;;
  esac
done

cd "$(dirname "$0")/.."

if [[ $fast == true ]]; then
  has_filter=false
  for ((i = 0; i < ${#test_args[@]}; i++)); do
    if [[ ${test_args[i]} == --filter ]]; then
      test_args[i + 1]="(${test_args[i + 1]})&${slow_tier}"
      has_filter=true
    fi
  done
  [[ $has_filter == true ]] || test_args+=(--filter "$slow_tier")
fi

missing=()
[[ -x /usr/lib/rabbitmq/bin/rabbitmq-server || -x /usr/sbin/rabbitmq-server ]] || missing+=(rabbitmq-server)
compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null || missing+=(postgresql)
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
if [[ $fast == false ]] && ((${#missing[@]})); then
  echo "Installing ${missing[*]} for the integration tests..."
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  # The tests start their own servers on free ports; keep the packages' services from starting.
  printf '#!/bin/sh\nexit 101\n' | "${sudo_cmd[@]}" tee /usr/sbin/policy-rc.d >/dev/null
  "${sudo_cmd[@]}" chmod +x /usr/sbin/policy-rc.d
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  "${sudo_cmd[@]}" rm -f /usr/sbin/policy-rc.d
fi

results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT
status=0
# Build everything first: the benchmark smoke test runs the benchmark harness, which no test project references.
if dotnet build KlingService.sln --configuration Release -nologo -v quiet; then
  dotnet test KlingService.sln --configuration Release --no-build --logger "trx" --results-directory "$results" ${test_args[@]+"${test_args[@]}"} || status=$?
else
  status=1
fi

passed=0
failed=0
skipped=0
for trx in "$results"/*.trx; do
  [[ -f $trx ]] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx")
  passed=$((passed + $(sed -E 's/.* passed="([0-9]+)".*/\1/' <<<"$counters")))
  failed=$((failed + $(sed -E 's/.* failed="([0-9]+)".*/\1/' <<<"$counters")))
  total=$(sed -E 's/.* total="([0-9]+)".*/\1/' <<<"$counters")
  executed=$(sed -E 's/.* executed="([0-9]+)".*/\1/' <<<"$counters")
  skipped=$((skipped + total - executed))
done
if ((status != 0 && failed == 0)); then
  # The build or the runner itself broke: no test result may count as a pass.
  failed=1
fi
((skipped == 0)) || echo "${skipped} tests were skipped; a skipped test is not a pass."
echo "${passed} passed, ${failed} failed"
exit "$status"
