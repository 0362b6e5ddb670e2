package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/crypto/bcrypt"

	"github.com/cohub/cohub/app"
	"github.com/cohub/cohub/rooms"
)

// loadServer is an in-process Cohub on the memory backend with one
// agent, load@cohub.test; Start runs its hub.
func loadServer(t *testing.T) *app.App {
	t.Helper()
	a := app.New(app.MemoryBackend(), app.Config{Rooms: rooms.Config{
		Secret: []byte("load-test-secret-0123"), PublicURL: "http://cohub.test", BcryptCost: bcrypt.MinCost,
	}, Log: zerolog.Nop()})
	ctx := context.Background()
	team, err := a.Service.Accounts.CreateTeam(ctx, "Load", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Service.Accounts.CreateAgent(ctx, rooms.AgentInput{Agent: rooms.Agent{Email: "load@cohub.test", Name: "Load",
		Role: rooms.RoleAgent, TeamID: team.ID}, Password: "load-password"}); err != nil {
		t.Fatal(err)
	}
	return a
}

// liveServer is loadServer with its hub running, and the address of its
// metrics, served apart as cohub --metrics-addr does.
func liveServer(t *testing.T) (*httptest.Server, string) {
	t.Helper()
	a := loadServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	a.Start(ctx)
	srv := httptest.NewServer(a.Handler())
	msrv := httptest.NewServer(a.API.MetricsHandler())
	t.Cleanup(func() { srv.Close(); msrv.Close(); cancel() })
	return srv, msrv.URL + "/metrics"
}

// TestChatAndIdle runs the WebSocket scenarios against a live server:
// every delivered message in order, and a memory report per connection.
func TestChatAndIdle(t *testing.T) {
	srv, metricsURL := liveServer(t)
	ctx := context.Background()
	o := options{URL: srv.URL, CustomerURL: srv.URL, Email: "load@cohub.test", Password: "load-password",
		Scenario: "chat", Workers: 3, Rate: 20, Duration: time.Second, Conns: 30}
	var out bytes.Buffer
	if err := runScenario(ctx, o, &out); err != nil {
		t.Fatal(err)
	}
	var sent, got, disorder int
	if _, err := fmt.Sscanf(out.String()[strings.Index(out.String(), "messages:"):], "messages: %d sent, %d delivered", &sent, &got); err != nil {
		t.Fatalf("report:\n%s", out.String())
	}
	fmt.Sscanf(out.String()[strings.Index(out.String(), "/s), ")+5:], "%d out of order", &disorder)
	if got == 0 || got > sent || sent-got > 3 || disorder != 0 || strings.Contains(out.String(), "failed") {
		t.Fatalf("report:\n%s", out.String())
	}
	out.Reset()
	o.Scenario, o.Duration = "idle", 100*time.Millisecond
	o.MetricsURL = srv.URL + "/metrics" // the public address serves no metrics
	if err := runScenario(ctx, o, &out); err == nil || !strings.Contains(err.Error(), "--metrics-url") {
		t.Fatalf("idle without the metrics address: %v", err)
	}
	o.MetricsURL = metricsURL
	if err := runScenario(ctx, o, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "idle: 30 connections held") || !strings.Contains(out.String(), "goroutines") {
		t.Fatalf("report:\n%s", out.String())
	}
}

// TestRunCountsRounds drives a real in-process server for a bounded
// number of rounds and checks the report adds up.
func TestRunCountsRounds(t *testing.T) {
	a := loadServer(t)
	svc := a.Service
	ctx := context.Background()
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()

	rep, err := run(ctx, options{URL: srv.URL, Email: "load@cohub.test", Password: "load-password",
		Workers: 4, Duration: time.Minute, Rounds: 25})
	if err != nil {
		t.Fatal(err)
	}
	if rep.rounds != 25 || len(rep.failures) != 0 {
		t.Fatalf("rounds %d, failures %v", rep.rounds, rep.failures)
	}
	for _, op := range ops {
		if len(rep.lat[op]) != 25 {
			t.Fatalf("%s measured %d times", op, len(rep.lat[op]))
		}
	}
	h, err := svc.Sessions.History(ctx, &rooms.Agent{Role: rooms.RoleAdmin}, rooms.HistoryQuery{Scope: "all", Limit: 200})
	if err != nil || len(h.Sessions) != 25 {
		t.Fatalf("server holds %d sessions (%v)", len(h.Sessions), err)
	}
	var out bytes.Buffer
	rep.print(&out)
	if !strings.Contains(out.String(), "rounds: 25") || !strings.Contains(out.String(), "history") {
		t.Fatalf("report:\n%s", out.String())
	}
	if _, err := run(ctx, options{URL: srv.URL, Email: "load@cohub.test", Password: "wrong-password", Workers: 1, Duration: time.Second}); err == nil {
		t.Fatal("a failed login did not stop the run")
	}
}

func TestTargetsStayLocal(t *testing.T) {
	for _, u := range []string{"http://127.0.0.1:8080", "http://localhost:8080", "http://[::1]:8080"} {
		if err := checkTarget(u, false); err != nil {
			t.Errorf("%s refused: %v", u, err)
		}
	}
	for _, u := range []string{"http://10.0.0.5:8080", "https://cohub.example.com", "::"} {
		if err := checkTarget(u, false); err == nil {
			t.Errorf("%s allowed without --allow-remote", u)
		}
	}
	if _, err := parseOptions([]string{"--password", "x", "--url", "http://192.168.1.2"}); err == nil {
		t.Error("a private-range target was accepted")
	}
	if o, err := parseOptions([]string{"--scenario", "idle", "--url", "http://127.0.0.1:9100/"}); err != nil || o.MetricsURL != "http://127.0.0.1:9100/metrics" {
		t.Errorf("default metrics URL: %q %v", o.MetricsURL, err)
	}
}
