# syntax=docker/dockerfile:1
# weir's container image: a release build in the Rust image, copied onto distroless (glibc,
# CA certificates, no shell, user nonroot 65532).
#
#   VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
#   docker build --build-arg VERSION=$VERSION -t weir:$VERSION .
#
# The build fails when VERSION is not the version the binary reports, so the image's version
# label always tells the truth. See docs/deploy.md.

ARG RUST_VERSION=1.95

FROM rust:${RUST_VERSION}-bookworm AS builder
ARG VERSION=0.1.0
WORKDIR /src
COPY . .
# The caches keep downloaded crates and compiled dependencies between builds; the binary is
# copied out because the target cache is not part of the image.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin weir \
    && cp target/release/weir /usr/local/bin/weir
RUN test "$(/usr/local/bin/weir version)" = "weir ${VERSION}" \
    || { echo "VERSION=${VERSION} but the binary says: $(/usr/local/bin/weir version)" >&2; exit 1; }

FROM gcr.io/distroless/cc-debian12:nonroot
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="weir" \
      org.opencontainers.image.description="Edge router and Kubernetes ingress controller that reads Traefik's configuration" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=builder /usr/local/bin/weir /usr/local/bin/weir
USER 65532:65532
# web, websecure, traefik (ping, API), metrics
EXPOSE 8000 8443 9000 9100
ENTRYPOINT ["/usr/local/bin/weir"]
CMD ["serve"]
