package main

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/smartlaunch/smartlaunch/bench/load"
	"github.com/smartlaunch/smartlaunch/internal/store"
)

func main() {
	levels := flag.String("c", "1,8,32", "comma-separated concurrency levels")
	dur := flag.Duration("d", 5*time.Second, "duration of each level")
	only := flag.String("cases", "es384,rs384,secret,introspect", "comma-separated cases to run")
	profile := flag.String("cpuprofile", "", "write a CPU profile of the whole run (server included) to this file")
	flag.Parse()
	if *profile != "" {
		f, err := os.Create(*profile)
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	if err := run(*levels, *dur, *only); err != nil {
		log.Fatal(err)
	}
}

const secret = "bench-secret-0123456789abcdef0123456789"

// errPoolEmpty stops a worker when the pre-signed assertions run out; the
// pool is sized by -pool, so raise it if a level ends early.
var errPoolEmpty = errors.New("assertion pool empty")

var poolPerSecond = flag.Int("pool", 6000, "pre-signed assertions per second of -d for the assertion cases")

func run(levelList string, dur time.Duration, only string) error {
	srv, err := load.Start()
	if err != nil {
		return err
	}
	defer srv.Close()
	ec, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	set, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		{Key: ec.Public(), KeyID: "ec", Algorithm: "ES384"}, {Key: rk.Public(), KeyID: "rsa", Algorithm: "RS384"}}})
	ctx := context.Background()
	for _, c := range []store.Client{
		{ID: "asym", Name: "asym", Type: store.ClientConfidentialAsymmetric, JWKS: string(set), Scope: "system/*.rs __introspect"},
		{ID: "sym", Name: "sym", Type: store.ClientConfidentialSymmetric, SecretHash: store.Hash(secret), Scope: "system/*.rs __introspect"},
	} {
		if err := srv.Store.CreateClient(ctx, c); err != nil {
			return err
		}
	}
	tokenURL := srv.Base + "/token"
	signers := map[string]jose.Signer{}
	for name, k := range map[string]struct {
		alg jose.SignatureAlgorithm
		key crypto.Signer
		kid string
	}{"es384": {jose.ES384, ec, "ec"}, "rs384": {jose.RS384, rk, "rsa"}} {
		s, err := jose.NewSigner(jose.SigningKey{Algorithm: k.alg, Key: k.key}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", k.kid))
		if err != nil {
			return err
		}
		signers[name] = s
	}
	assertionForm := func(s jose.Signer) url.Values {
		jti := make([]byte, 32)
		_, _ = rand.Read(jti)
		b, _ := json.Marshal(map[string]any{"iss": "asym", "sub": "asym", "aud": tokenURL,
			"exp": time.Now().Add(4 * time.Minute).Unix(), "jti": hex.EncodeToString(jti)})
		jws, _ := s.Sign(b)
		a, _ := jws.CompactSerialize()
		return url.Values{"grant_type": {"client_credentials"}, "scope": {"system/*.rs"},
			"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {a}}
	}
	post := func(u string, form url.Values, basic bool) (map[string]any, error) {
		req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if basic {
			req.SetBasicAuth("sym", secret)
		}
		resp, err := srv.Client.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("status %d: %s", resp.StatusCode, body)
		}
		var m map[string]any
		return m, json.Unmarshal(body, &m)
	}
	// A token to introspect, issued once.
	tok, err := post(tokenURL, url.Values{"grant_type": {"client_credentials"}, "scope": {"system/*.rs"}}, true)
	if err != nil {
		return err
	}
	// Assertions are signed before each level, on all cores, so that the
	// level measures the server, not this tool's signing.
	var pool chan url.Values
	fromPool := func(int) error {
		select {
		case form := <-pool:
			_, err := post(tokenURL, form, false)
			return err
		default:
			return errPoolEmpty
		}
	}
	fill := func(s jose.Signer, n int) {
		pool = make(chan url.Values, n)
		var wg sync.WaitGroup
		for range runtime.NumCPU() {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range n / runtime.NumCPU() {
					pool <- assertionForm(s)
				}
			}()
		}
		wg.Wait()
	}
	cases := map[string]func(int) error{
		"es384": fromPool,
		"rs384": fromPool,
		"secret": func(int) error {
			_, err := post(tokenURL, url.Values{"grant_type": {"client_credentials"}, "scope": {"system/*.rs"}}, true)
			return err
		},
		"introspect": func(int) error {
			m, err := post(srv.Base+"/introspect", url.Values{"token": {tok["access_token"].(string)}}, true)
			if err == nil && m["active"] != true {
				err = fmt.Errorf("inactive: %v", m)
			}
			return err
		},
	}
	names := map[string]string{"es384": "private_key_jwt ES384", "rs384": "private_key_jwt RS384",
		"secret": "client_secret_basic", "introspect": "introspection"}
	fmt.Printf("backend tokens and introspection over HTTP, SQLite store, %s per level\n", dur)
	load.Header(os.Stdout)
	for _, name := range strings.Split(only, ",") {
		fn, ok := cases[name]
		if !ok {
			return fmt.Errorf("unknown case %q", name)
		}
		for _, f := range strings.Split(levelList, ",") {
			c, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || c < 1 {
				return fmt.Errorf("bad concurrency %q", f)
			}
			if s, ok := signers[name]; ok {
				fill(s, int(float64(*poolPerSecond)*dur.Seconds()))
			}
			r := load.Run(c, dur, fn)
			load.Print(os.Stdout, names[name], r)
		}
	}
	return nil
}
