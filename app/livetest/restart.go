package livetest

import (
	"net"

	"github.com/rs/zerolog"

	"github.com/cohub/cohub/app"
)

// openDisk opens the embedded backend on dir as the cluster's.
func (c *Cluster) openDisk(dir string) {
	b, err := app.DiskBackend(dir, zerolog.Nop())
	c.Must(err)
	// Registered before the nodes built on it: it closes after them.
	c.T.Cleanup(func() { _ = b.DataDir.Close() })
	c.Mem, c.Outbox = b, b.Outbox
}

// Restart stops an embedded cluster's node as a server stops (its pages
// are told 1012, service restart), closes its data directory, and starts
// a new node on the same directory at the same address: what was on
// disk is all it knows.
func (c *Cluster) Restart() {
	c.T.Helper()
	if c.backend != "embedded" || len(c.Nodes) != 1 {
		c.T.Fatal("Restart is for an embedded cluster of one node")
	}
	old := c.Nodes[0]
	addr := old.Server.Listener.Addr().String()
	old.cancel()
	shutdown(old.Hub)
	old.Server.Close()
	dir := c.Mem.DataDir.Path
	c.Must(c.Mem.DataDir.Close())
	c.openDisk(dir)
	ln, err := net.Listen("tcp", addr)
	c.Must(err)
	c.Nodes[0] = c.addNode(ln)
}
