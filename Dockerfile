# Multi-stage build: Swift 6 toolchain to build, slim Debian runtime with libyaml.
# Not exercised by CI (no container engine there); `make run` is the tested path. The toolchain
# is the one the project is tested with (6.3): Hummingbird 2's current releases need 6.2 or later.
FROM swift:6.3-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends libyaml-dev pkg-config && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
COPY Sources ./Sources
COPY Tests ./Tests
RUN swift build -c release --product gateway --static-swift-stdlib \
 && swift build -c release --product policyctl --static-swift-stdlib \
 && mkdir /out && cp .build/release/gateway .build/release/policyctl /out/

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends libyaml-0-2 ca-certificates tzdata \
 && rm -rf /var/lib/apt/lists/* && useradd --system --home /app gateway
WORKDIR /app
COPY --from=build /out/ /usr/local/bin/
COPY providers_flat.csv ./
COPY policies ./policies
COPY config ./config
RUN mkdir -p /app/data && chown gateway /app/data
USER gateway
ENV GATEWAY_HOST=0.0.0.0 GATEWAY_S3_PORT=8080 GATEWAY_PORT=8000 DATA_DIR=/app/data \
    PROVIDERS_FILE=/app/providers_flat.csv POLICIES_DIR=/app/policies S3_BACKENDS_CONFIG=/app/config/s3_backends.json
EXPOSE 8080 8000
ENTRYPOINT ["gateway"]
