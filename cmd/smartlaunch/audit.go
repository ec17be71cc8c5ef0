package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/audit"
	"github.com/smartlaunch/smartlaunch/internal/store"
)

// recordAudit records an operator command's event in the audit trail; a
// failure to store it is reported on standard error, not returned: the
// change it records is already made.
func recordAudit(ctx context.Context, st store.AuditEvents, e store.AuditEvent) {
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	audit.New(st, logger, nil).Record(ctx, e)
}

// auditExport is "smartlaunch audit export": the audit trail as FHIR R4
// AuditEvent resources, one JSON object a line (NDJSON, as FHIR Bulk Data
// writes them), oldest first.
func auditExport(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("audit export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", defaultData, "data directory (SQLite store; PostgreSQL: $SMARTLAUNCH_DATABASE_URL)")
	base := fs.String("base-url", "http://127.0.0.1:8080", "the server's public base URL, the system of the exported identifiers")
	since := fs.String("since", "", "only events at or after this time (RFC 3339, or a duration ago such as 24h)")
	typ := fs.String("type", "", "only events of this type, such as signin.failed (see docs/operations.md)")
	user := fs.String("user", "", "only events of this user id")
	client := fs.String("client", "", "only events of this client id")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("audit export: unexpected argument %q", fs.Arg(0))
	}
	q := store.AuditQuery{Type: *typ, UserID: *user, ClientID: *client, Limit: 1000}
	if *since != "" {
		t, err := parseSince(*since, time.Now())
		if err != nil {
			return fmt.Errorf("audit export: --since: %w", err)
		}
		q.Since = t
	}
	st, err := openStore(ctx, *data)
	if err != nil {
		return err
	}
	defer st.Close()
	w := bufio.NewWriter(stdout)
	enc := json.NewEncoder(w)
	for {
		evs, err := st.ListAuditEvents(ctx, q)
		if err != nil {
			return fmt.Errorf("audit export: %w", err)
		}
		for _, e := range evs {
			if err := enc.Encode(audit.Resource(e, strings.TrimSuffix(*base, "/"))); err != nil {
				return fmt.Errorf("audit export: %w", err)
			}
		}
		if len(evs) < q.Limit {
			return w.Flush()
		}
		q.AfterID = evs[len(evs)-1].ID
	}
}

// parseSince reads an RFC 3339 time, or a duration before now.
func parseSince(s string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil {
		return now.Add(-d), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither an RFC 3339 time nor a duration", s)
	}
	return t, nil
}
