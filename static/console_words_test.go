package static

import (
	"encoding/json"
	"io/fs"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// consoleCatalogFile holds the console's English words; it is the one
// console module allowed to hold words.
const consoleCatalogFile = "js/console/words.en.js"

// consoleModules are the console's modules, with the shared ones whose
// words only the console shows (words.js, ui.js).
func consoleModules(t *testing.T) []string {
	mods, err := fs.Glob(files, "js/console/*.js")
	if err != nil {
		t.Fatal(err)
	}
	out := []string{"js/console.js", "js/words.js", "js/ui.js"}
	for _, m := range mods {
		if m != consoleCatalogFile {
			out = append(out, m)
		}
	}
	return out
}

// consoleNotWords are the console's strings that read like words and are
// not shown: key names, CSS selectors, a media query.
var consoleNotWords = map[string]bool{
	"Home": true, "End": true, "Escape": true, "Enter": true, "(max-width: 767px)": true,
	".dialog-actions button": true, "[autofocus], input:not([type=hidden]):not([disabled]), select, textarea": true,
}

// consoleCatalog reads the catalog as the console does: the JSON object
// after "export default".
func consoleCatalog(t *testing.T) map[string]string {
	src, err := files.ReadFile(consoleCatalogFile)
	if err != nil {
		t.Fatal(err)
	}
	s := string(src)
	i := strings.Index(s, "export default {")
	j := strings.LastIndex(s, "}")
	if i < 0 || j < i {
		t.Fatalf("%s is not `export default {…};`", consoleCatalogFile)
	}
	var cat map[string]string
	if err := json.Unmarshal([]byte(s[i+len("export default "):j+1]), &cat); err != nil {
		t.Fatalf("%s: the catalog is not plain JSON: %v", consoleCatalogFile, err)
	}
	return cat
}

var (
	// lookup is a literal key given to w, wx or wn.
	lookup = regexp.MustCompile(`\b(w|wx|wn)\(\s*"([^"]*)"`)
	// codeTable is words.js's table(prefix, [codes], [fields]).
	codeTable = regexp.MustCompile(`\btable\("([a-z_]+)", (\[[^\]]*\])(?:, (\[[^\]]*\]))?\)`)
)

// keysNamed are the catalog keys a module's code names.
func keysNamed(src string) []string {
	var keys []string
	for _, m := range lookup.FindAllStringSubmatch(src, -1) {
		if m[1] == "wn" {
			keys = append(keys, m[2]+".one", m[2]+".other")
			continue
		}
		keys = append(keys, m[2])
	}
	for _, m := range codeTable.FindAllStringSubmatch(src, -1) {
		var codes, fields []string
		_ = json.Unmarshal([]byte(m[2]), &codes)
		if m[3] != "" {
			_ = json.Unmarshal([]byte(m[3]), &fields)
		}
		for _, c := range codes {
			if len(fields) == 0 {
				keys = append(keys, m[1]+"."+c)
			}
			for _, f := range fields {
				keys = append(keys, m[1]+"."+c+"."+f)
			}
		}
	}
	return keys
}

// TestConsoleHasNoLiteralWords: every word of the console comes from its
// catalog, so a translator can give it another language without
// touching the screens.
func TestConsoleHasNoLiteralWords(t *testing.T) {
	for _, name := range consoleModules(t) {
		src, err := files.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range literalWordsBut(string(src), consoleNotWords) {
			t.Errorf("%s has words of its own, not from the console's catalog: %s", name, w)
		}
	}
}

// TestConsoleKeysExist: each key the console names is in its catalog,
// and each entry of the catalog is named somewhere (no dead words for a
// translator to translate).
func TestConsoleKeysExist(t *testing.T) {
	cat := consoleCatalog(t)
	named := map[string]bool{}
	for _, name := range consoleModules(t) {
		src, _ := files.ReadFile(name)
		for _, k := range keysNamed(string(src)) {
			named[k] = true
			if _, ok := cat[k]; !ok {
				t.Errorf("%s names %q, which the console's catalog lacks", name, k)
			}
		}
	}
	var dead []string
	for k := range cat {
		if !named[k] {
			dead = append(dead, k)
		}
	}
	sort.Strings(dead)
	if len(dead) > 0 {
		t.Errorf("the console's catalog has words no module uses: %v", dead)
	}
}

// TestConsoleWordsCaught: a word written into a console module, or a key
// its catalog lacks, fails the checks above.
func TestConsoleWordsCaught(t *testing.T) {
	src, _ := files.ReadFile("js/console/keys.js")
	planted := strings.Replace(string(src), `${w("keys.revoke")}`, "Revoke", 1)
	if planted == string(src) {
		t.Fatal("keys.js no longer shows keys.revoke: plant the word elsewhere")
	}
	if got := literalWordsBut(planted, consoleNotWords); len(got) != 1 || !strings.Contains(got[0], "Revoke (line") {
		t.Fatalf("a planted word was found as %q, want just Revoke", got)
	}
	if got := literalWordsBut(`announce("Key revoked.");`, consoleNotWords); len(got) != 1 {
		t.Fatalf("a planted announcement was found as %q", got)
	}
	cat := consoleCatalog(t)
	for _, k := range keysNamed(`w("keys.revoke"); wn("words.hours", 2); const X = table("auth", ["pending", "nope"]); w("keys.no_such_words")`) {
		if _, ok := cat[k]; !ok && k != "auth.nope" && k != "keys.no_such_words" {
			t.Errorf("%q should be in the catalog", k)
		}
		if ok := cat[k] != ""; ok && (k == "auth.nope" || k == "keys.no_such_words") {
			t.Errorf("%q should be missing from the catalog", k)
		}
	}
	if n := len(keysNamed(`table("auth", ["pending", "nope"]); wn("words.hours", 2)`)); n != 4 {
		t.Errorf("keysNamed found %d keys in a table of two and a count, want 4", n)
	}
}
