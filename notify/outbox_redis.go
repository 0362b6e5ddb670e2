package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisOutbox keeps the newest messages in a Redis list, shared by every
// node.
type RedisOutbox struct {
	rdb redis.UniversalClient
	key string
	max int64
}

var _ Outbox = (*RedisOutbox)(nil)

// NewRedisOutbox keeps the newest max messages (zero: 1000) at
// prefix+"outbox" (prefix: the deployment's, rooms.KeyPrefix, as the
// backend set passes it).
func NewRedisOutbox(rdb redis.UniversalClient, prefix string, max int) *RedisOutbox {
	if max <= 0 {
		max = defaultOutboxSize
	}
	return &RedisOutbox{rdb: rdb, key: prefix + "outbox", max: int64(max)}
}

// Send pushes the message and trims the list in one transaction.
func (o *RedisOutbox) Send(ctx context.Context, m Message) error {
	if m.At.IsZero() {
		m.At = time.Now().UTC()
	}
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	pipe := o.rdb.TxPipeline()
	pipe.LPush(ctx, o.key, b)
	pipe.LTrim(ctx, o.key, 0, o.max-1)
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	return nil
}

// List returns up to limit messages, newest first.
func (o *RedisOutbox) List(ctx context.Context, limit int) ([]Message, error) {
	if limit <= 0 {
		return []Message{}, nil
	}
	vals, err := o.rdb.LRange(ctx, o.key, 0, int64(limit)-1).Result()
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	out := make([]Message, 0, len(vals))
	for _, v := range vals {
		var m Message
		if err := json.Unmarshal([]byte(v), &m); err != nil {
			return nil, fmt.Errorf("outbox entry: %w", err)
		}
		out = append(out, m)
	}
	return out, nil
}
