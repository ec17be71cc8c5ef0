package main

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/smartlaunch/smartlaunch/client"
)

// result is printed as the last line of standard output.
type result struct {
	Gets      int64    `json:"gets"`
	Refreshes int64    `json:"refreshes"`
	Ended     bool     `json:"ended"`
	Errors    []string `json:"errors,omitempty"`
}

// hangTransport counts token requests and, at the hangAt-th, prints HANG
// and blocks forever, before (hangBefore) or after the request was sent,
// so the test can SIGKILL the process in the middle of a refresh.
type hangTransport struct {
	n          atomic.Int64
	hangAt     int64
	hangBefore bool
}

func (h *hangTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/token") {
		return http.DefaultTransport.RoundTrip(r)
	}
	n := h.n.Add(1)
	if n == h.hangAt && h.hangBefore {
		fmt.Println("HANG")
		select {}
	}
	resp, err := http.DefaultTransport.RoundTrip(r)
	if n == h.hangAt {
		fmt.Println("HANG")
		select {}
	}
	return resp, err
}

func main() {
	fhir := flag.String("fhir", "", "FHIR base URL")
	clientID := flag.String("client", "", "client_id")
	kind := flag.String("store", "file", "file or sqlite")
	path := flag.String("path", "", "token store path")
	keyPath := flag.String("dpop-key", "", "PKCS #8 PEM of the shared DPoP key (optional)")
	workers := flag.Int("goroutines", 16, "goroutines")
	duration := flag.Duration("duration", 8*time.Second, "how long to run")
	before := flag.Duration("refresh-before", 1900*time.Millisecond, "Config.RefreshBefore")
	claimTimeout := flag.Duration("claim-timeout", 3*time.Second, "Config.ClaimTimeout")
	patient := flag.String("patient", "", "Patient id to read")
	hangAt := flag.Int64("hang-at", 0, "hang at this token request (0: never)")
	hangBefore := flag.Bool("hang-before-send", false, "hang before sending rather than after")
	flag.Parse()
	if err := run(*fhir, *clientID, *kind, *path, *keyPath, *patient, *workers, *duration, *before, *claimTimeout,
		&hangTransport{hangAt: *hangAt, hangBefore: *hangBefore}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(fhir, clientID, kind, path, keyPath, patient string, workers int, duration, before, claimTimeout time.Duration, tr *hangTransport) error {
	ctx := context.Background()
	var st client.TokenStore
	switch kind {
	case "file":
		st = client.NewFileStore(path)
	case "sqlite":
		var err error
		if st, err = client.NewSQLiteStore(path); err != nil {
			return err
		}
	default:
		return fmt.Errorf("unknown store %q", kind)
	}
	var key crypto.Signer
	if keyPath != "" {
		b, err := os.ReadFile(keyPath)
		if err != nil {
			return err
		}
		blk, _ := pem.Decode(b)
		if blk == nil {
			return errors.New("no PEM block in the key file")
		}
		k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
		if err != nil {
			return err
		}
		key = k.(crypto.Signer)
	}
	c, err := client.New(ctx, fhir, client.Config{ClientID: clientID, HTTPClient: &http.Client{Transport: tr},
		DPoP: key, Store: st, RefreshBefore: before, ClaimTimeout: claimTimeout})
	if err != nil {
		return err
	}
	ts := c.TokenSource(nil)
	var res result
	var mu sync.Mutex
	var gets atomic.Int64
	deadline := time.Now().Add(duration)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				if err := c.Get(ctx, ts, "Patient/"+patient, nil); err != nil {
					mu.Lock()
					defer mu.Unlock()
					if errors.Is(err, client.ErrAuthorizationEnded) {
						res.Ended = true
					}
					res.Errors = append(res.Errors, err.Error())
					return
				}
				gets.Add(1)
			}
		})
	}
	wg.Wait()
	res.Gets, res.Refreshes = gets.Load(), tr.n.Load()
	out, _ := json.Marshal(res)
	fmt.Println(string(out))
	return nil
}
