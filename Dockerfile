ARG BASE_IMAGE=debian:bookworm-slim
# SPDX-License-Identifier: MIT
# huddle in two stages: a build stage with the toolchain and -dev packages, and a small runtime stage
# with only the shared libraries the binary loads. Debian packages only.
#   docker build -t huddle . && docker run -p 3003:3003 huddle
# Config: HUDDLE_* environment variables, or a file mounted at /etc/huddle/huddle.conf
# (-v ./huddle.conf:/etc/huddle/huddle.conf:ro), or another path via HUDDLE_CONFIG / --config.
# HTTPS: -v ./certs:/certs:ro -e HUDDLE_SSL_PORT=3443 -e HUDDLE_SSL_CERTIFICATE=/certs/huddle.pem
# -p 3443:3443 (certificate from scripts/make-cert.sh).
FROM ${BASE_IMAGE} AS build
WORKDIR /src
COPY scripts/install-deps.sh scripts/install-deps.sh
RUN scripts/install-deps.sh build
COPY . .
RUN rm -rf build \
    && cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DHUDDLE_TESTS=OFF \
    && cmake --build build -j"$(nproc)" \
    && strip build/huddle build/tls/*.so

FROM ${BASE_IMAGE} AS runtime
# libcivetweb1, libjansson4 and libuv1 are what the binary links beyond libc; libssl3 is what the TLS glue
# (lib/huddle/tls, loaded only when ssl_certificate is set) links. The health check uses bash's
# /dev/tcp, so curl and its dependencies stay out of the image.
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        libcivetweb1 libjansson4 libssl3 libuv1 \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin \
    && useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin huddle \
    && mkdir -p /etc/huddle
COPY --from=build /src/build/huddle /usr/local/bin/huddle
COPY --from=build /src/build/tls/ /usr/local/lib/huddle/tls/
COPY --from=build /src/www /usr/share/huddle/www
ENV HUDDLE_DOCUMENT_ROOT=/usr/share/huddle/www \
    HUDDLE_BIND_ADDRESS=0.0.0.0
# The working directory holds the default ./huddle.conf, so a file mounted there is read without flags.
WORKDIR /etc/huddle
USER huddle
EXPOSE 3003
HEALTHCHECK --interval=30s --timeout=5s --start-period=5s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${HUDDLE_LISTENING_PORT:-3003} && printf 'GET /healthz HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && timeout 4 head -n 1 <&3 | grep -q ' 200 '"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/huddle"]
