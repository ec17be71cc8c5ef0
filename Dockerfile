# syntax=docker/dockerfile:1
#
# smartlaunch container image: a static binary on distroless, run as a
# non-root user, with a read-only root filesystem in mind.
#
#   docker build --build-arg VERSION=1.2.3 -t smartlaunch:1.2.3 .
#   docker run --read-only --tmpfs /tmp -v smartlaunch-data:/data -p 8080:8080 \
#       smartlaunch:1.2.3 --production --behind-tls-proxy --base-url https://smart.example.org
#
# The entrypoint is "smartlaunch serve --addr :8080 --data /data"; arguments
# given to docker run are more serve flags. Other commands need the
# entrypoint replaced, for example
#   docker run --rm -v smartlaunch-data:/data --entrypoint /usr/local/bin/smartlaunch \
#       smartlaunch:1.2.3 keys list --data /data
# See docs/operations.md.

# GO_VERSION must be at least the go line of go.mod: the golang images set
# GOTOOLCHAIN=local, so an older toolchain does not fetch a newer one.
ARG GO_VERSION=1.26

FROM golang:${GO_VERSION} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
# cgo is used only by client/pkcs11, which the server does not import.
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" \
        -o /out/smartlaunch ./cmd/smartlaunch \
    && mkdir -p /out/data

# distroless/static: CA certificates, /etc/passwd with nonroot (65532),
# time zone data; no shell.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/smartlaunch /usr/local/bin/smartlaunch
# /data owned by the runtime user, so that a fresh named volume is writable.
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
VOLUME /data
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/smartlaunch", "serve", "--addr", ":8080", "--data", "/data"]
