package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"

	"github.com/rs/zerolog"

	"github.com/cohub/cohub/app"
	"github.com/cohub/cohub/blobs"
	"github.com/cohub/cohub/internal/redisconn"
)

// migrateCmd copies a stopped node's data directory into an empty
// Redis (one server, Sentinel or Cluster, named as the server's flags
// name them), and its files into --blob-url when given.
func migrateCmd(ctx context.Context, args []string, env func(string) string, stdout io.Writer) error {
	fs := newFlags("migrate", "--from-data-dir DIR --redis URL (or --redis-cluster, --redis-sentinel) [--blob-url URL]")
	from := fs.String("from-data-dir", envOr(env, "data-dir", app.DefaultDataDir), "the data directory to copy (its server stopped)")
	var o redisconn.Options
	var cluster, sentinel string
	fs.StringVar(&o.URL, "redis", envOr(env, "redis", ""), "the target Redis URL")
	fs.StringVar(&cluster, "redis-cluster", envOr(env, "redis-cluster", ""), "the target Redis Cluster's nodes, host:port,…")
	fs.StringVar(&sentinel, "redis-sentinel", envOr(env, "redis-sentinel", ""), "the target's Sentinels, host:port,… (with --redis-master)")
	fs.StringVar(&o.Master, "redis-master", envOr(env, "redis-master", ""), "the master name the sentinels monitor")
	fs.StringVar(&o.SentinelPassword, "redis-sentinel-password", envOr(env, "redis-sentinel-password", ""), "the sentinels' own password")
	blobURL := fs.String("blob-url", envOr(env, "blob-url", ""), "where the cluster keeps files (s3://…, file://…): the files are copied there; empty: they stay in DIR/blobs")
	if err := fs.Parse(args); err != nil {
		return usageOr(err)
	}
	o.Cluster, o.Sentinel, o.MinReplicas = redisconn.List(cluster), redisconn.List(sentinel), -1
	if app.Embedded(o) {
		return usageError{errors.New("name the target: --redis, --redis-cluster or --redis-sentinel")}
	}
	if err := o.Check(); err != nil {
		return usageError{err}
	}
	src, err := app.OpenDataDir(*from, nil, zerolog.Nop())
	if err != nil {
		return err
	}
	defer src.Close()
	to, closeTo, err := app.Open(app.OpenOptions{Redis: o}, zerolog.Nop())
	if err != nil {
		return err
	}
	defer closeTo()
	var files blobs.Store
	if *blobURL != "" {
		if files, err = blobs.Open(ctx, *blobURL); err != nil {
			return fmt.Errorf("--blob-url: %w", err)
		}
		defer files.Close()
	}
	n, err := app.Migrate(ctx, src, to, files)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "copied %d agents, %d teams, %d API keys, %d sessions (%d events, %d file records), %d invitations and %d files from %s\n",
		n.Agents, n.Teams, n.APIKeys, n.Sessions, n.Events, n.Assets, n.Invitations, n.Files, src.Path)
	fmt.Fprintf(stdout, "start every node with the directory's link secret, so links keep working: COHUB_SECRET=\"$(cat %s)\"\n",
		filepath.Join(src.Path, "secret"))
	if files == nil {
		fmt.Fprintf(stdout, "files stay in %s: give the node --blob-url %s, or run again into an empty Redis with --blob-url s3://… for many nodes\n",
			filepath.Join(src.Path, "blobs"), src.BlobURL())
	}
	fmt.Fprintln(stdout, "agents sign in again on the cluster (sign-ins are not copied)")
	return nil
}

// usageOr is a flag parse error as a usage error (help as it is).
func usageOr(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	return usageError{err}
}
