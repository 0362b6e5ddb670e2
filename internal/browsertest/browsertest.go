// Package browsertest drives a real headless Chromium in tests.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Options shape one browser.
type Options struct {
	// Width and Height are the viewport in CSS pixels. Zero value: 1366×900.
	Width, Height int64
	// Mobile emulates a phone (touch, mobile viewport).
	Mobile bool
	// Timeout bounds everything the test does with this browser. Zero
	// value: 4 minutes (a loaded CI machine runs Chromium beside the
	// race detector; each step has a bound of its own in the tests).
	Timeout time.Duration
}

// Start runs a headless Chromium of its own (own profile, own cookies)
// for one test, at 1366×900; without one the test is skipped, or fails
// when CI is set. A script error, an uncaught exception or a Content
// Security Policy refusal on its pages fails the test.
func Start(t *testing.T) context.Context { return StartWith(t, Options{}) }

// StartWith is Start with options.
func StartWith(t *testing.T, o Options) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("chromium is required in CI: %v", err)
		}
		t.Skip("chromium not installed")
	}
	if o.Width == 0 {
		o.Width, o.Height = 1366, 900
	}
	if o.Timeout == 0 {
		o.Timeout = 4 * time.Minute
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-component-update", true),
		chromedp.WindowSize(int(o.Width), int(o.Height)),
		chromedp.UserDataDir(t.TempDir()))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	if err := chromedp.Do(ctx); err != nil { // start the browser before any deadline
		cancel()
		cancelAlloc()
		t.Fatalf("start chromium: %v", err)
	}
	p := &problems{}
	go p.watch(ctx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
		for _, m := range p.list() {
			t.Errorf("browser console: %s", m)
		}
	})
	var vopts []chromedp.EmulateViewportOption
	if o.Mobile {
		vopts = append(vopts, chromedp.EmulateMobile, chromedp.EmulateTouch)
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(o.Width, o.Height, vopts...)); err != nil {
		t.Fatalf("viewport: %v", err)
	}
	tctx, tcancel := context.WithTimeout(ctx, o.Timeout)
	t.Cleanup(tcancel)
	return tctx
}

// problems collects what the page's console says went wrong.
type problems struct {
	mu   sync.Mutex
	msgs []string
}

// expected are console errors a working page makes: an API refusal the
// page answers in words (a wrong PIN, an ended sign-in), and a
// reconnecting page's WebSocket failing while the server is away.
var expected = []string{"Failed to load resource", "WebSocket connection to", "WebSocket is closed"}

func (p *problems) watch(ctx context.Context) {
	for m, err := range chromedp.Console(ctx) {
		if err != nil {
			return
		}
		bad := m.IsException() || m.Type == chromedp.ConsoleError ||
			strings.Contains(m.Text, "Content Security Policy") || strings.Contains(m.Text, "Refused to")
		for _, e := range expected {
			if strings.Contains(m.Text, e) {
				bad = false
			}
		}
		if bad {
			p.mu.Lock()
			p.msgs = append(p.msgs, m.String()+" ("+m.URL+")")
			p.mu.Unlock()
		}
	}
}

func (p *problems) list() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.msgs...)
}

// Text returns the text of the first element matching a CSS selector.
func Text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return v
}

// Screenshot writes a PNG of the whole viewport to path.
func Screenshot(t *testing.T, ctx context.Context, path string) {
	t.Helper()
	b, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
