package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/smartlaunch/smartlaunch/internal/store"
	"github.com/smartlaunch/smartlaunch/internal/store/postgres"
	"github.com/smartlaunch/smartlaunch/internal/store/sqlite"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "smartlaunch:", err)
		}
		os.Exit(2)
	}
}

const usage = `usage: smartlaunch <command> [flags]

commands:
  serve        run the SMART on FHIR server
  client add|list|show|update|remove|rotate-secret   manage apps
  user add     create a user            version       print the version
  migrate      apply the store's schema migrations (PostgreSQL: $SMARTLAUNCH_DATABASE_URL)
  keys list|rotate   show the signing keys; add new ones (the old keep verifying)
  audit export   write the audit trail as FHIR AuditEvent resources (NDJSON)
  config check FILE   check a configuration file (serve --config FILE); print every problem
  scopes explain   say scopes in plain words (--lang en|es|fr|de)
  scopes lint      check an app's scope request; suggest the fewest, clearest (--max N, --json)

Run "smartlaunch <command> -h" for a command's flags.
`

// run dispatches to a subcommand. It is main without the process: tests
// call it directly.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return serve(ctx, rest, stdout, stderr)
	case "client":
		return sub(ctx, "client", rest, stdin, stdout, stderr, map[string]command{
			"add": clientAdd, "list": clientList, "show": clientShow, "update": clientUpdate,
			"remove": clientRemove, "rotate-secret": clientRotateSecret,
		})
	case "user":
		return sub(ctx, "user", rest, stdin, stdout, stderr, map[string]command{"add": userAdd})
	case "audit":
		return sub(ctx, "audit", rest, stdin, stdout, stderr, map[string]command{"export": auditExport})
	case "config":
		return sub(ctx, "config", rest, stdin, stdout, stderr, map[string]command{"check": configCheck})
	case "scopes":
		return sub(ctx, "scopes", rest, stdin, stdout, stderr, map[string]command{"explain": scopesExplain, "lint": scopesLint})
	case "keys":
		return sub(ctx, "keys", rest, stdin, stdout, stderr, map[string]command{"list": keysList, "rotate": keysRotate})
	case "migrate":
		return migrateCmd(ctx, rest, stdout)
	case "version":
		fmt.Fprintln(stdout, versionString())
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", cmd)
	}
}

type command func(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error

func sub(ctx context.Context, name string, args []string, stdin io.Reader, stdout, stderr io.Writer, cmds map[string]command) error {
	if len(args) == 0 || cmds[args[0]] == nil {
		var names []string
		for n := range cmds {
			names = append(names, n)
		}
		return fmt.Errorf("usage: smartlaunch %s <%s> [flags]", name, strings.Join(names, "|"))
	}
	return cmds[args[0]](ctx, args[1:], stdin, stdout, stderr)
}

func versionString() string {
	goVersion := "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		goVersion = bi.GoVersion
	}
	return fmt.Sprintf("smartlaunch %s (%s)", version, goVersion)
}

// defaultData is the data directory when --data is not given.
const defaultData = "./smartlaunch-data"

// dbStore is what the commands need of a store backend.
type dbStore interface {
	store.Store
	Close() error
}

// databaseURL is the PostgreSQL DSN the environment names:
// $SMARTLAUNCH_DATABASE_URL, or the contents of the file
// $SMARTLAUNCH_DATABASE_URL_FILE (a DSN usually holds a password); "" for
// none.
func databaseURL() (string, error) {
	return secret(os.Getenv("SMARTLAUNCH_DATABASE_URL_FILE"), "SMARTLAUNCH_DATABASE_URL", "$SMARTLAUNCH_DATABASE_URL_FILE")
}

// openStore opens the store: PostgreSQL when the environment names one
// (databaseURL), with its schema migrated; otherwise the SQLite database
// in dir, created if needed.
func openStore(ctx context.Context, dir string) (dbStore, error) {
	return openStoreWith(ctx, dir, true)
}

// openStoreWith is openStore; with migrate false, a PostgreSQL store whose
// schema is behind is refused instead of migrated (the embedded SQLite
// store always migrates).
func openStoreWith(ctx context.Context, dir string, migrate bool) (dbStore, error) {
	dsn, err := databaseURL()
	switch {
	case err != nil:
		return nil, err
	case dsn != "" && migrate:
		return postgres.Open(ctx, dsn)
	case dsn != "":
		return postgres.OpenNoMigrate(ctx, dsn)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	return sqlite.Open(ctx, filepath.Join(dir, "smartlaunch.db"))
}

// migrateCmd applies the store's pending schema migrations and exits:
// for a PostgreSQL store served with --migrate=off, run once per upgrade.
func migrateCmd(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	data := fs.String("data", defaultData, "data directory of the SQLite store (when no PostgreSQL store is named)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	st, err := openStoreWith(ctx, *data, true)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer st.Close()
	kind := "SQLite in " + *data
	if _, ok := st.(*postgres.DB); ok {
		kind = "PostgreSQL"
	}
	fmt.Fprintf(stdout, "schema up to date (%s)\n", kind)
	return nil
}

// stringsFlag collects a repeatable flag.
type stringsFlag []string

func (s *stringsFlag) String() string     { return strings.Join(*s, " ") }
func (s *stringsFlag) Set(v string) error { *s = append(*s, v); return nil }
