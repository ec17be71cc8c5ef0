package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/server"
	"github.com/smartlaunch/smartlaunch/internal/store"
	"github.com/smartlaunch/smartlaunch/internal/store/sqlite"
)

func main() {
	levels := flag.String("c", "1,8,32", "comma-separated concurrency levels")
	dur := flag.Duration("d", 5*time.Second, "duration of each level")
	flag.Parse()
	if err := run(*levels, *dur); err != nil {
		log.Fatal(err)
	}
}

func run(levelList string, dur time.Duration) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir, err := os.MkdirTemp("", "smartlaunch-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	st, err := sqlite.Open(ctx, filepath.Join(dir, "bench.db"))
	if err != nil {
		return err
	}
	defer st.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()
	app, err := server.New(ctx, server.Config{Store: st, BaseURL: base})
	if err != nil {
		return err
	}
	go func() { _ = app.Run(ctx, ln) }()
	if err := st.CreateClient(ctx, store.Client{ID: "bench", Name: "bench", Type: store.ClientPublic,
		RedirectURIs: []string{"http://127.0.0.1/cb"}, Scope: "patient/*.rs offline_access", CreatedAt: time.Now()}); err != nil {
		return err
	}
	if err := st.CreateUser(ctx, store.User{ID: "bench-user", Username: "bench", PasswordHash: "x", CreatedAt: time.Now()}); err != nil {
		return err
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	fmt.Printf("refresh-token rotation over HTTP, SQLite store, %s per level\n", dur)
	fmt.Printf("%-12s %12s %10s %10s %8s\n", "concurrency", "rotations/s", "p50", "p99", "errors")
	for _, f := range strings.Split(levelList, ",") {
		c, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || c < 1 {
			return fmt.Errorf("bad concurrency %q", f)
		}
		tokens, err := seed(ctx, st, c)
		if err != nil {
			return err
		}
		r := level(client, base+"/token", tokens, dur)
		fmt.Printf("%-12d %12.0f %10s %10s %8d\n", c, float64(len(r.lat))/r.elapsed.Seconds(),
			pct(r.lat, 50), pct(r.lat, 99), r.errors)
	}
	return nil
}

// seed creates one offline authorization and refresh token per worker.
func seed(ctx context.Context, st *sqlite.DB, n int) ([]string, error) {
	now := time.Now()
	out := make([]string, n)
	for i := range out {
		id, tok := random(), random()
		if err := st.CreateAuthorization(ctx, store.Authorization{ID: id, UserID: "bench-user", ClientID: "bench",
			Scope: "patient/*.rs offline_access", Offline: true, CreatedAt: now, LastUsedAt: now}); err != nil {
			return nil, err
		}
		if err := st.CreateRefreshToken(ctx, store.RefreshToken{Hash: store.Hash(tok), AuthorizationID: id,
			ClientID: "bench", CreatedAt: now}); err != nil {
			return nil, err
		}
		out[i] = tok
	}
	return out, nil
}

type result struct {
	lat     []time.Duration
	errors  int
	elapsed time.Duration
}

// level runs one worker per token until dur has passed.
func level(client *http.Client, tokenURL string, tokens []string, dur time.Duration) result {
	var (
		mu  sync.Mutex
		res result
		wg  sync.WaitGroup
	)
	start := time.Now()
	deadline := start.Add(dur)
	for _, tok := range tokens {
		wg.Add(1)
		go func(tok string) {
			defer wg.Done()
			var lat []time.Duration
			errs := 0
			for time.Now().Before(deadline) {
				t0 := time.Now()
				next, err := refresh(client, tokenURL, tok)
				if err != nil {
					errs++
					break // a worker whose chain broke stops: its token is gone
				}
				lat = append(lat, time.Since(t0))
				tok = next
			}
			mu.Lock()
			res.lat = append(res.lat, lat...)
			res.errors += errs
			mu.Unlock()
		}(tok)
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	return res
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

func pct(lat []time.Duration, p int) string {
	if len(lat) == 0 {
		return "-"
	}
	s := slices.Clone(lat)
	slices.Sort(s)
	return s[(len(s)-1)*p/100].Round(10 * time.Microsecond).String()
}

func random() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
