# Build a static binary, then run it as non-root on a minimal base.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/cohub ./cmd/cohub && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/cohub /cohub
# Without Redis, the embedded backend keeps everything here: mount a
# volume on it (docker run -v cohub-data:/data …) to keep it.
COPY --from=build --chown=nonroot:nonroot --chmod=700 /out/data /data
USER nonroot:nonroot
EXPOSE 8080
VOLUME ["/data"]
ENV COHUB_ADDR=:8080 COHUB_LOG_FORMAT=json COHUB_DATA_DIR=/data
ENTRYPOINT ["/cohub"]
