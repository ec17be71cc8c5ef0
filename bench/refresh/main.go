package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/smartlaunch/smartlaunch/bench/load"
	"github.com/smartlaunch/smartlaunch/internal/store"
)

func main() {
	levels := flag.String("c", "1,8,32", "comma-separated concurrency levels")
	dur := flag.Duration("d", 5*time.Second, "duration of each level")
	instances := flag.Int("instances", 1, "servers sharing the store, the workers spread over them (more than 1 needs PostgreSQL: $SMARTLAUNCH_DATABASE_URL)")
	report := flag.Duration("report", 0, "print the refresh_tokens and authorizations row counts this often (PostgreSQL only), to watch the janitor keep them flat")
	flag.Parse()
	if err := run(*levels, *dur, *instances, *report); err != nil {
		log.Fatal(err)
	}
}

func run(levelList string, dur time.Duration, instances int, report time.Duration) error {
	if instances > 1 && load.Backend() != "PostgreSQL" {
		return errors.New("-instances above 1 needs a shared PostgreSQL store: set SMARTLAUNCH_DATABASE_URL")
	}
	var servers []*load.Server
	for range max(instances, 1) {
		srv, err := load.Start()
		if err != nil {
			return err
		}
		defer srv.Close()
		servers = append(servers, srv)
	}
	srv := servers[0]
	ctx := context.Background()
	if err := srv.Store.CreateClient(ctx, store.Client{ID: "bench", Name: "bench", Type: store.ClientPublic,
		RedirectURIs: []string{"http://127.0.0.1/cb"}, Scope: "patient/*.rs offline_access", CreatedAt: time.Now()}); err != nil && !errors.Is(err, store.ErrConflict) {
		return err
	}
	if err := srv.Store.CreateUser(ctx, store.User{ID: "bench-user", Username: "bench", PasswordHash: "x", CreatedAt: time.Now()}); err != nil && !errors.Is(err, store.ErrConflict) {
		return err
	}
	if report > 0 {
		stop, err := reportRows(ctx, report)
		if err != nil {
			return err
		}
		defer stop()
	}
	fmt.Printf("refresh-token rotation over HTTP, %s store (durable before each response), %d instance(s), %s per level\n",
		load.Backend(), len(servers), dur)
	load.Header(os.Stdout)
	for _, f := range strings.Split(levelList, ",") {
		c, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || c < 1 {
			return fmt.Errorf("bad concurrency %q", f)
		}
		tokens, err := seed(ctx, srv, c)
		if err != nil {
			return err
		}
		// Each worker holds its own authorization and always presents its
		// newest refresh token, so no request is a reuse.
		r := load.Run(c, dur, func(w int) error {
			srv := servers[w%len(servers)]
			next, err := refresh(srv.Client, srv.Base+"/token", tokens[w])
			tokens[w] = next
			return err
		})
		load.Print(os.Stdout, "refresh rotation", r)
	}
	return nil
}

// seed creates one offline authorization and refresh token per worker.
func seed(ctx context.Context, srv *load.Server, n int) ([]string, error) {
	now := time.Now()
	out := make([]string, n)
	for i := range out {
		id, tok := random(), random()
		if err := srv.Store.CreateAuthorization(ctx, store.Authorization{ID: id, UserID: "bench-user", ClientID: "bench",
			Scope: "patient/*.rs offline_access", Offline: true, CreatedAt: now, LastUsedAt: now}); err != nil {
			return nil, err
		}
		if err := srv.Store.CreateRefreshToken(ctx, store.RefreshToken{Hash: store.Hash(tok), AuthorizationID: id,
			ClientID: "bench", CreatedAt: now}); err != nil {
			return nil, err
		}
		out[i] = tok
	}
	return out, nil
}

func refresh(client *http.Client, tokenURL, tok string) (string, error) {
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok}, "client_id": {"bench"}}
	resp, err := client.PostForm(tokenURL, form)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("status %d: %s", resp.StatusCode, body)
	}
	var out struct {
		RefreshToken string `json:"refresh_token"`
	}
	if err := json.Unmarshal(body, &out); err != nil || out.RefreshToken == "" {
		return "", fmt.Errorf("no refresh token in %s", body)
	}
	return out.RefreshToken, nil
}

func random() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// reportRows prints, every d until stopped, the row counts of the token
// tables of the PostgreSQL database $SMARTLAUNCH_DATABASE_URL names.
func reportRows(ctx context.Context, d time.Duration) (stop func(), err error) {
	dsn := os.Getenv("SMARTLAUNCH_DATABASE_URL")
	if dsn == "" {
		return nil, errors.New("-report needs PostgreSQL: set SMARTLAUNCH_DATABASE_URL")
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, err
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(finished)
		defer conn.Close(context.Background())
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			var tokens, used, auths int
			err := conn.QueryRow(ctx, `SELECT (SELECT count(*) FROM refresh_tokens),
				(SELECT count(*) FROM refresh_tokens WHERE used_at IS NOT NULL), (SELECT count(*) FROM authorizations)`).Scan(&tokens, &used, &auths)
			if err != nil {
				fmt.Fprintf(os.Stderr, "row counts: %v\n", err)
			} else {
				fmt.Printf("rows at %6s: refresh_tokens %d (used %d), authorizations %d\n",
					time.Since(start).Round(time.Second), tokens, used, auths)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(done); <-finished }, nil
}
