# mini-proxy: build with the Swift toolchain, run on slim Debian with a static Swift stdlib.
# The toolchain this project is developed and tested with (Swift 6.3).
FROM swift:6.3-bookworm AS build
RUN apt-get update -q && apt-get install -y -q --no-install-recommends libuv1-dev libssl-dev libyaml-dev zlib1g-dev libzstd-dev libbrotli-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
COPY Sources ./Sources
# SwiftPM checks every declared target's folder, test targets included.
COPY Tests ./Tests
# The release link orders start-up and request-path functions by this list (Package.swift, linkerSettings).
COPY link-order/startup-order.txt ./link-order/startup-order.txt
RUN swift build -c release --static-swift-stdlib --product mini-proxy \
    && install -D -s "$(swift build -c release --show-bin-path)/mini-proxy" /out/mini-proxy

FROM debian:bookworm-slim
RUN apt-get update -q && apt-get install -y -q --no-install-recommends libuv1 libssl3 libyaml-0-2 zlib1g libzstd1 libbrotli1 ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home /nonexistent --shell /usr/sbin/nologin mini-proxy
COPY --from=build /out/mini-proxy /usr/local/bin/mini-proxy
COPY config /etc/mini-proxy
USER mini-proxy
EXPOSE 3001
# In a container the proxy must listen on all interfaces; set inbound keys (MINI_PROXY_API_KEY) when
# the port is reachable from other machines.
ENV MINI_PROXY_LISTEN=0.0.0.0:3001
HEALTHCHECK --interval=10s --timeout=2s CMD curl -fsS http://127.0.0.1:3001/healthz || exit 1
ENTRYPOINT ["/usr/local/bin/mini-proxy"]
CMD ["serve", "--config", "/etc/mini-proxy/ai-gateway.yaml"]
