package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/demo"
	"github.com/smartlaunch/smartlaunch/internal/reminders"
	"github.com/smartlaunch/smartlaunch/internal/server"
	"github.com/smartlaunch/smartlaunch/sampledata"
)

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on")
	data := fs.String("data", defaultData, "data directory (SQLite database, keys)")
	baseURL := fs.String("base-url", "", "public base URL when behind a proxy or TLS terminator (default http://ADDR)")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn, error")
	logFormat := fs.String("log-format", "text", "log format: text (key=value) or json (one object a line)")
	accessTTL := fs.Duration("access-token-ttl", time.Hour, "access-token lifetime")
	idleTTL := fs.Duration("refresh-idle-ttl", 30*24*time.Hour, "how long an unused refresh token stays valid")
	offline := fs.Duration("offline-lifetime", 180*24*time.Hour, "absolute lifetime of an offline_access authorization")
	online := fs.Duration("online-lifetime", 12*time.Hour, "lifetime of an online_access authorization (the sign-in session)")
	regTokenFile := fs.String("registration-token-file", "", "file holding the initial access token that turns on dynamic client registration (RFC 7591); also $SMARTLAUNCH_REGISTRATION_TOKEN")
	reviewEvery := fs.Duration("reminder-review-every", 182*24*time.Hour, "how often people are reminded of apps with offline access (at most one such reminder per period)")
	dormantAfter := fs.Duration("reminder-dormant-after", 90*24*time.Hour, "how long an offline app goes unused before people are nudged about it")
	retention := fs.Duration("access-retention", 90*24*time.Hour, "how long per-day counts of apps' data requests are kept")
	smtpAddr := fs.String("smtp-addr", "", "SMTP server (host:port) for reminder digests; empty sends no email")
	smtpFrom := fs.String("smtp-from", "", "sender of reminder digests, such as \"Health Record <no-reply@example.org>\"")
	smtpUser := fs.String("smtp-username", "", "SMTP user name (the password comes from --smtp-password-file)")
	smtpPassFile := fs.String("smtp-password-file", "", "file holding the SMTP password; also $SMARTLAUNCH_SMTP_PASSWORD")
	allowPrivate := fs.Bool("allow-private-jwks-uri", false, "let apps' jwks_uri point at private and link-local addresses (off: such fetches are refused)")
	unexplainable := fs.String("unexplainable-scopes", "warn", "scopes that cannot be said in one plain sentence: warn (show with a warning and the raw text) or refuse (invalid_scope)")
	migrate := fs.String("migrate", "auto", "PostgreSQL schema migrations at start: auto (apply pending ones) or off (refuse to start while some are pending; run \"smartlaunch migrate\")")
	upFlags := addUpstreamFlags(fs)
	keyF := addKeyFlags(fs)
	tlsF := addTLSFlags(fs)
	limitsF := addLimitFlags(fs)
	configFile := fs.String("config", "", "configuration file (YAML, version: 1); flags given here override its settings")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := applyConfigFile(fs, *configFile); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("serve: unexpected argument %q", fs.Arg(0))
	}
	for name, d := range map[string]time.Duration{"access-token-ttl": *accessTTL, "refresh-idle-ttl": *idleTTL,
		"offline-lifetime": *offline, "online-lifetime": *online, "reminder-review-every": *reviewEvery,
		"reminder-dormant-after": *dormantAfter, "access-retention": *retention} {
		if d < time.Second {
			return fmt.Errorf("serve: --%s must be at least 1s", name)
		}
	}
	if *unexplainable != "warn" && *unexplainable != "refuse" {
		return fmt.Errorf("serve: --unexplainable-scopes must be warn or refuse")
	}
	regToken, err := secret(*regTokenFile, "SMARTLAUNCH_REGISTRATION_TOKEN", "--registration-token-file")
	if err != nil {
		return err
	}
	if regToken != "" && len(regToken) < 32 {
		return fmt.Errorf("serve: the registration token must have at least 32 characters")
	}
	mail := reminders.MailConfig{Addr: *smtpAddr, From: *smtpFrom, Username: *smtpUser}
	if mail.Password, err = secret(*smtpPassFile, "SMARTLAUNCH_SMTP_PASSWORD", "--smtp-password-file"); err != nil {
		return err
	}
	if mail.Addr != "" && mail.From == "" {
		return fmt.Errorf("serve: --smtp-from is required with --smtp-addr")
	}
	up, err := upFlags.client()
	if err != nil {
		return err
	}
	keyOpts, err := keyF.options()
	if err != nil {
		return err
	}
	limits, err := limitsF.config()
	if err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("serve: --log-level: %w", err)
	}
	var logHandler slog.Handler
	switch *logFormat {
	case "text":
		logHandler = slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})
	case "json":
		logHandler = slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level})
	default:
		return fmt.Errorf("serve: --log-format must be text or json")
	}
	logger := slog.New(logHandler)
	if *baseURL != "" {
		u, err := url.Parse(*baseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return fmt.Errorf("serve: --base-url %q must be an absolute http(s) URL without query or fragment", *baseURL)
		}
	}
	if err := tlsF.check(*baseURL); err != nil {
		return err
	}
	tlsConfig, err := tlsF.config(*data)
	if err != nil {
		return err
	}

	if *migrate != "auto" && *migrate != "off" {
		return fmt.Errorf("serve: --migrate must be auto or off")
	}
	st, err := openStoreWith(ctx, *data, *migrate == "auto")
	if err != nil {
		return err
	}
	defer st.Close()
	start := time.Now()
	if *tlsF.production {
		// Production creates nothing: the demo users and apps have
		// published credentials, and the synthetic sample patients must
		// not mix with real records.
		if err := refuseDemoSet(ctx, st); err != nil {
			return err
		}
	} else if err := demo.Seed(ctx, st, sampledata.FS, time.Now()); err != nil {
		return err
	}
	logger.Info("data ready", "dir", *data, "took", time.Since(start).Round(time.Millisecond))

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	defer ln.Close()
	scheme := "http"
	if tlsConfig != nil {
		scheme = "https"
	}
	if *baseURL == "" {
		*baseURL = tlsF.defaultBaseURL(scheme, ln.Addr())
	}
	var redirectLn net.Listener
	if *tlsF.redirectAddr != "" {
		if redirectLn, err = net.Listen("tcp", *tlsF.redirectAddr); err != nil {
			return fmt.Errorf("serve: --http-redirect-addr: %w", err)
		}
		defer redirectLn.Close()
	}
	app, err := server.New(ctx, server.Config{Store: st, BaseURL: strings.TrimSuffix(*baseURL, "/"), Logger: logger,
		AccessTokenTTL: *accessTTL, RefreshIdleTTL: *idleTTL, OfflineLifetime: *offline, OnlineTTL: *online,
		RefuseUnexplainableScopes: *unexplainable == "refuse", RegistrationToken: regToken,
		AllowPrivateJWKS: *allowPrivate, Mail: mail, AccessRetention: *retention, Upstream: up,
		SignInLimits: limits.signIn, TokenLimit: limits.token, TrustedProxies: limits.proxies,
		Keys: keyOpts, Reminders: reminders.Policy{ReviewEvery: *reviewEvery, DormantAfter: *dormantAfter}})
	if err != nil {
		return err
	}
	listening := ln.Addr().String()
	if tlsConfig != nil {
		listening = "https://" + listening
		ln = tls.NewListener(ln, tlsConfig)
	}
	fmt.Fprintf(stdout, "smartlaunch listening on %s\nFHIR base: %s/fhir\n", listening, strings.TrimSuffix(*baseURL, "/"))
	if up != nil {
		fmt.Fprintf(stdout, "FHIR proxy in front of: %s\n", up.Base())
	}
	if redirectLn == nil {
		return app.Run(ctx, ln)
	}
	fmt.Fprintf(stdout, "HTTP redirect listening on %s\n", redirectLn.Addr())
	// Either server failing stops the other.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	redirected := make(chan error, 1)
	redirect := tlsF.redirect(*baseURL)
	go func() {
		err := runRedirect(ctx, redirectLn, redirect, logger)
		cancel()
		redirected <- err
	}()
	err = app.Run(ctx, ln)
	cancel()
	return errors.Join(err, <-redirected)
}

// defaultBaseURL is SCHEME://HOST:PORT of the listener, with "localhost"
// for a wildcard address.
func defaultBaseURL(scheme string, a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return scheme + "://" + a.String()
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}
