package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/cohub/cohub/rooms"
)

// loginsText is the demo logins as a table, then one line that puts
// their passwords in the variables the README's examples use
// (ADMIN_PASSWORD, ALEX_PASSWORD, …), so those run as pasted.
func loginsText(logins []rooms.DemoLogin) string {
	var b strings.Builder
	b.WriteString("Demo logins (made at first start):\n")
	for _, l := range logins {
		fmt.Fprintf(&b, "  %-10s %-20s %s\n", l.Role, l.Email, l.Password)
	}
	b.WriteString(exportLine(logins) + "   # paste into your shell for the README's examples\n")
	return b.String()
}

// exportLine is "export ADMIN_PASSWORD='…' …", one variable per login,
// named after the email's local part.
func exportLine(logins []rooms.DemoLogin) string {
	vars := make([]string, 0, len(logins))
	for _, l := range logins {
		name, _, _ := strings.Cut(l.Email, "@")
		vars = append(vars, shellName(name)+"_PASSWORD="+shellQuote(l.Password))
	}
	return "export " + strings.Join(vars, " ")
}

// shellName upper-cases a name and turns what a shell variable may not
// hold into "_".
func shellName(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			return r
		case r >= 'a' && r <= 'z':
			return r - 'a' + 'A'
		}
		return '_'
	}, s)
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func printLogins(w io.Writer, logins []rooms.DemoLogin) {
	_, _ = io.WriteString(w, loginsText(logins))
}

// writeLogins puts the logins in a new file that only this user may read
// (os.CreateTemp makes it 0600) and returns its path: the memory
// backend's, which keeps nothing of its own on disk.
func writeLogins(logins []rooms.DemoLogin) (string, error) {
	f, err := os.CreateTemp("", "cohub-demo-logins-*.txt")
	if err != nil {
		return "", err
	}
	_, err = f.WriteString(loginsText(logins))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

// writeLoginsTo puts the logins in the file at path, only this user may
// read it.
func writeLoginsTo(path string, logins []rooms.DemoLogin) error {
	return os.WriteFile(path, []byte(loginsText(logins)), 0o600)
}
