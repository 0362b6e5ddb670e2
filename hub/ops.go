package hub

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/cohub/cohub/bus"
	"github.com/cohub/cohub/presence"
	"github.com/cohub/cohub/rooms"
)

func (c *conn) join(f inFrame) {
	if f.Topic == Inbox {
		c.joinInbox(f.Ref)
		return
	}
	id, ok := topicRoom(f.Topic)
	if !ok {
		c.reply(f.Ref, frameError{Code: "not_found", Message: "topics are room:{session id} and inbox"})
		return
	}
	if c.topics.get(f.Topic) != nil {
		c.reply(f.Ref, frameError{Code: "invalid_state", Message: "already joined; leave first"})
		return
	}
	if f.Since != nil && *f.Since < 0 {
		c.reply(f.Ref, frameError{Code: CodeBadFrame, Message: "since is a seq: a whole number, 0 or more"})
		return
	}
	if len(c.topics) >= maxTopics {
		c.reply(f.Ref, frameError{Code: CodeTooMany, Message: "at most 100 topics per connection"})
		return
	}
	if err := c.authorize(id); err != nil {
		c.reply(f.Ref, err)
		return
	}
	if !c.pageSent() {
		return
	}
	if c.servePage(f, id) {
		return
	}
	if err := c.joinRoom(f, id); err != nil {
		c.reply(f.Ref, err)
		return
	}
	if c.agent != nil {
		c.node.presenceJoin(c, id)
	}
}

// joinRoom takes the agent's slot in the room, enters it and hands the
// room goroutine the join; on failure nothing is left behind.
func (c *conn) joinRoom(f inFrame, id string) error {
	slot := ""
	if c.agent != nil {
		slot = agentRoomSlot(c.agentID, id)
		if !c.node.take(slot, c.node.cfg.MaxAgentConnsPerRoom) {
			return errTooManyTabs
		}
	}
	snapshot, err := c.enter(id)
	if err == nil {
		r := c.node.acquire(id)
		if err = c.handOver(r, f, snapshot); err == nil {
			c.topics = append(c.topics, r)
			return nil
		}
		c.node.release(r)
		c.node.presenceLeave(c, id)
	}
	if slot != "" {
		c.node.give(slot)
	}
	return err
}

// handOver reads what the joiner needs (after the room's bus
// subscription is in place, so nothing committed after the read is
// missed): the log's position, the snapshot and the replay after since;
// then the room adds the joiner. The room goroutine reads nothing.
func (c *conn) handOver(r *room, f inFrame, snapshot func(context.Context) (map[string]any, error)) error {
	ctx, cancel := context.WithTimeout(c.ctx, 5*time.Second)
	defer cancel()
	select {
	case <-r.subscribed:
	case <-ctx.Done():
		return rooms.ErrUnavailable
	}
	for try := 0; ; try++ {
		m, err := c.readJoin(ctx, r, f, snapshot)
		if err != nil {
			return err
		}
		if !r.give(m) {
			return rooms.ErrUnavailable
		}
		if err = <-m.done; !errors.Is(err, errStaleJoin) || try == 2 {
			return err
		}
	}
}

func (c *conn) readJoin(ctx context.Context, r *room, f inFrame, snapshot func(context.Context) (map[string]any, error)) (joinMsg, error) {
	m := joinMsg{c: c, ref: f.Ref, withSince: f.Since != nil, done: make(chan error, 1)}
	store := c.node.store
	var err error
	m.readAt = time.Now()
	if m.head, m.epoch, err = store.LastSeq(ctx, r.id); err != nil {
		return m, err
	}
	if m.data, err = snapshot(ctx); err != nil {
		return m, err
	}
	if f.Since == nil {
		return m, nil
	}
	since := *f.Since
	recovered := (f.Epoch == "" || f.Epoch == m.epoch) && since <= m.head
	if recovered && since < m.head {
		evs, err := store.Events(ctx, r.id, since, int(m.head-since))
		if err != nil {
			return m, err
		}
		m.replay, _ = pageFrames(r.topic, evs)
		recovered = int64(len(evs)) == m.head-since
	}
	m.data["recovered"] = recovered
	return m, nil
}

// authorize allows a room join: agents who may act on the session, and
// a customer only into the room of their own link, gates passed.
func (c *conn) authorize(id string) error {
	ctx, cancel := context.WithTimeout(c.ctx, 5*time.Second)
	defer cancel()
	if c.agent != nil {
		return c.node.sessions.MayOpen(ctx, c.agent, id)
	}
	if id != c.claims.SessionID {
		return rooms.ErrForbidden
	}
	_, _, err := c.node.gates.CustomerAuth(ctx, c.link, c.custTok)
	return err
}

// pageSent holds a join until the connection's last replay page has left
// its queue, so a connection (a customer's too) holds at most one page at
// a time, and an agent's page gives its room slot back before the join
// takes one. A client that reads its pages asks for the next on a page's
// reply, perhaps while the rest of a large page is still being sent: it
// waits for that rather than being refused (a refusal would leave its
// topic unjoined). One whose page has not left the queue within PongWait
// is not reading what it asked for and is closed with 4008 like any slow
// consumer; it resumes from its last seq. False when the join goes no
// further.
func (c *conn) pageSent() bool {
	c.mu.Lock()
	page := c.page
	c.mu.Unlock()
	if page == nil {
		return true
	}
	wait := time.NewTimer(c.node.cfg.PongWait)
	defer wait.Stop()
	select {
	case <-page:
		return true
	case <-c.ctx.Done():
		return false
	case <-wait.C:
		c.node.metrics.SlowClosed.Inc()
		c.close(CloseSlow, "slow_consumer")
		return false
	}
}

// servePage answers a join whose replay is longer than a page with that
// page alone: the topic is not joined, and the client joins again from
// where the page ended. No room goroutine and no presence are involved,
// and a client holds at most a page of replay at a time (pageSent). Until
// the page has left the queue, an agent's connection counts against the
// room's bound like a joined tab: past it the join is refused, so one
// agent's sockets cannot each hold a page.
func (c *conn) servePage(f inFrame, id string) bool {
	if f.Since == nil {
		return false
	}
	ctx, cancel := context.WithTimeout(c.ctx, 5*time.Second)
	defer cancel()
	store := c.node.store
	seq, epoch, err := store.LastSeq(ctx, id)
	if err != nil || (f.Epoch != "" && f.Epoch != epoch) || seq-*f.Since <= int64(c.node.cfg.ReplayPage) {
		return false
	}
	slot := ""
	if c.agent != nil {
		slot = agentRoomSlot(c.agentID, id)
		if !c.node.take(slot, c.node.cfg.MaxAgentConnsPerRoom) {
			c.reply(f.Ref, errTooManyTabs)
			return true
		}
	}
	evs, err := store.Events(ctx, id, *f.Since, c.node.cfg.ReplayPage)
	if err != nil || len(evs) == 0 {
		c.node.giveSlot(slot)
		return false
	}
	frames, next := pageFrames(roomTopic(id), evs)
	data := map[string]any{"seq": seq, "epoch": epoch, "recovered": true, "more": true, "next": next}
	c.sendPage(append([][]byte{encode(outFrame{Op: "reply", Ref: f.Ref, Status: "ok", Data: data})}, frames...), slot)
	return true
}

// pageFrames are the event frames of a page and the seq it ends at.
func pageFrames(topic string, evs []rooms.Event) ([][]byte, int64) {
	if len(evs) == 0 {
		return nil, 0
	}
	out := make([][]byte, 0, len(evs))
	for _, e := range evs {
		if b, err := rooms.MarshalEvent(e); err == nil {
			out = append(out, eventFrame(topic, e.Seq, b))
		}
	}
	return out, evs[len(evs)-1].Seq
}

// enter returns how to take the joiner's snapshot; a customer's entry is
// recorded first (presence, then customer.joined).
func (c *conn) enter(id string) (func(context.Context) (map[string]any, error), error) {
	sessions, gates := c.node.sessions, c.node.gates
	if c.agent != nil {
		agent := c.agent
		return func(ctx context.Context) (map[string]any, error) {
			s, err := sessions.OpenRoom(ctx, agent, id)
			if err != nil {
				return nil, err
			}
			read, err := sessions.ReadState(ctx, id, s.AgentID)
			if err != nil {
				return nil, err
			}
			return map[string]any{"session": s, "indicator": s.Indicator, "read": read}, nil
		}, nil
	}
	ctx, cancel := context.WithTimeout(c.ctx, 5*time.Second)
	defer cancel()
	// Presence first: agents then see the customer arrive online, never
	// joined-but-offline for a moment.
	c.node.presenceJoin(c, id)
	if _, err := gates.CustomerJoined(ctx, id); err != nil {
		c.node.presenceLeave(c, id)
		return nil, err
	}
	claims, tok := c.claims, c.custTok
	return func(ctx context.Context) (map[string]any, error) {
		v, err := gates.CustomerRoomView(ctx, id, claims, tok)
		if err != nil {
			return nil, err
		}
		read, err := sessions.ReadState(ctx, id, "")
		if err != nil {
			return nil, err
		}
		return map[string]any{"session": v.Session, "access": v.Access, "gates": v.Gates, "agent": v.Agent, "read": read}, nil
	}, nil
}

func (c *conn) leave(f inFrame) {
	if f.Topic == Inbox && c.inbox {
		c.node.leaveInbox(c)
		c.ok(f.Ref, map[string]any{})
		return
	}
	r := c.topics.get(f.Topic)
	if r == nil {
		c.reply(f.Ref, frameError{Code: CodeNotJoined, Message: "not joined to " + f.Topic})
		return
	}
	c.topics.remove(f.Topic)
	c.node.leaveRoom(c, r)
	c.ok(f.Ref, map[string]any{})
}

// leaveRoom takes a connection out of a room; its presence keeps the
// leave grace.
func (n *Node) leaveRoom(c *conn, r *room) {
	done := make(chan struct{})
	if r.give(leaveMsg{c: c, done: done}) {
		<-done
	}
	n.release(r)
	n.presenceLeave(c, r.id)
	if c.agentID != "" {
		n.give(agentRoomSlot(c.agentID, r.id))
	}
}

type sendData struct {
	Text string `json:"text"`
}

// sendText is a send's text; false when its data is not {"text":…}.
func sendText(data json.RawMessage) (string, bool) {
	if text, ok := plainSendText(data); ok {
		return text, true
	}
	var d sendData
	return d.Text, json.Unmarshal(data, &d) == nil
}

func (c *conn) post(f inFrame) {
	r := c.topics.get(f.Topic)
	if r == nil {
		c.reply(f.Ref, frameError{Code: CodeNotJoined, Message: "join " + f.Topic + " first"})
		return
	}
	text, ok := sendText(f.Data)
	if !ok {
		c.reply(f.Ref, frameError{Code: "validation_failed", Message: "data must be {\"text\":…}",
			Fields: map[string]string{"data": "must be an object with text"}})
		return
	}
	if !c.node.admit() {
		c.reply(f.Ref, c.node.overloaded())
		return
	}
	defer c.node.done()
	// Every send is named, so a retry after a lost reply is logged once:
	// by the client's id (which also survives a reconnect), else by this
	// connection and its count of sends.
	c.sends++
	name := f.ID
	if name == "" {
		name = "conn:" + c.id + ":" + strconv.Itoa(c.sends)
	}
	msg := rooms.Message{From: c.actor(), Text: text, AgentsHere: r.agentsHere.Load(), CustomerOnline: r.customerOnline.Load(), ID: name}
	h := c.holdWrites(r)
	var ev rooms.Event
	err := retrying(c.ctx, func(ctx context.Context) error {
		var err error
		ev, err = c.node.sessions.PostMessage(ctx, r.id, msg)
		return err
	})
	if err != nil {
		c.unhold(h)
		c.reply(f.Ref, err)
		return
	}
	c.node.metrics.SendTook.Observe(time.Since(f.read).Seconds())
	c.replyLogged(ev.Seq, seqReply(f.Ref, ev.Seq))
}

type completeData struct {
	TaskID string          `json:"task_id"`
	Result json.RawMessage `json:"result"`
}

func (c *conn) completeTask(f inFrame) {
	r := c.topics.get(f.Topic)
	switch {
	case r == nil:
		c.reply(f.Ref, frameError{Code: CodeNotJoined, Message: "join " + f.Topic + " first"})
		return
	case c.role != presence.RoleCustomer:
		c.reply(f.Ref, frameError{Code: "forbidden", Message: "tasks are the customer's to complete"})
		return
	}
	var d completeData
	if err := json.Unmarshal(f.Data, &d); err != nil || d.TaskID == "" {
		c.reply(f.Ref, frameError{Code: "validation_failed", Message: "data must be {\"task_id\":…}",
			Fields: map[string]string{"data.task_id": "is required"}})
		return
	}
	if !c.node.admit() {
		c.reply(f.Ref, c.node.overloaded())
		return
	}
	defer c.node.done()
	var sess *rooms.Session
	err := retrying(c.ctx, func(ctx context.Context) error {
		var err error
		sess, err = c.node.gates.CompleteTask(ctx, r.id, d.TaskID, d.Result)
		return err
	})
	if err != nil {
		c.reply(f.Ref, err)
		return
	}
	for _, t := range sess.Tasks {
		if t.ID == d.TaskID {
			c.ok(f.Ref, map[string]any{"task": t})
			return
		}
	}
	c.ok(f.Ref, map[string]any{})
}

// joinedRoom is the room of a frame that may come without a ref (typing,
// read), when this connection joined it; else nil, and not_joined is
// answered to a frame with a ref.
func (c *conn) joinedRoom(f inFrame) *room {
	r := c.topics.get(f.Topic)
	if r == nil && f.Ref != "" {
		c.reply(f.Ref, frameError{Code: CodeNotJoined, Message: "join " + f.Topic + " first"})
	}
	return r
}

// typing is ephemeral: at most one per connection every 2 s, over the
// bus so agents on every node see it.
func (c *conn) typing(f inFrame) {
	r := c.joinedRoom(f)
	if r == nil {
		return
	}
	now := time.Now()
	if now.Sub(c.lastTyping) < typingEvery {
		return
	}
	c.lastTyping = now
	msg, _ := json.Marshal(map[string]string{"op": "typing", "role": c.role, "conn": c.id})
	c.node.noteErr(c.node.bus.Publish(c.ctx, r.topic, msg), "typing")
}

func (c *conn) joinInbox(ref string) {
	if c.agent == nil {
		c.reply(ref, frameError{Code: "forbidden", Message: "the inbox is an agent's"})
		return
	}
	if !c.inbox {
		c.inbox = true
		c.node.joinInbox(c)
	}
	c.ok(ref, map[string]any{})
}

// inboxTopic is an agent's inbox on the bus (clients join it as Inbox).
func inboxTopic(agentID string) string { return bus.InboxTopic(agentID) }

func inboxAgent(topic string) (string, bool) { return bus.TopicInbox(topic) }

func (n *Node) joinInbox(c *conn) {
	id := c.agent.ID
	n.subMu.Lock()
	defer n.subMu.Unlock()
	n.mu.Lock()
	first := n.inboxes[id] == nil
	if first {
		n.inboxes[id] = map[*conn]struct{}{}
	}
	n.inboxes[id][c] = struct{}{}
	n.mu.Unlock()
	if first {
		n.noteErr(n.bus.Subscribe(n.ctx, inboxTopic(id)), "inbox subscribe")
	}
}

func (n *Node) leaveInbox(c *conn) {
	id := c.agent.ID
	c.inbox = false
	n.subMu.Lock()
	defer n.subMu.Unlock()
	n.mu.Lock()
	delete(n.inboxes[id], c)
	last := len(n.inboxes[id]) == 0
	if last {
		delete(n.inboxes, id)
	}
	n.mu.Unlock()
	if last {
		n.bus.Unsubscribe(n.ctx, inboxTopic(id))
	}
}

// Committed pushes session.updated to the agent's inbox when a customer
// action marked the session updated (rooms.Listener).
func (n *Node) Committed(s *rooms.Session, events []rooms.Event) {
	if !s.Updated || !customerAction(events) {
		return
	}
	cp := *s
	go n.pushInbox(&cp)
}

func customerAction(events []rooms.Event) bool {
	for _, e := range events {
		if (e.From != nil && e.From.Role == presence.RoleCustomer) ||
			e.Type == rooms.EventConsentChanged || e.Type == rooms.EventAuthChanged {
			return true
		}
	}
	return false
}

func (n *Node) pushInbox(s *rooms.Session) {
	ctx, cancel := context.WithTimeout(n.ctx, 5*time.Second)
	defer cancel()
	online, err := n.CustomersOnline(ctx, []string{s.ID})
	n.noteErr(err, "inbox presence")
	rooms.Indicate(s, online[s.ID], n.sessions.Now())
	frame := encode(outFrame{Op: "event", Topic: Inbox, Data: map[string]any{"type": "session.updated", "session": s}})
	n.noteErr(n.bus.Publish(ctx, inboxTopic(s.AgentID), frame), "inbox publish")
}

// CustomersOnline is the live presence the indicator reads
// (rooms.Presence).
func (n *Node) CustomersOnline(ctx context.Context, ids []string) (map[string]bool, error) {
	view, err := n.pres.Rooms(ctx, ids, time.Now())
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(ids))
	for id, conns := range view {
		out[id] = presence.CustomerOnline(conns)
	}
	return out, nil
}

func (n *Node) recordSeen(id string, at time.Time) {
	ctx, cancel := context.WithTimeout(n.ctx, 5*time.Second)
	defer cancel()
	n.noteErr(n.sessions.SeenAt(ctx, id, at), "last seen")
}

// agentsTopic carries account changes to every node: each re-checks that
// agent's open connections at once instead of at the next minute's check.
const agentsTopic = "agents:changed"

type agentChange struct {
	Agent string `json:"agent"`
}

// Logged: what this node logs, its room expects from the bus; if it does
// not come, the room reads the log (rooms.Listener).
func (n *Node) Logged(sessionID string, seq int64) { n.post(sessionID, committedMsg{seq: seq}) }

// AgentChanged tells every node (this one included, through the bus)
// that an agent's account changed (rooms.Listener).
func (n *Node) AgentChanged(agentID string) {
	msg, _ := json.Marshal(agentChange{Agent: agentID})
	go func() {
		ctx, cancel := context.WithTimeout(n.ctx, 5*time.Second)
		defer cancel()
		n.noteErr(n.bus.Publish(ctx, agentsTopic, msg), "agent change publish")
	}()
}

// agentChanged re-checks every connection of the agent: a revoked login
// closes with 4001, a lost room with 4003.
func (n *Node) agentChanged(msg []byte) {
	var ch agentChange
	if json.Unmarshal(msg, &ch) != nil || ch.Agent == "" {
		return
	}
	for _, c := range n.snapshot() {
		if c.agentID == ch.Agent {
			go n.recheck(c)
		}
	}
}

// recheck closes a connection whose credential stopped working since it
// opened: a logout (4001), a revoked or expired link (4001), an end with
// no access (4010).
func (n *Node) recheck(c *conn) {
	ctx, cancel := context.WithTimeout(c.ctx, 5*time.Second)
	defer cancel()
	var err error
	if c.role == presence.RoleAgent {
		var a *rooms.Agent
		if a, err = n.accounts.Authenticate(ctx, c.token); err == nil {
			c.later(func(ctx context.Context) { c.recheckRooms(ctx, a) })
		}
	} else {
		_, _, err = n.gates.CheckLink(ctx, c.link)
	}
	switch {
	case err == nil, errors.Is(err, rooms.ErrUnavailable), errors.Is(err, context.Canceled):
	case errors.Is(err, rooms.ErrSessionEnded):
		c.close(CloseEnded, "session ended")
	default:
		c.close(CloseCredential, "credential no longer valid")
	}
}

// recheckRooms takes the agent's current record (a role or team may have
// changed) and closes the connection with 4003 when it may no longer open
// one of its rooms.
func (c *conn) recheckRooms(ctx context.Context, a *rooms.Agent) {
	c.agent = a
	for _, r := range c.topics {
		err := c.node.sessions.MayOpen(ctx, a, r.id)
		if errors.Is(err, rooms.ErrForbidden) || errors.Is(err, rooms.ErrNotFound) {
			c.close(CloseLostAccess, "no longer allowed in "+r.topic)
			return
		}
	}
}

var (
	_ rooms.Listener = (*Node)(nil)
	_ rooms.Presence = (*Node)(nil)
)
