package rooms

import (
	"strings"
	"testing"
)

// A form's pattern also runs as a JavaScript RegExp on the customer's
// page, a backtracking engine: nested repetition such as (a+)+ takes
// exponential time there on an answer that nearly matches, so a
// template refuses it (and choices that multiply past 1000 ways).
// Ordinary patterns, bounded repeats of a group included, still pass.
func TestFormPatternsRefuseNestedRepetition(t *testing.T) {
	check := func(pattern string) string {
		f := problems{}
		validContent("form", TaskContent{Fields: []FormField{{Name: "a", Label: "A", Type: "text", Pattern: pattern}}}, "task", f)
		return f["task.fields[0].pattern"]
	}
	for _, p := range []string{
		`(a+)+$`, `(a+)+`, `(a*)*`, `(a+)*b`, `(a|aa)+`, `(a|ab)*`, `(a?)+`, `(x+x+)+y`,
		`([a-z]+ ?)*`, `(a+){2,5}`, `((a+))+`, `(b(a+)c)+`, `(a{1,3})+`, `(a+){2,}`,
		`((a|b c){8}){8}`, `([0-9]{1,30}){30}`,
		// Not nested, but as slow: choices that multiply.
		`(a|a){9}(a|a){9}(a|a){9}`, `a?a?a?a?a?a?a?a?a?a?aaaaaaaaaa`,
		// Go's parser merges these alternatives; JavaScript tries each.
		`(a|a)+`, `(a|[a-z])+$`, `(x|x|x)*y`,
		`([ab]|[[:alpha:]])*`, `(\Q(\E|\()+`, `(a{1,}){2}`,
	} {
		if msg := check(p); !strings.Contains(msg, "nested repetition") {
			t.Errorf("%q: %q", p, msg)
		}
	}
	for _, p := range []string{
		`[0-9]{5}`, `[A-Z]{2}[0-9]{2} ?[0-9]{4}( ?[0-9]{4}){2,4}`, `\+?[0-9 ]{7,15}`,
		`[A-Z]{2}-[0-9]{6}`, `([A-Z][0-9])+`, `([0-9]{3} )*[0-9]{3}`, `(a+)?`, `(ab|cd)?x+`,
		`[a-z]+( [a-z]+)?`, `[^@ ]+@[^@ ]+`, `(0[1-9]|1[0-2])/[0-9]{2}`,
		`\+?[0-9]{1,3}[ -]?[0-9]{3}[ -]?[0-9]{3}[ -]?[0-9]{4}`, `[0-9]{1,3}(\.[0-9]{1,3}){3}`,
		`[](|+*]+`, `[^])]*x`, `\(+\)+`, `[[:alpha:]]+ [[:digit:]]{2}`, `(Mr|Mrs|Ms) [A-Z][a-z]+`,
		`(\x{263a}[a-z])+`, `é+(ab)+`,
	} {
		if msg := check(p); msg != "" {
			t.Errorf("%q refused: %q", p, msg)
		}
	}
}
