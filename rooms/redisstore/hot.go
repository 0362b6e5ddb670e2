package redisstore

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cohub/cohub/rooms"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
)

// The hot path of the Redis store: a chat message is one script over the
// session's small fields, sent in a pipeline with whatever else is
// pending, and its history index is updated by a coalescer off the path.

//go:embed scripts/append.lua
var appendLua string

var appendScript = redis.NewScript(appendLua)

// nameMark stands where a customer's name goes in an appended event:
// the body is cut there, and append.lua puts the name on file between
// the two parts. A name cannot contain it (names refuse control
// characters).
const nameMark = `"\u0000"`

// Append logs one chat message with append.lua.
func (r *Store) Append(ctx context.Context, id string, a rooms.MessageAppend) (rooms.Appended, error) {
	e := a.Event
	role := e.From.Role
	customer := role == "customer"
	if customer {
		from := *e.From
		from.Name = "\x00"
		e.From = &from
	}
	e.Seq = 0
	body, err := rooms.MarshalEvent(e)
	if err != nil {
		return rooms.Appended{}, err
	}
	// The script builds the event in one concatenation: the body without
	// its opening brace (the seq goes first), cut where the name goes.
	pre, post := body[1:], []byte(nil)
	if customer {
		i := bytes.Index(pre, []byte(nameMark))
		pre, post = pre[:i], pre[i+len(nameMark):]
	}
	// A sender's rate state is a field of the session hash ("rt:…"), read
	// and written with the gate: no key of its own, no extra command.
	rateField, every, burst := "rt:", int64(0), 0
	if rt := a.Opts.Rate; rt != nil {
		rateField, every, burst = "rt:"+rt.Key, max(rt.Every.Milliseconds(), 1), rt.Burst
	}
	keys := []string{r.sessionKey(id, "session"), r.sessionKey(id, "seq"), r.sessionKey(id, "log"),
		r.sessionKey(id, "meta"), r.sessionKey(id, "once")}
	args := []any{role, a.Now.UnixMilli(), rooms.NewEpoch(), r.Channel(id), boolArg(r.opts.Sharded), a.Opts.MaxEvents,
		a.Opts.Once, every, burst, rooms.OnceKeep, rooms.OnceFor.Milliseconds(), boolArg(a.MarkUpdated), pre, boolArg(customer), rateField, post}
	res, err := r.pipe.run(ctx, appendScript, keys, args)
	if err != nil {
		return rooms.Appended{}, appendError(err, role)
	}
	vals, ok := res.([]any)
	if !ok || len(vals) != 6 {
		return rooms.Appended{}, unavailable(fmt.Errorf("append script answered %v", res))
	}
	seq, _ := vals[1].(int64)
	out := rooms.Appended{Event: a.Event, AgentID: str(vals[2]), TeamID: str(vals[3])}
	out.Event.Seq = seq
	if customer {
		from := *a.Event.From
		from.Name = str(vals[5])
		out.Event.From = &from
	}
	if vals[0] == int64(1) {
		return out, &rooms.DuplicateError{LastSeq: seq}
	}
	out.MarkedUpdated = vals[4] == int64(1)
	r.touch(id, out, a)
	return out, nil
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// appendError maps the script's refusals to the domain's errors.
func appendError(err error, role string) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "NOT_FOUND"):
		return rooms.ErrNotFound
	case strings.Contains(msg, "FORBIDDEN"):
		return rooms.ErrForbidden
	case strings.Contains(msg, "READ_ONLY") && role == "customer":
		return fmt.Errorf("%w: the session has ended; you can still read it", rooms.ErrReadOnly)
	case strings.Contains(msg, "READ_ONLY"):
		return fmt.Errorf("%w: the session has ended", rooms.ErrReadOnly)
	case strings.Contains(msg, "SESSION_ENDED"):
		return rooms.ErrSessionEnded
	}
	return scriptError(err)
}

// gateArgs are the small fields commit.lua keeps beside the record for
// append.lua: the write gate (state, end access, customer name, agent,
// team) and the activity (updated flag, updated at, last agent action).
func gateArgs(s *rooms.Session, opts rooms.CommitOptions) []any {
	mode, until := "", int64(0)
	if s.Access != nil {
		mode = s.Access.Mode
		if s.EndedAt != nil {
			until = s.EndedAt.Add(s.Access.Duration.Std()).UnixMilli()
		}
	}
	updated := ""
	switch {
	case opts.ClearUpdated:
		updated = "clear"
	case s.Updated:
		updated = "1"
	}
	return []any{s.State, mode, until, s.Customer.Name, s.AgentID, s.TeamID,
		updated, s.UpdatedAt.UnixMilli(), s.Internal.LastAgentAt.UnixMilli()}
}

// sessionFields are what a session read takes: the record and the small
// fields that are newer than it.
var sessionFields = []string{"d", "up", "ua", "la"}

// overlay decodes a session from its fields: the record, with the
// activity messages keep in the small fields.
func overlay(vals []any) (*rooms.Session, error) {
	d, ok := vals[0].(string)
	if !ok {
		return nil, rooms.ErrNotFound
	}
	s, err := rooms.DecodeSession([]byte(d))
	if err != nil {
		return nil, err
	}
	if up, ok := vals[1].(string); ok {
		s.Updated = up == "1"
	}
	if ms := millis(vals[2]); ms > s.UpdatedAt.UnixMilli() {
		s.UpdatedAt = time.UnixMilli(ms).UTC()
	}
	if ms := millis(vals[3]); ms > s.Internal.LastAgentAt.UnixMilli() {
		s.Internal.LastAgentAt = time.UnixMilli(ms).UTC()
	}
	return s, nil
}

func millis(v any) int64 {
	s, _ := v.(string)
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

// pipeliner runs scripts in pipelines: whatever is pending goes out in
// one pipeline as soon as fewer than pipeSenders are in flight. The
// caller that finds room sends the pipeline itself, so a lone script
// waits for nothing and passes through no other goroutine; a busy node
// makes one round trip per batch instead of one per message.
type pipeliner struct {
	rdb      redis.UniversalClient
	replicas int           // replicas a pipeline's scripts must reach (WAIT); 0: no wait
	wait     time.Duration // how long WAIT waits for them
	online   onlineReplicas
	mu       sync.Mutex
	pending  []*scriptReq
	senders  int // pipelines in flight
	// sizes counts the scripts each pipeline carries: how much group
	// commit gathers at a given load.
	sizes prometheus.Histogram
}

func newPipeliner(rdb redis.UniversalClient, replicas int, wait time.Duration) *pipeliner {
	return &pipeliner{rdb: rdb, replicas: replicas, wait: wait, sizes: prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "cohub_commit_pipeline_scripts",
		Help:    "Commit scripts (messages and other room commits) per Redis pipeline: the node's group commit.",
		Buckets: prometheus.ExponentialBuckets(1, 2, 9),
	})}
}

type scriptReq struct {
	script *redis.Script
	keys   []string
	args   []any
	res    any
	err    error
	done   chan struct{}
}

const (
	pipeSenders = 2   // pipelines in flight at once
	pipeBatch   = 256 // scripts per pipeline at most
)

func (p *pipeliner) run(ctx context.Context, s *redis.Script, keys []string, args []any) (any, error) {
	req := &scriptReq{script: s, keys: keys, args: args, done: make(chan struct{})}
	p.mu.Lock()
	p.pending = append(p.pending, req)
	var batch []*scriptReq
	if p.senders < pipeSenders {
		p.senders++
		batch = p.take()
	}
	p.mu.Unlock()
	if batch != nil {
		p.send(batch)
		p.handOn()
	}
	select {
	case <-req.done:
		return req.res, req.err
	case <-ctx.Done():
		// It may still run: named commits make a resend safe.
		return nil, unavailable(ctx.Err())
	}
}

// take removes the next batch from the pending scripts (p.mu held).
func (p *pipeliner) take() []*scriptReq {
	n := min(len(p.pending), pipeBatch)
	batch := p.pending[:n:n]
	p.pending = p.pending[n:]
	if len(p.pending) == 0 {
		p.pending = nil
	}
	return batch
}

// handOn goes on with what queued while a pipeline was in flight, on a
// goroutine of its own so that the caller who sent it returns now. That
// goroutine sends batch after batch while more wait: its stack, grown
// once on the way through the Redis client, serves them all.
func (p *pipeliner) handOn() {
	batch := p.next()
	if batch == nil {
		return
	}
	go func() {
		for ; batch != nil; batch = p.next() {
			p.send(batch)
		}
	}()
}

// next takes the next batch, or gives back its sender's place when none
// waits.
func (p *pipeliner) next() []*scriptReq {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.pending) == 0 {
		p.senders--
		return nil
	}
	return p.take()
}

func (p *pipeliner) send(batch []*scriptReq) {
	p.sizes.Observe(float64(len(batch)))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if cc, ok := p.rdb.(*redis.ClusterClient); ok && p.replicas > 0 {
		p.sendByShard(ctx, cc, batch)
	} else {
		p.exec(ctx, p.rdb, batch, p.waitFor(""))
	}
	for _, r := range batch {
		close(r.done)
	}
}

// waitFor is how many replicas a master's commits wait for: the
// replicas asked for, or as many as it has online when fewer.
func (p *pipeliner) waitFor(master string) int {
	if p.replicas == 0 {
		return 0
	}
	p.online.once.Do(func() {
		p.online.rdb, p.online.kick = p.rdb, make(chan struct{}, 1)
		go p.online.loop()
	})
	return p.online.get(master, p.replicas)
}

// exec runs scripts in one pipeline on c. With replicas, a WAIT follows
// them on the same connection (WAIT counts the replicas holding its own
// connection's writes): scripts it finds short of replicas fail as
// unavailable. Replication is one ordered stream, so a replica holding a
// later write holds the earlier ones too: a repeat of a named commit
// writes (the names' expiry) so that its WAIT also covers the first.
func (p *pipeliner) exec(ctx context.Context, c redis.Cmdable, batch []*scriptReq, replicas int) {
	p.execOnce(ctx, c, batch, replicas, false)
	var lost []*scriptReq
	for _, r := range batch {
		if r.err != nil && strings.HasPrefix(r.err.Error(), "NOSCRIPT") {
			lost = append(lost, r)
		}
	}
	if len(lost) > 0 {
		// Redis lost its scripts (a restart, a failover): send them whole.
		p.execOnce(ctx, c, lost, replicas, true)
	}
}

func (p *pipeliner) execOnce(ctx context.Context, c redis.Cmdable, batch []*scriptReq, replicas int, whole bool) {
	pipe := c.Pipeline()
	cmds := make([]*redis.Cmd, len(batch))
	for i, r := range batch {
		if whole {
			cmds[i] = r.script.Eval(ctx, pipe, r.keys, r.args...)
		} else {
			cmds[i] = r.script.EvalSha(ctx, pipe, r.keys, r.args...)
		}
	}
	var w *redis.Cmd
	if replicas > 0 {
		w = pipe.Do(ctx, "WAIT", replicas, p.wait.Milliseconds())
	}
	_, _ = pipe.Exec(ctx)
	for i, r := range batch {
		r.res, r.err = cmds[i].Result()
	}
	if w == nil {
		return
	}
	n, err := w.Int64()
	if err == nil && n < int64(replicas) && p.heldByAllOnline(ctx, c, n) {
		return
	}
	if err != nil || n < int64(replicas) {
		p.online.refresh() // a replica may have gone: count them again
		short := fmt.Errorf("%w: %d of %d replicas hold the commit after %s", errNotReplicated, n, replicas, p.wait)
		if err != nil {
			short = fmt.Errorf("%w: WAIT: %v", errNotReplicated, err)
		}
		for _, r := range batch {
			if r.err == nil {
				r.res, r.err = nil, short
			}
		}
	}
}

// heldByAllOnline: a WAIT came back short, but as many replicas hold the
// commit as its master has online now (fewer than counted a moment ago:
// a replica went away, or the master is a replica just promoted, with
// none yet). That is what a commit waits for.
func (p *pipeliner) heldByAllOnline(ctx context.Context, c redis.Cmdable, n int64) bool {
	online, err := replicasOnline(ctx, c)
	return err == nil && n >= int64(online)
}

// errNotReplicated: a commit fewer replicas hold than asked for. It may
// survive, or be lost if its master fails now; the caller retries it
// under the same name.
var errNotReplicated = errors.New("commit not confirmed by a replica")

// onlineReplicas counts, once a second, the replicas each master has
// online ("" names the one master of a non-cluster client). A commit
// waits for at most that many: a master whose replicas are all down (or
// a replica promoted after its master died) goes on writing, and a
// master not counted yet gets the full number.
type onlineReplicas struct {
	once sync.Once
	rdb  redis.UniversalClient
	kick chan struct{}
	mu   sync.Mutex
	n    map[string]int
}

func (o *onlineReplicas) get(master string, want int) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	if n, ok := o.n[master]; ok {
		return min(n, want)
	}
	return want
}

func (o *onlineReplicas) refresh() {
	if o.kick == nil {
		return
	}
	select {
	case o.kick <- struct{}{}:
	default:
	}
}

func (o *onlineReplicas) loop() {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		o.read()
		select {
		case <-t.C:
		case <-o.kick:
		}
	}
}

func (o *onlineReplicas) read() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	counts := map[string]int{}
	if cc, ok := o.rdb.(*redis.ClusterClient); ok {
		var mu sync.Mutex
		_ = cc.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
			if n, err := replicasOnline(ctx, m); err == nil {
				mu.Lock()
				counts[m.Options().Addr] = n
				mu.Unlock()
			}
			return nil
		})
	} else if n, err := replicasOnline(ctx, o.rdb); err == nil {
		counts[""] = n
	}
	o.mu.Lock()
	o.n = counts
	o.mu.Unlock()
}

// replicasOnline reads INFO replication: its "slaveN:…,state=online,…"
// lines.
func replicasOnline(ctx context.Context, c redis.Cmdable) (int, error) {
	info, err := c.Info(ctx, "replication").Result()
	n := 0
	for _, line := range strings.Split(info, "\n") {
		if strings.HasPrefix(line, "slave") && strings.Contains(line, "state=online") {
			n++
		}
	}
	return n, err
}

// sendByShard sends each master's share of a batch in a pipeline of its
// own, with its WAIT, on Redis Cluster: a WAIT must follow its writes on
// their connection. A script sent to a master that no longer owns its
// slot (MOVED, ASK, TRYAGAIN: a reshard or a failover) did not run; it
// goes again after the slot map is read again. If its slot is still
// moving after that, it goes through the cluster client, which follows
// redirections but cannot wait: so only when no replica is asked for;
// otherwise it is refused unconfirmed and its sender resends it.
func (p *pipeliner) sendByShard(ctx context.Context, cc *redis.ClusterClient, batch []*scriptReq) {
	todo := batch
	for round := 0; len(todo) > 0 && round < 3; round++ {
		if round > 0 {
			cc.ReloadState(ctx)
			time.Sleep(time.Duration(round) * 100 * time.Millisecond) // a retry pause while the cluster moves the slot
		}
		groups := map[*redis.Client][]*scriptReq{}
		for _, r := range todo {
			m, err := cc.MasterForKey(ctx, r.keys[0])
			if err != nil {
				r.res, r.err = nil, err
				continue
			}
			groups[m] = append(groups[m], r)
		}
		var wg sync.WaitGroup
		for m, reqs := range groups {
			wg.Add(1)
			go func() {
				defer wg.Done()
				p.exec(ctx, m, reqs, p.waitFor(m.Options().Addr))
			}()
		}
		wg.Wait()
		var again []*scriptReq
		lostMaster := false
		for _, r := range todo {
			var reply redis.Error
			switch {
			case redirected(r.err):
				again = append(again, r)
			case r.err != nil && !errors.As(r.err, &reply):
				lostMaster = true
			}
		}
		if lostMaster {
			// A master that does not answer may have failed over: the
			// retry (the caller's) must find its replica, not it again.
			cc.ReloadState(ctx)
		}
		todo = again
	}
	if len(todo) > 0 && p.replicas > 0 {
		for _, r := range todo {
			r.res, r.err = nil, fmt.Errorf("%w: its slot is moving", errNotReplicated)
		}
		return
	}
	if len(todo) > 0 {
		p.exec(ctx, cc, todo, 0)
	}
}

// redirected: Redis Cluster refused a command that must go elsewhere (or
// later), without running it.
func redirected(err error) bool {
	if err == nil {
		return false
	}
	msg := err.Error()
	for _, p := range []string{"MOVED ", "ASK ", "TRYAGAIN", "CLUSTERDOWN"} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}

// touch queues a message's activity for the history indexes: the
// coalescer writes each session at most once a second, off the message's
// path.
func (r *Store) touch(id string, a rooms.Appended, m rooms.MessageAppend) {
	r.dirtyMu.Lock()
	defer r.dirtyMu.Unlock()
	if r.dirty == nil {
		r.dirty = map[string]*rooms.Session{}
		go r.coalesce()
	}
	d := r.dirty[id]
	if d == nil {
		d = &rooms.Session{ID: id, AgentID: a.AgentID, TeamID: a.TeamID}
		r.dirty[id] = d
	}
	if m.Now.After(d.UpdatedAt) {
		d.UpdatedAt = m.Now
	}
	if m.Event.From.Role != "customer" && m.Now.After(d.Internal.LastAgentAt) {
		d.Internal.LastAgentAt = m.Now
	}
}

// coalesce writes the queued activity to the history and idle indexes
// once a second, in one pipeline. Scores only move forward (GT), and the
// idle index only updates sessions still in it (XX): an ended session is
// never put back. What Redis refuses is kept for the next round.
func (r *Store) coalesce() {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for range t.C {
		r.dirtyMu.Lock()
		batch := r.dirty
		r.dirty = map[string]*rooms.Session{}
		r.dirtyMu.Unlock()
		if len(batch) == 0 {
			continue
		}
		if err := r.indexActivity(batch); err != nil {
			r.dirtyMu.Lock()
			for id, s := range batch {
				if _, newer := r.dirty[id]; !newer {
					r.dirty[id] = s
				}
			}
			r.dirtyMu.Unlock()
		}
	}
}

// indexChunk bounds one ZADD, so that no single command holds Redis long.
const indexChunk = 256

func (r *Store) indexActivity(batch map[string]*rooms.Session) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// One ZADD per index with all its sessions: a busy node's second of
	// activity costs a handful of commands, not several per session.
	updated, idle := map[string][]redis.Z{}, []redis.Z(nil)
	for _, s := range batch {
		z := redis.Z{Score: float64(s.UpdatedAt.UnixMilli()), Member: s.ID}
		for _, name := range rooms.SessionIndexes(s) {
			updated[name] = append(updated[name], z)
		}
		if !s.Internal.LastAgentAt.IsZero() {
			idle = append(idle, redis.Z{Score: float64(s.Internal.LastAgentAt.UnixMilli()), Member: s.ID})
		}
	}
	pipe := r.rdb.Pipeline()
	for name, zs := range updated {
		for part := range slices.Chunk(zs, indexChunk) {
			pipe.ZAddGT(ctx, r.key("idx", name), part...)
		}
	}
	for part := range slices.Chunk(idle, indexChunk) {
		pipe.ZAddArgs(ctx, r.key("idx", "idle"), redis.ZAddArgs{XX: true, GT: true, Members: part})
	}
	_, err := pipe.Exec(ctx)
	if err != nil && !errors.Is(err, redis.Nil) {
		return unavailable(err)
	}
	return nil
}
