// Package bus carries room and inbox traffic between nodes: a room's
// committed events and ephemeral frames (presence hints, typing) reach
// every node serving that room, and an agent's inbox updates every node
// holding that agent's connections. The Bus interface sits beside its
// implementations: MemoryBus (the nodes of one process) and RedisBus
// (Redis pub/sub; sharded pub/sub on a Cluster).
//
// It moves topics' bytes and does not read them (only MemoryBus encodes
// the rooms.Events a memory store's commit hands it). It must never
// import hub or api: hub builds on it.
package bus

import (
	"context"
	"strings"
)

// Bus carries room and inbox traffic between nodes. Logged events reach
// it from the store's commit (Redis PUBLISH in the commit script, or the
// memory store's publish, PublishEvents); ephemeral frames are published here.
type Bus interface {
	// Start delivers subscribed topics' messages to h until ctx ends; it
	// returns at once, with h in place.
	Start(ctx context.Context, h Handler)
	Subscribe(ctx context.Context, topic string) error
	Unsubscribe(ctx context.Context, topic string)
	// Publish sends an ephemeral message to every node subscribed to topic.
	Publish(ctx context.Context, topic string, msg []byte) error
	// Ready is nil while the bus is known to deliver.
	Ready() error
}

// Handler receives a node's bus traffic. Deliver must not block.
type Handler interface {
	Deliver(topic string, msg []byte)
	// Resync says messages may have been lost (a reconnect): every live
	// room must catch up from the log.
	Resync()
}

// RoomTopic is the topic of a room: "room:{session id}".
func RoomTopic(id string) string { return "room:" + id }

// TopicRoom returns the session id of a "room:s_…" topic.
func TopicRoom(topic string) (string, bool) {
	id, ok := strings.CutPrefix(topic, "room:")
	return id, ok && id != ""
}

// InboxTopic is the topic of an agent's inbox: "inbox:{agent id}".
func InboxTopic(agentID string) string { return "inbox:" + agentID }

// TopicInbox returns the agent id of an "inbox:a_…" topic.
func TopicInbox(topic string) (string, bool) {
	id, ok := strings.CutPrefix(topic, "inbox:")
	return id, ok && id != ""
}
