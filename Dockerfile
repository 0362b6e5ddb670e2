# Build a static binary, then run it as non-root on a minimal base.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/cohub ./cmd/cohub

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/cohub /cohub
USER nonroot:nonroot
EXPOSE 8080
ENV COHUB_ADDR=:8080 COHUB_LOG_FORMAT=json
ENTRYPOINT ["/cohub"]
