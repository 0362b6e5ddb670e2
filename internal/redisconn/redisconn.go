// Package redisconn builds the one Redis client a node uses, for each
// topology Cohub runs on: one server (or a managed endpoint), Redis
// Sentinel, or Redis Cluster. Every caller sees a go-redis
// UniversalClient; what differs is who finds the master.
package redisconn

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/redis/go-redis/v9"
)

// Options name the Redis a node talks to: exactly one of URL alone,
// Sentinel with Master, or Cluster.
type Options struct {
	// URL is one server, redis:// or rediss://. With Sentinel it only
	// carries the master's credentials, database and TLS.
	URL string
	// Cluster lists some Redis Cluster nodes (host:port); the client
	// learns the rest.
	Cluster []string
	// Sentinel lists Redis Sentinels (host:port) watching Master.
	Sentinel []string
	Master   string
	// SentinelPassword is the sentinels' own (requirepass in their
	// configuration), apart from the master's in URL.
	SentinelPassword string
	// MinReplicas is how many replicas must hold a room commit before it
	// is acknowledged; below zero, the topology's default (DefaultReplicas).
	MinReplicas int
	// DialTries bounds the dials one command makes (zero: go-redis's 5).
	DialTries int
}

// Sharded reports whether pub/sub must be sharded (Redis Cluster).
func (o Options) Sharded() bool { return len(o.Cluster) > 0 }

// Replicas is the number of replicas a commit waits for: MinReplicas, or
// by default 1 where the topology has replicas to fail over to
// (Sentinel, Cluster) and 0 on one server.
func (o Options) Replicas() int {
	switch {
	case o.MinReplicas >= 0:
		return o.MinReplicas
	case len(o.Sentinel) > 0 || len(o.Cluster) > 0:
		return 1
	}
	return 0
}

// Addr names the Redis without the credentials a URL may carry, for logs.
func (o Options) Addr() string {
	switch {
	case len(o.Cluster) > 0:
		return "cluster " + strings.Join(o.Cluster, ",")
	case len(o.Sentinel) > 0:
		return "sentinel " + strings.Join(o.Sentinel, ",") + " master " + o.Master
	}
	if opt, err := redis.ParseURL(o.URL); err == nil {
		return opt.Addr
	}
	return "(unparsable --redis URL)"
}

// Check refuses a combination that names no single topology.
func (o Options) Check() error {
	switch {
	case len(o.Cluster) > 0 && (o.URL != "" || len(o.Sentinel) > 0):
		return errors.New("give --redis-cluster alone, without --redis or --redis-sentinel")
	case len(o.Sentinel) > 0 && o.Master == "":
		return errors.New("--redis-sentinel needs --redis-master, the name the sentinels monitor")
	case o.Master != "" && len(o.Sentinel) == 0:
		return errors.New("--redis-master goes with --redis-sentinel")
	case o.SentinelPassword != "" && len(o.Sentinel) == 0:
		return errors.New("--redis-sentinel-password goes with --redis-sentinel")
	}
	for _, a := range append(append([]string{}, o.Cluster...), o.Sentinel...) {
		if !strings.Contains(a, ":") {
			return fmt.Errorf("%q is not host:port", a)
		}
	}
	return nil
}

// New returns a client for the topology o names.
//
// It speaks RESP2 unless a URL asks for another protocol: Cohub uses no
// RESP3 feature, and go-redis looks for RESP3 push notifications on every
// pipeline and pub/sub read (measured: about 8% of a node's CPU at 1,000
// messages a second).
func New(o Options) (redis.UniversalClient, error) {
	if err := o.Check(); err != nil {
		return nil, err
	}
	switch {
	case len(o.Cluster) > 0:
		return redis.NewClusterClient(&redis.ClusterOptions{Addrs: o.Cluster, DialerRetries: o.DialTries, Protocol: 2}), nil
	case len(o.Sentinel) > 0:
		return sentinel(o)
	}
	opt, err := parse(o.URL)
	if err != nil {
		return nil, err
	}
	if o.DialTries > 0 {
		opt.DialerRetries = o.DialTries
	}
	return redis.NewClient(opt), nil
}

// sentinel is a failover client: it asks the sentinels for the master,
// and follows a failover when they announce one.
func sentinel(o Options) (redis.UniversalClient, error) {
	fo := &redis.FailoverOptions{MasterName: o.Master, SentinelAddrs: o.Sentinel, Protocol: 2,
		DialerRetries: o.DialTries, SentinelPassword: o.SentinelPassword}
	if o.URL != "" {
		opt, err := parse(o.URL)
		if err != nil {
			return nil, err
		}
		fo.Username, fo.Password, fo.DB, fo.TLSConfig = opt.Username, opt.Password, opt.DB, opt.TLSConfig
		fo.Protocol = opt.Protocol
	}
	return redis.NewFailoverClient(fo), nil
}

func parse(raw string) (*redis.Options, error) {
	opt, err := redis.ParseURL(raw)
	if err != nil {
		return nil, fmt.Errorf("--redis: %w", err)
	}
	if u, err := url.Parse(raw); err == nil && !u.Query().Has("protocol") {
		opt.Protocol = 2
	}
	return opt, nil
}

// List splits a comma-separated flag into its non-empty parts.
func List(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
