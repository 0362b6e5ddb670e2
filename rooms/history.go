package rooms

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// maxScan bounds how many index entries one page may look at, so a
// narrow filter over a huge history answers in bounded time.
const maxScan = 5000

// History lists sessions for the history panel.
func (s *SessionService) History(ctx context.Context, a *Agent, q HistoryQuery) (*History, error) {
	after, err := s.checkHistoryQuery(&q)
	if err != nil {
		return nil, err
	}
	set, err := s.store.Settings(ctx)
	if err != nil {
		return nil, err
	}
	if !MayAskScope(a, q.Scope, set.HistorySearchSpace) {
		return nil, fmt.Errorf("%w: history is limited to scope %q", ErrForbidden, set.HistorySearchSpace)
	}
	q.region = set.PhoneDefaultRegion
	index := historyIndex(a, q.Scope)
	out := &History{Sessions: []*Session{}}
	if index == "" {
		return out, nil
	}
	since := s.now().AddDate(0, 0, -set.HistoryDays)
	out.NextCursor, err = s.collect(ctx, out, index, after, since, q)
	if err != nil {
		return nil, err
	}
	s.withIndicators(ctx, out.Sessions...)
	s.withUnread(ctx, out.Sessions)
	return out, nil
}

// collect fills h with up to q.Limit matching sessions after the cursor
// and returns the cursor to continue from ("" when nothing is left).
func (s *SessionService) collect(ctx context.Context, h *History, index string, after Cursor, since time.Time, q HistoryQuery) (string, error) {
	match := historyFilter(q)
	// Unfiltered, a page of the index is a page of history; filtered,
	// read ahead so that few round trips fill the page.
	pageSize := q.Limit
	if q.Status != "all" || q.Updated || q.Q != "" {
		pageSize = min(4*q.Limit, 200)
	}
	for scanned := 0; scanned < maxScan; {
		page, err := s.store.History(ctx, index, after, since, pageSize)
		if err != nil {
			return "", err
		}
		scanned += len(page)
		sessions, err := s.sessionsOf(ctx, page)
		if err != nil {
			return "", err
		}
		for _, e := range page {
			after = Cursor{Score: e.Score, ID: e.ID}
			if sess := sessions[e.ID]; sess != nil && match(sess) {
				h.Sessions = append(h.Sessions, sess)
				if len(h.Sessions) == q.Limit {
					return encodeCursor(after), nil
				}
			}
		}
		if len(page) < pageSize {
			return "", nil
		}
	}
	return encodeCursor(after), nil
}

func (s *SessionService) sessionsOf(ctx context.Context, page []IndexEntry) (map[string]*Session, error) {
	ids := make([]string, len(page))
	for i, e := range page {
		ids[i] = e.ID
	}
	list, err := s.store.SessionsByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	m := make(map[string]*Session, len(list))
	for _, sess := range list {
		m[sess.ID] = sess
	}
	return m, nil
}

func (s *SessionService) checkHistoryQuery(q *HistoryQuery) (Cursor, error) {
	f := problems{}
	q.Scope = orDefault(q.Scope, ScopeMine)
	q.Status = orDefault(q.Status, "all")
	if _, ok := scopeRank[q.Scope]; !ok {
		f.add("scope", "must be mine, team or all")
	}
	if q.Status != "all" && q.Status != "completed" && q.Status != "incomplete" {
		f.add("status", "must be all, completed or incomplete")
	}
	if q.Limit == 0 {
		q.Limit = 50
	}
	if q.Limit < 1 || q.Limit > 200 {
		f.add("limit", "must be between 1 and 200")
	}
	q.Q = strings.TrimSpace(q.Q)
	if len(q.Q) > maxNameLen {
		f.add("q", "must be at most 200 characters")
	}
	c, err := decodeCursor(q.Cursor)
	if err != nil {
		f.add("cursor", "is not a cursor this server gave")
	}
	return c, f.asError()
}

func historyIndex(a *Agent, scope string) string {
	switch scope {
	case ScopeAll:
		return IndexAll
	case ScopeTeam:
		if a.TeamID == "" {
			return ""
		}
		return IndexTeam(a.TeamID)
	}
	return IndexAgent(a.ID)
}

// historyFilter matches status, updated and the contact search.
func historyFilter(q HistoryQuery) func(*Session) bool {
	needle := strings.ToLower(q.Q)
	digits := onlyDigits(q.Q)
	// A number as people type it ("07700 900123") finds the number as
	// stored (+447700900123).
	phone, isPhone := "", false
	if digits != "" {
		phone, isPhone = normalizePhone(q.Q, q.region)
	}
	return func(s *Session) bool {
		if q.Updated && !s.Updated {
			return false
		}
		done := tasksCompleted(s.Tasks)
		if (q.Status == "completed" && !done) || (q.Status == "incomplete" && done) {
			return false
		}
		if needle == "" {
			return true
		}
		c := s.Customer
		return strings.Contains(strings.ToLower(c.Name), needle) ||
			strings.Contains(strings.ToLower(c.Email), needle) ||
			strings.Contains(c.Phone, needle) ||
			(len(digits) >= 3 && strings.Contains(onlyDigits(c.Phone), digits)) ||
			(isPhone && c.Phone == phone)
	}
}

// onlyDigits lets "(415) 555-0123" find +14155550123; it is empty when
// the text has letters, which then match as they are.
func onlyDigits(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case strings.ContainsRune(" +-().", r):
		default:
			return ""
		}
	}
	return b.String()
}

func encodeCursor(c Cursor) string {
	if c.ID == "" {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(c.Score, 10) + ":" + c.ID))
}

// errBadCursor is any cursor the server did not give.
var errBadCursor = errors.New("bad cursor")

// decodeCursor reads a cursor only in the form encodeCursor writes it:
// base64 and integers have other spellings of the same value ("+5",
// "05", line breaks, padding bits), and each would be a cursor this
// server never gave.
func decodeCursor(s string) (Cursor, error) {
	if s == "" {
		return Cursor{}, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return Cursor{}, errBadCursor
	}
	score, id, ok := strings.Cut(string(b), ":")
	n, err := strconv.ParseInt(score, 10, 64)
	c := Cursor{Score: n, ID: id}
	if !ok || err != nil || id == "" || encodeCursor(c) != s {
		return Cursor{}, errBadCursor
	}
	return c, nil
}
