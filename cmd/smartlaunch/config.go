package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/smartlaunch/smartlaunch/internal/config"
)

// configCheck is "smartlaunch config check FILE": it prints "ok" for a
// valid configuration file, or else every problem, one a line.
func configCheck(_ context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("config check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage of config check:\n  smartlaunch config check FILE\n\nCheck a configuration file for serve --config; print ok, or every problem, one a line.")
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: smartlaunch config check FILE")
	}
	args = fs.Args()
	_, err := config.Load(args[0])
	var p config.Problems
	switch {
	case errors.As(err, &p):
		for _, line := range p {
			fmt.Fprintln(stdout, line)
		}
		return fmt.Errorf("config check: %d problem(s) in %s", len(p), args[0])
	case err != nil:
		return fmt.Errorf("config check: %w", err)
	}
	fmt.Fprintln(stdout, "ok")
	return nil
}
