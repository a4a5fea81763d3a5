# Pharos' image (BuildKit's built-in Dockerfile frontend: no `# syntax=`
# line, so nothing but the base images is pulled):
#
#   docker build -t pharos .
#   docker run -p 9090:9090 -v pharos-data:/data pharos
#
# Two stages: `build` compiles the release binary (first-party plugins
# inside) with the toolchain of rust-toolchain.toml; `runtime` is
# debian:bookworm-slim with the binary, a non-root `pharos` user, the
# packaged configuration (packaging/pharos.toml) and Pharos' own alert
# rules (monitoring/alerts.yml).
#
# The runtime stage takes the binary from the stage `pharos-binary`. A
# named build context of that name replaces it, so an image is made from a
# binary built elsewhere without compiling anything:
#
#   docker build --build-context pharos-binary=DIR_WITH_pharos --target runtime .
#
# CI (.ci/run) checks the image that way with the binary of its test run.

ARG DEBIAN=bookworm

FROM rust:1.95-slim-${DEBIAN} AS build
WORKDIR /src
COPY . .
# The toolchain, components and wasm32-wasip2 target of rust-toolchain.toml.
RUN rustup toolchain install 2>/dev/null || rustup show active-toolchain
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p pharos \
    && cp target/release/pharos /pharos

FROM scratch AS pharos-binary
COPY --from=build /pharos /pharos

FROM debian:${DEBIAN}-slim AS runtime
# tzdata: the time zones of alert routing's time intervals. TLS roots are
# built into the binary.
RUN apt-get update \
    && apt-get install -y --no-install-recommends tzdata \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 pharos \
    && useradd --system --uid 10001 --gid pharos --home-dir /data \
        --no-create-home --shell /usr/sbin/nologin pharos \
    && mkdir -p /data /etc/pharos/rules \
    && chown pharos:pharos /data
COPY --from=pharos-binary --chmod=0755 /pharos /usr/bin/pharos
COPY packaging/pharos.toml /etc/pharos/pharos.toml
COPY monitoring/alerts.yml /etc/pharos/rules/pharos.yml
USER pharos
WORKDIR /data
VOLUME /data
EXPOSE 9090
# /-/healthy over bash's /dev/tcp: no HTTP client in the image. It assumes
# plain HTTP on port 9090 (the CMD's --listen).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --start-interval=2s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/9090 && printf 'GET /-/healthy HTTP/1.0\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]
ENTRYPOINT ["/usr/bin/pharos"]
CMD ["run", "--config", "/etc/pharos/pharos.toml", "--listen", "0.0.0.0:9090", "--data", "/data"]
