package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/smartlaunch/smartlaunch/smart/scopelint"
	"github.com/smartlaunch/smartlaunch/smart/scopetext"
)

// scopesExplain prints each scope's plain-language texts: the words a
// person sees on the consent page.
func scopesExplain(_ context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("scopes explain", flag.ContinueOnError)
	fs.SetOutput(stderr)
	lang := fs.String("lang", "en", "language, as a tag or an Accept-Language value (en, es, fr, de)")
	asJSON := fs.Bool("json", false, "print JSON")
	strict := fs.Bool("strict", false, "fail when a scope cannot be explained in plain words")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return errors.New("scopes explain: name at least one scope, such as patient/Observation.rs")
	}
	cat, err := scopetext.New()
	if err != nil {
		return err
	}
	tag := cat.Match(*lang)
	var texts []scopetext.Text
	unexplained := 0
	for _, arg := range fs.Args() {
		for _, sc := range strings.Fields(arg) {
			t := cat.Explain(sc, tag)
			if !t.Explainable {
				unexplained++
			}
			texts = append(texts, t)
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(texts); err != nil {
			return err
		}
	} else {
		for _, t := range texts {
			fmt.Fprintf(stdout, "%s\n  short: %s\n  long: %s\n  explainable: %v\n", t.Scope, t.Short, t.Long, t.Explainable)
			if t.Warning != "" {
				fmt.Fprintf(stdout, "  warning: %s\n", t.Warning)
			}
		}
	}
	if *strict && unexplained > 0 {
		return fmt.Errorf("scopes explain: %d scope(s) cannot be explained in plain words", unexplained)
	}
	return nil
}

// scopesLint checks a scope request for app makers: it prints each finding
// as "<severity>: <kind>: <message> (<scopes>)", then the suggested
// equivalent request, and fails when any finding is a warning, so an app's
// build can run it.
func scopesLint(_ context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("scopes lint", flag.ContinueOnError)
	fs.SetOutput(stderr)
	maxScopes := fs.Int("max", 10, "the most scopes for data a person can take in on one consent screen")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return errors.New("scopes lint: name at least one scope, such as patient/Observation.rs")
	}
	if *maxScopes < 1 {
		return errors.New("scopes lint: --max must be at least 1")
	}
	cat, err := scopetext.New()
	if err != nil {
		return err
	}
	res := scopelint.Lint(fs.Args(), scopelint.Options{MaxScopes: *maxScopes, Catalog: cat})
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return err
		}
	} else {
		for _, f := range res.Findings {
			fmt.Fprintf(stdout, "%s: %s: %s (%s)\n", f.Severity, f.Kind, f.Message, strings.Join(f.Scopes, " "))
		}
		fmt.Fprintln(stdout, strings.Join(append([]string{"suggested:"}, res.Suggested...), " "))
	}
	if res.HasWarnings() {
		return errors.New("scopes lint: the request has warnings")
	}
	return nil
}
