package rooms

import (
	"context"
	"io"
)

// What the external tests need of the Service's insides.

func (s *Service) Keep(ctx context.Context, a *Asset, data []byte) error {
	return s.Files.keep(ctx, a, data)
}

func (s *Service) Read(ctx context.Context, sessionID, id string) (*Asset, []byte, error) {
	return s.Files.read(ctx, sessionID, id)
}

func (s *Service) Open(ctx context.Context, sessionID, id string) (*Asset, io.ReadCloser, error) {
	return s.Files.open(ctx, sessionID, id)
}
