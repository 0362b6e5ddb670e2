package app

import (
	"context"
	"time"

	"github.com/rs/zerolog"

	"github.com/cohub/cohub/rooms"
	"github.com/cohub/cohub/webhooks"
)

// emitLimit bounds queueing one commit's webhook events.
const emitLimit = 5 * time.Second

// hookSource turns the domain's commits and announcements into webhook
// events. It queues them after the commit: a crash in between loses
// them (DESIGN §7 says so).
type hookSource struct {
	hooks  *webhooks.Service
	assets rooms.AssetStore
	log    zerolog.Logger
}

func (h *hookSource) committed(s *rooms.Session, logged []rooms.Event) {
	ctx, cancel := context.WithTimeout(context.Background(), emitLimit)
	defer cancel()
	h.emit(ctx, s.ID, webhooks.FromCommit(s, logged, func(id string) string { return h.sha256(ctx, s.ID, id) }))
}

func (h *hookSource) announced(ctx context.Context, a rooms.Announcement) {
	if ev, ok := webhooks.FromAnnouncement(a); ok {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), emitLimit)
		defer cancel()
		h.emit(ctx, a.Session.ID, []webhooks.Event{ev})
	}
}

func (h *hookSource) emit(ctx context.Context, sessionID string, events []webhooks.Event) {
	if err := h.hooks.Emit(ctx, events...); err != nil {
		h.log.Error().Err(err).Str("session", sessionID).Int("events", len(events)).Msg("webhook events not queued")
	}
}

// sha256 is a kept file's hash ("" when its record cannot be read).
func (h *hookSource) sha256(ctx context.Context, sessionID, assetID string) string {
	if h.assets == nil {
		return ""
	}
	a, err := h.assets.Asset(ctx, sessionID, assetID)
	if err != nil {
		return ""
	}
	return a.SHA256
}

// listener is the domain's listener: the live node, and webhooks of
// every commit.
type listener struct {
	*liveNode
	src *hookSource
}

func (l listener) Committed(s *rooms.Session, logged []rooms.Event) {
	l.liveNode.Committed(s, logged)
	l.src.committed(s, logged)
}
