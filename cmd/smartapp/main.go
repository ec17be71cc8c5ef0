package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Exit codes.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
	exitEnded = 3 // the authorization has ended: log in again
)

const usage = `usage: smartapp <command> [flags]

commands:
  login        sign in with a standalone SMART launch (loopback redirect)
               [--fhir URL] [--client-id ID] [--scope "..."] [--dpop]
               [--no-browser] [--timeout 5m]
  get REL      GET <fhir base>/REL with the stored authorization and print
               the JSON, such as: smartapp get 'Observation?category=laboratory'
  whoami       print the signed-in user (fhirUser) and patient
  logout       revoke the tokens at the server and delete them here
  scopes lint  check a scope request; suggest the fewest, clearest scopes
               [--max N] [--json] SCOPE...
  help         print this help

Every command but scopes takes --dir DIR, the configuration directory
(default $XDG_CONFIG_HOME/smartapp or ~/.config/smartapp).

Secrets are sealed with the OS keyring or, without one, a passphrase from
$SMARTAPP_PASSPHRASE or the terminal.

exit codes: 0 ok, 1 failure, 2 bad usage, 3 the authorization has ended
(run smartapp login again).
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// env is what a command runs with: main's process, or a test's.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

// run dispatches to a subcommand and returns the exit code. It is main
// without the process: tests call it directly.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	cmd, rest := args[0], args[1:]
	var err error
	switch cmd {
	case "login":
		err = e.login(ctx, rest)
	case "get":
		err = e.get(ctx, rest)
	case "whoami":
		err = e.whoami(ctx, rest)
	case "logout":
		err = e.logout(ctx, rest)
	case "scopes":
		if len(rest) == 0 || rest[0] != "lint" {
			fmt.Fprintln(stderr, "usage: smartapp scopes lint [--max N] [--json] SCOPE...")
			return exitUsage
		}
		err = e.scopesLint(rest[1:])
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	default:
		fmt.Fprint(stderr, usage)
		fmt.Fprintf(stderr, "smartapp: unknown command %q\n", cmd)
		return exitUsage
	}
	return e.exit(err)
}

// errUsage marks a command line that cannot be run.
var errUsage = errors.New("bad usage")

// errEnded marks an authorization that is over.
var errEnded = errors.New("your authorization has ended; run smartapp login again")

// exit reports err on stderr and maps it to an exit code.
func (e *env) exit(err error) int {
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.Is(err, errEnded):
		fmt.Fprintln(e.stderr, "smartapp:", err)
		return exitEnded
	case errors.Is(err, errUsage):
		fmt.Fprintln(e.stderr, "smartapp:", err)
		return exitUsage
	default:
		fmt.Fprintln(e.stderr, "smartapp:", err)
		return exitFail
	}
}

// newFlags returns a subcommand's flag set writing to stderr.
func (e *env) newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("smartapp "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	return fs
}

// parse parses args, turning a flag error into errUsage.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	return nil
}
