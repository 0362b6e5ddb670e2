package soak

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/cohub/cohub/internal/redisproc"
)

// The Redis Cluster topology: three masters, each with a replica. Its
// node timeout is short, so a failover takes seconds, not the default's
// fifteen.
const (
	clusterMasters     = 3
	clusterNodeTimeout = 1500 * time.Millisecond
)

// startRedisCluster runs the servers (each with the fsynced append-only
// file, like the one Redis) and creates the cluster; the nodes are given
// the masters' addresses, as an operator would list them.
func (c *Cluster) startRedisCluster(ctx context.Context) error {
	var err error
	if c.Shards, err = redisproc.StartCluster(ctx, c.opt.Dir, clusterMasters, 1, clusterNodeTimeout, true); err != nil {
		return err
	}
	c.seeds, err = c.Shards.Masters(ctx)
	return err
}

// masterFailover kills one master, chosen by rng; once the cluster has
// promoted its replica, the killed server comes back after pause and
// rejoins as the new master's replica. It ends when the cluster is
// healthy again: every slot served, every master with a replica.
func (c *Cluster) masterFailover(ctx context.Context, rng *rand.Rand, pause time.Duration) (string, error) {
	masters, err := c.Shards.Masters(ctx)
	if err != nil {
		return "", err
	}
	slices.Sort(masters) // the seed picks the same rank every run
	old := masters[rng.IntN(len(masters))]
	now, err := c.Shards.Failover(ctx, old, pause)
	return fmt.Sprintf("master %s → %s", old, now), err
}
