package layout

import (
	"go/ast"
	"go/build"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The limits DESIGN.md §2 sets for the house.
const (
	maxFileLines  = 650
	maxTypeMethod = 60
)

// root is the repository's top folder.
func root(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// goFiles lists the repository's Go files (tests too when tests is set),
// as paths relative to the root.
func goFiles(t *testing.T, tests bool) []string {
	t.Helper()
	base := root(t)
	var out []string
	err := filepath.WalkDir(base, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "node_modules") && path != base {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || (!tests && strings.HasSuffix(path, "_test.go")) {
			return nil
		}
		rel, _ := filepath.Rel(base, path)
		out = append(out, rel)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestNoLongFiles(t *testing.T) {
	for _, f := range goFiles(t, false) {
		b, err := os.ReadFile(filepath.Join(root(t), f))
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(string(b), "\n"); n > maxFileLines {
			t.Errorf("%s has %d lines; split it by what it does (at most %d)", f, n, maxFileLines)
		}
	}
}

func TestNoTypeWithTooManyMethods(t *testing.T) {
	counts := map[string]int{} // "dir.Type" → methods declared on it
	fset := token.NewFileSet()
	for _, f := range goFiles(t, false) {
		file, err := parser.ParseFile(fset, filepath.Join(root(t), f), nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range file.Decls {
			if fn, ok := d.(*ast.FuncDecl); ok && fn.Recv != nil && len(fn.Recv.List) == 1 {
				counts[filepath.Dir(f)+"."+receiverName(fn.Recv.List[0].Type)]++
			}
		}
	}
	if len(counts) == 0 {
		t.Fatal("no methods found: the walk read nothing")
	}
	for name, n := range counts {
		if n > maxTypeMethod {
			t.Errorf("%s has %d methods (at most %d): split it by concern", name, n, maxTypeMethod)
		}
	}
}

func receiverName(e ast.Expr) string {
	switch x := e.(type) {
	case *ast.StarExpr:
		return receiverName(x.X)
	case *ast.IndexExpr:
		return receiverName(x.X)
	case *ast.IndexListExpr:
		return receiverName(x.X)
	case *ast.Ident:
		return x.Name
	}
	return "?"
}

// One Go client of the protocol dials the WebSocket (the hub's own test of
// the server may too).
func TestOneProtocolClient(t *testing.T) {
	allowed := []string{"internal/wsclient/wsclient.go"}
	var dialers []string
	for _, f := range goFiles(t, true) {
		b, err := os.ReadFile(filepath.Join(root(t), f))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), "websocket.Dial(") && f != "internal/layout/layout_test.go" {
			dialers = append(dialers, f)
		}
	}
	if !slices.Contains(dialers, allowed[0]) {
		t.Fatalf("the protocol client does not dial: dialers %v", dialers)
	}
	if len(dialers) > 2 {
		t.Errorf("%d files dial the WebSocket (%v): use internal/wsclient", len(dialers), dialers)
	}
}

// The domain and the hub know no storage engine.
func TestNoRedisInDomainOrHub(t *testing.T) {
	for _, dir := range []string{"rooms", "hub", "api"} {
		p, err := build.ImportDir(filepath.Join(root(t), dir), 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range p.Imports {
			if strings.HasPrefix(imp, "github.com/redis/") {
				t.Errorf("%s imports %s: storage engines live in packages of their own", dir, imp)
			}
		}
	}
}
