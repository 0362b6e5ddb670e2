package bus

import (
	"context"
	"encoding/json"
	"sync"

	"github.com/cohub/cohub/rooms"
)

// MemoryBus connects nodes in one process: the embedded backend, and
// tests that run several nodes on one memory store.
type MemoryBus struct {
	mu    sync.RWMutex
	nodes []*memoryNode
}

// NewMemoryBus returns a bus for nodes sharing one memory store, built
// with the bus's PublishEvents as the store's publish.
func NewMemoryBus() *MemoryBus { return &MemoryBus{} }

// Node returns a new node's view of the bus.
func (b *MemoryBus) Node() Bus {
	n := &memoryNode{bus: b, topics: map[string]bool{}}
	b.mu.Lock()
	b.nodes = append(b.nodes, n)
	b.mu.Unlock()
	return n
}

// PublishEvents hands a commit's events to every node in the room.
func (b *MemoryBus) PublishEvents(sessionID string, events []rooms.Event) {
	for _, e := range events {
		msg, err := json.Marshal(e)
		if err == nil {
			b.publish(RoomTopic(sessionID), msg)
		}
	}
}

func (b *MemoryBus) publish(topic string, msg []byte) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	for _, n := range b.nodes {
		n.deliver(topic, msg)
	}
}

// memoryNode is one node's view of a MemoryBus.
type memoryNode struct {
	bus    *MemoryBus
	mu     sync.RWMutex
	h      Handler
	topics map[string]bool
}

var _ Bus = (*memoryNode)(nil)

func (n *memoryNode) Start(ctx context.Context, h Handler) {
	n.mu.Lock()
	n.h = h
	n.mu.Unlock()
	context.AfterFunc(ctx, func() {
		n.mu.Lock()
		n.h = nil
		n.mu.Unlock()
	})
}

func (n *memoryNode) deliver(topic string, msg []byte) {
	n.mu.RLock()
	h, ok := n.h, n.topics[topic]
	n.mu.RUnlock()
	if ok && h != nil {
		h.Deliver(topic, msg)
	}
}

func (n *memoryNode) Subscribe(_ context.Context, topic string) error {
	n.mu.Lock()
	n.topics[topic] = true
	n.mu.Unlock()
	return nil
}

func (n *memoryNode) Unsubscribe(_ context.Context, topic string) {
	n.mu.Lock()
	delete(n.topics, topic)
	n.mu.Unlock()
}

func (n *memoryNode) Publish(_ context.Context, topic string, msg []byte) error {
	n.bus.publish(topic, msg)
	return nil
}

func (n *memoryNode) Ready() error { return nil }
