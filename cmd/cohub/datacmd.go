package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/cohub/cohub/app"
)

// commands are cohub's subcommands on a data directory (DESIGN.md §7):
// each takes its own flags and returns the process's exit code.
var commands = map[string]func(ctx context.Context, args []string, env func(string) string, stdout io.Writer) error{
	"backup":  backupCmd,
	"restore": restoreCmd,
	"migrate": migrateCmd,
}

// runCommand runs a subcommand and says how it went; 2 is a usage error.
func runCommand(ctx context.Context, name string, args []string, env func(string) string, stdout, stderr io.Writer) int {
	err := commands[name](ctx, args, env, stdout)
	var usage usageError
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &usage):
		fmt.Fprintf(stderr, "cohub %s: %v\n", name, err)
		return 2
	case err != nil:
		fmt.Fprintf(stderr, "cohub %s: %v\n", name, err)
		return 1
	}
	return 0
}

type usageError struct{ error }

// commandFlags is a subcommand's flag set with --data-dir (its default
// from COHUB_DATA_DIR, as the server's).
func commandFlags(name, usage string, env func(string) string) (*flag.FlagSet, *string) {
	fs := newFlags(name, usage)
	dir := fs.String("data-dir", envOr(env, "data-dir", app.DefaultDataDir), "the data directory ("+envName("data-dir")+")")
	return fs, dir
}

// newFlags is a subcommand's flag set, its usage line first.
func newFlags(name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet("cohub "+name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: cohub %s %s\n", name, usage)
		fs.PrintDefaults()
	}
	return fs
}

// oneFile parses args and returns the one FILE argument.
func oneFile(fs *flag.FlagSet, args []string) (string, error) {
	if err := fs.Parse(args); err != nil {
		return "", usageOr(err)
	}
	if fs.NArg() != 1 {
		return "", usageError{fmt.Errorf("give one FILE (flags first: --data-dir=DIR FILE)")}
	}
	return fs.Arg(0), nil
}

// backupCmd writes a consistent copy of the data directory, whether a
// server runs on it or not, to FILE ("-": standard output).
func backupCmd(ctx context.Context, args []string, env func(string) string, stdout io.Writer) error {
	fs, dir := commandFlags("backup", "[--data-dir DIR] FILE", env)
	file, err := oneFile(fs, args)
	if err != nil {
		return err
	}
	if file == "-" {
		return app.Backup(ctx, *dir, stdout)
	}
	tmp, err := os.CreateTemp(filepath.Dir(file), "."+filepath.Base(file)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // gone already once renamed
	err = app.Backup(ctx, *dir, tmp)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), file); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backup of %s written to %s\n", *dir, file)
	return nil
}

// restoreCmd lays a backup out as the data directory; never over a
// directory a server holds, nor over data unless --replace.
func restoreCmd(_ context.Context, args []string, env func(string) string, stdout io.Writer) error {
	fs, dir := commandFlags("restore", "[--data-dir DIR] [--replace] FILE", env)
	replace := fs.Bool("replace", false, "restore over a directory that holds data (stopped), moving that data aside")
	file, err := oneFile(fs, args)
	if err != nil {
		return err
	}
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	aside, err := app.Restore(*dir, f, *replace)
	if aside != "" {
		fmt.Fprintf(stdout, "the data that was in %s is now in %s\n", *dir, aside)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "restored %s into %s\n", file, *dir)
	return nil
}
