package rooms

import (
	"context"
	"runtime"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/crypto/bcrypt"

	"github.com/cohub/cohub/blobs"
	"github.com/cohub/cohub/notify"
)

// NewService wires the domain to its store and invitation sender.
func NewService(store Store, sender notify.Sender, cfg Config, log zerolog.Logger) *Service {
	if cfg.MaxRoomEvents == 0 {
		cfg.MaxRoomEvents = 10000
	}
	if cfg.MessageRate == 0 {
		cfg.MessageRate = 10
	}
	if cfg.MessageBurst == 0 {
		cfg.MessageBurst = 30
	}
	if cfg.SendTimeout == 0 {
		cfg.SendTimeout = 15 * time.Second
	}
	if cfg.TokenTTL == 0 {
		cfg.TokenTTL = 12 * time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.BcryptCost == 0 {
		cfg.BcryptCost = bcrypt.DefaultCost
	}
	if cfg.Blobs == nil {
		cfg.Blobs, _ = blobs.Open(context.Background(), "mem://")
	}
	if cfg.MaxUpload == 0 {
		cfg.MaxUpload = DefaultMaxUpload
	}
	if cfg.MaxDecodes <= 0 {
		cfg.MaxDecodes = runtime.NumCPU()
	}
	if cfg.FollowupMinDelay <= 0 {
		cfg.FollowupMinDelay = DefaultFollowupMinDelay
	}
	if cfg.DecodeWait <= 0 {
		cfg.DecodeWait = 2 * time.Second
	}
	dummy, _ := bcrypt.GenerateFromPassword([]byte("cohub-no-such-agent"), cfg.BcryptCost)
	// Both stores keep asset records beside their sessions.
	assets, _ := store.(AssetStore)
	if cfg.Listener == nil {
		cfg.Listener = quiet{}
	}
	c := &core{store: store, assets: assets, sender: sender, presence: cfg.Presence, listen: cfg.Listener,
		cfg: cfg, log: log, dummyHash: dummy,
		decodes: make(chan struct{}, cfg.MaxDecodes)}
	gates := &GateService{core: c}
	files := &FileService{core: c, gates: gates}
	evidence := &EvidenceService{core: c, files: files}
	c.allDone = evidence.certifyDone
	return &Service{core: c, Gates: gates, Files: files, Evidence: evidence, Tickets: &TicketService{core: c}, Keys: &KeyService{core: c}, SSO: &SSOService{core: c}, Followups: &FollowupService{core: c},
		Sessions: &SessionService{core: c, files: files}, Accounts: &AccountService{core: c, files: files}}
}
