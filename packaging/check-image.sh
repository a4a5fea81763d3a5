#!/usr/bin/env bash
# The container image check of CI (.ci/run), made cheap: instead of a
# release build inside Docker it builds only the Dockerfile's runtime stage
# around a binary built already (the test run's target/debug/pharos,
# stripped), starts it, and waits until /-/healthy answers and Docker's
# HEALTHCHECK reports "healthy". `docker build .` still does the whole
# multi-stage build.
#
#   packaging/check-image.sh [PHAROS_BINARY]
#
# Exits 0 with a "skipped:" line where Docker cannot build: no docker
# command, no running engine (`docker info` fails), no BuildKit (the
# Dockerfile's named build context and cache mounts need it) or no way to
# pull the base image.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=${1:-target/debug/pharos}
if ! command -v docker >/dev/null 2>&1; then
    echo "skipped: no docker command"
    exit 0
fi
if ! docker info >/dev/null 2>&1; then
    echo "skipped: \`docker info\` fails (no Docker engine running here)"
    exit 0
fi
if ! docker buildx version >/dev/null 2>&1; then
    echo "skipped: no BuildKit (\`docker buildx version\` fails)"
    exit 0
fi
# The base image comes from Docker Hub, which a CI machine may not reach.
base=debian:bookworm-slim
if ! docker image inspect "$base" >/dev/null 2>&1 &&
    ! timeout 180 docker pull -q "$base" >/dev/null 2>&1; then
    echo "skipped: cannot pull $base (no registry access here)"
    exit 0
fi
if [[ ! -x $bin ]]; then
    echo "check-image: $bin is missing: build it first (cargo build -p pharos)" >&2
    exit 1
fi

id=pharos-ci-$$
ctx=$(mktemp -d)
cleanup() {
    docker rm -f "$id" >/dev/null 2>&1 || true
    docker rmi -f "$id:latest" >/dev/null 2>&1 || true
    rm -rf "$ctx"
}
trap cleanup EXIT
strip -o "$ctx/pharos" "$bin" 2>/dev/null || cp "$bin" "$ctx/pharos"

timeout 600 docker buildx build --load --target runtime \
    --build-context pharos-binary="$ctx" -t "$id:latest" .
docker run -d --name "$id" -p 127.0.0.1::9090 "$id:latest" >/dev/null
port=$(docker port "$id" 9090/tcp | head -n 1 | sed 's/.*://')

healthy=
for _ in $(seq 90); do
    status=$(docker inspect --format '{{.State.Health.Status}}' "$id")
    if [[ $status == healthy ]] && {
        ! command -v curl >/dev/null || curl -fsS "http://127.0.0.1:$port/-/healthy" >/dev/null
    }; then
        healthy=1
        break
    fi
    if [[ $(docker inspect --format '{{.State.Running}}' "$id") != true ]]; then
        break
    fi
    sleep 1
done
if [[ -z $healthy ]]; then
    echo "check-image: the container did not become healthy" >&2
    docker inspect --format '{{json .State}}' "$id" >&2 || true
    docker logs "$id" >&2 || true
    exit 1
fi
user=$(docker exec "$id" id -un)
if [[ $user != pharos ]]; then
    echo "check-image: the container runs as $user, not pharos" >&2
    exit 1
fi
echo "check-image: healthy on 127.0.0.1:$port as user $user ($(docker image inspect --format '{{.Size}}' "$id:latest") bytes)"
