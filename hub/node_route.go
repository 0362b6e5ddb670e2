package hub

import "time"

// Deliver routes bus traffic: room topics to their room goroutine,
// inbox topics straight to the agent's connections.
func (n *Node) Deliver(topic string, msg []byte) {
	if id, ok := topicRoom(topic); ok {
		n.post(id, busMsg{payload: msg, at: time.Now()})
		return
	}
	if topic == agentsTopic {
		n.agentChanged(msg)
		return
	}
	agentID, ok := inboxAgent(topic)
	if !ok {
		return
	}
	n.mu.RLock()
	list := make([]*conn, 0, len(n.inboxes[agentID]))
	for c := range n.inboxes[agentID] {
		list = append(list, c)
	}
	n.mu.RUnlock()
	for _, c := range list {
		c.send(msg)
	}
}

// Resync asks every live room to catch up from the log, and renews
// presence at once: a Redis restart may have lost the entries.
func (n *Node) Resync() {
	go n.refresh(n.ctx, true)
	n.mu.RLock()
	ids := make([]string, 0, len(n.rooms))
	for id := range n.rooms {
		ids = append(ids, id)
	}
	n.mu.RUnlock()
	for _, id := range ids {
		n.post(id, resyncMsg{})
	}
}

func (n *Node) post(id string, msg any) {
	n.mu.RLock()
	r := n.rooms[id]
	n.mu.RUnlock()
	if r != nil {
		r.post(msg)
	}
}
