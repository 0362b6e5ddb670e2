package errcode

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/cohub/cohub/rooms"
)

// codes are the table's codes with their statuses, once each.
func codes(t *testing.T) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, e := range Table {
		if st, ok := out[e.Code]; ok && st != e.Status {
			t.Errorf("code %s has two statuses in the table: %d and %d", e.Code, st, e.Status)
		}
		out[e.Code] = e.Status
	}
	return out
}

// Every code a client may be told has plain words on the pages: the
// console's PLAIN table (static/js/words.js) lists it, and the console's
// catalog words it ("error.<code>").
func TestEveryCodeHasPlainWords(t *testing.T) {
	src, err := os.ReadFile("../../static/js/words.js")
	if err != nil {
		t.Fatal(err)
	}
	table := regexp.MustCompile(`const PLAIN = .*table\("error", \[([^\]]*)\]\)`).FindSubmatch(src)
	if table == nil {
		t.Fatal(`no PLAIN table (table("error", [...])) in static/js/words.js`)
	}
	plain := map[string]bool{}
	for _, m := range regexp.MustCompile(`"([a-z_]+)"`).FindAllSubmatch(table[1], -1) {
		plain[string(m[1])] = true
	}
	catalog, err := os.ReadFile("../../static/js/console/words.en.js")
	if err != nil {
		t.Fatal(err)
	}
	for code := range codes(t) {
		if !plain[code] {
			t.Errorf("code %s has no plain words in static/js/words.js PLAIN", code)
		}
		if !strings.Contains(string(catalog), `"error.`+code+`":`) {
			t.Errorf("code %s has no words in static/js/console/words.en.js (error.%s)", code, code)
		}
	}
}

// docs/DESIGN.md's table of codes and this one agree, both ways.
func TestDesignListsTheCodes(t *testing.T) {
	src, err := os.ReadFile("../../docs/DESIGN.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `([a-z_]+)` \\| ([0-9]{3}|—) \\|")
	doc := map[string]int{}
	for _, m := range row.FindAllStringSubmatch(string(src), -1) {
		st, _ := strconv.Atoi(m[2]) // —: a reply's code, 0
		doc[m[1]] = st
	}
	if len(doc) == 0 {
		t.Fatal("docs/DESIGN.md has no table of error codes")
	}
	table := codes(t)
	for code, st := range table {
		if got, ok := doc[code]; !ok || got != st {
			t.Errorf("code %s (HTTP %d) is not in DESIGN's table as such (found %d, %v)", code, st, got, ok)
		}
	}
	for code := range doc {
		if _, ok := table[code]; !ok {
			t.Errorf("DESIGN lists %s, which the table does not have", code)
		}
	}
}

// Each error finds its code; a reason it wraps is shown, a backend's
// detail never.
func TestOf(t *testing.T) {
	for _, e := range Table {
		if e.Err == nil {
			continue
		}
		if got := Of(fmt.Errorf("context: %w", e.Err)); got.Code != e.Code {
			t.Errorf("%v maps to %s, want %s", e.Err, got.Code, e.Code)
		}
	}
	if got := Of(&rooms.ValidationError{Fields: map[string]string{"x": "y"}}); got.Code != "validation_failed" || got.Status != 400 {
		t.Errorf("a validation error maps to %+v", got)
	}
	if got := Of(errors.New("boom")); got.Code != "internal" || got.Text(errors.New("boom")) == "boom" {
		t.Errorf("an unknown error maps to %+v and shows its text", got)
	}
	reason := fmt.Errorf("%w: only a planned session can be invited", rooms.ErrInvalidState)
	if got := Of(reason).Text(reason); got != reason.Error() {
		t.Errorf("the reason is not shown: %q", got)
	}
	if got := Of(rooms.ErrNotFound).Text(rooms.ErrNotFound); got != "no such resource" {
		t.Errorf("a bare error shows %q, not its message", got)
	}
	backend := fmt.Errorf("%w: dial tcp 10.0.0.7:6379: connection refused", rooms.ErrUnavailable)
	if got := Of(backend).Text(backend); strings.Contains(got, "10.0.0.7") {
		t.Errorf("a backend's detail reached the answer: %q", got)
	}
}
