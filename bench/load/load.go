package load

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/server"
	"github.com/smartlaunch/smartlaunch/internal/store"
	"github.com/smartlaunch/smartlaunch/internal/store/postgres"
	"github.com/smartlaunch/smartlaunch/internal/store/sqlite"
)

// Result is what one level measured.
type Result struct {
	Concurrency int
	Requests    int
	Errors      int
	Elapsed     time.Duration
	latencies   []time.Duration
}

// PerSecond is the rate of successful requests.
func (r Result) PerSecond() float64 { return float64(r.Requests) / r.Elapsed.Seconds() }

// Percentile returns the p-th percentile latency of successful requests.
func (r Result) Percentile(p int) time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	s := slices.Clone(r.latencies)
	slices.Sort(s)
	return s[(len(s)-1)*p/100]
}

// Run calls fn from c goroutines until d has passed. fn gets the worker
// number; a worker whose fn fails stops (its state may be gone).
func Run(c int, d time.Duration, fn func(worker int) error) Result {
	var (
		mu  sync.Mutex
		res = Result{Concurrency: c}
		wg  sync.WaitGroup
	)
	start := time.Now()
	deadline := start.Add(d)
	for w := range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lat []time.Duration
			errs := 0
			for time.Now().Before(deadline) {
				t0 := time.Now()
				if err := fn(w); err != nil {
					errs++
					break
				}
				lat = append(lat, time.Since(t0))
			}
			mu.Lock()
			res.latencies = append(res.latencies, lat...)
			res.Errors += errs
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	res.Requests = len(res.latencies)
	return res
}

// Header prints the column names of Print.
func Header(w io.Writer) {
	fmt.Fprintf(w, "%-24s %12s %12s %10s %10s %8s\n", "case", "concurrency", "requests/s", "p50", "p99", "errors")
}

// Print prints one result line.
func Print(w io.Writer, name string, r Result) {
	fmt.Fprintf(w, "%-24s %12d %12.0f %10s %10s %8d\n", name, r.Concurrency, r.PerSecond(),
		r.Percentile(50).Round(10*time.Microsecond), r.Percentile(99).Round(10*time.Microsecond), r.Errors)
}

// Server is a running smartlaunch server for a load tool.
type Server struct {
	Base  string
	Store Store
	// Client has a connection pool large enough for the highest level.
	Client *http.Client
	dir    string
	cancel context.CancelFunc
}

// Store is what the tools need of a store backend.
type Store interface {
	store.Store
	Close() error
}

// Start starts a server on 127.0.0.1 with a fresh SQLite store or, when
// $SMARTLAUNCH_DATABASE_URL names one, on that PostgreSQL database (which
// every server started so shares, like instances behind a load balancer);
// each option may change its configuration first.
func Start(options ...func(*server.Config)) (*Server, error) {
	ctx, cancel := context.WithCancel(context.Background())
	dir, err := os.MkdirTemp("", "smartlaunch-bench-")
	if err != nil {
		cancel()
		return nil, err
	}
	var st Store
	if dsn := os.Getenv("SMARTLAUNCH_DATABASE_URL"); dsn != "" {
		st, err = postgres.Open(ctx, dsn)
	} else {
		st, err = sqlite.Open(ctx, filepath.Join(dir, "bench.db"))
	}
	if err != nil {
		cancel()
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cancel()
		return nil, err
	}
	base := "http://" + ln.Addr().String()
	cfg := server.Config{Store: st, BaseURL: base}
	for _, o := range options {
		o(&cfg)
	}
	app, err := server.New(ctx, cfg)
	if err != nil {
		cancel()
		return nil, err
	}
	go func() { _ = app.Run(ctx, ln) }()
	return &Server{Base: base, Store: st, dir: dir, cancel: cancel,
		Client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}}, nil
}

// Backend names the store the servers of Start use.
func Backend() string {
	if os.Getenv("SMARTLAUNCH_DATABASE_URL") != "" {
		return "PostgreSQL"
	}
	return "SQLite"
}

// Close stops the server and removes its data.
func (s *Server) Close() {
	s.cancel()
	s.Store.Close()
	os.RemoveAll(s.dir)
}
