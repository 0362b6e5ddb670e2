package memstore

import (
	"context"
	"time"
)

// Hit counts key within a fixed window.
func (m *Store) Hit(_ context.Context, key string, window time.Duration) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := time.Now()
	h := m.hits[key]
	if now.After(h.until) {
		h = memHit{until: now.Add(window)}
	}
	h.n++
	m.hits[key] = h
	return h.n, nil
}

// Unhit takes one Hit back while its window lasts.
func (m *Store) Unhit(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if h, ok := m.hits[key]; ok && time.Now().Before(h.until) && h.n > 0 {
		h.n--
		m.hits[key] = h
	}
	return nil
}

// Once is true for the first caller of name.
func (m *Store) Once(_ context.Context, name string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.once[name] {
		return false, nil
	}
	m.once[name] = true
	return true, nil
}

// Count returns a Hit counter's value without counting.
func (m *Store) Count(_ context.Context, key string) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	h := m.hits[key]
	if time.Now().After(h.until) {
		return 0, nil
	}
	return h.n, nil
}
