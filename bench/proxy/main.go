package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"golang.org/x/oauth2/clientcredentials"

	"github.com/smartlaunch/smartlaunch/bench/load"
	"github.com/smartlaunch/smartlaunch/internal/fhir"
	"github.com/smartlaunch/smartlaunch/internal/fhir/upstream"
	"github.com/smartlaunch/smartlaunch/internal/server"
	"github.com/smartlaunch/smartlaunch/internal/store"
	"github.com/smartlaunch/smartlaunch/sampledata"
)

func main() {
	c := flag.Int("c", 8, "concurrency")
	d := flag.Duration("d", 5*time.Second, "duration of each case")
	rounds := flag.Int("rounds", 2, "times each case runs, direct and proxied alternating")
	only := flag.String("cases", "read,search", "comma-separated cases to run")
	profile := flag.String("cpuprofile", "", "write a CPU profile of the whole run (both servers included) to this file")
	split := flag.Bool("split", false, "run the upstream in a process of its own on CPU 1 and the proxy and load on CPU 0 (taskset), as if the upstream had a machine of its own")
	role := flag.String("role", "", "internal: upstream (serve the upstream, print its URL, stop when stdin closes)")
	upBase := flag.String("upstream-base", "", "internal: the base URL of an upstream started by -split")
	flag.Parse()
	switch {
	case *role == "upstream":
		if err := serveUpstream(); err != nil {
			log.Fatal(err)
		}
		return
	case *split:
		if err := runSplit(); err != nil {
			log.Fatal(err)
		}
		return
	}
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
	if err := run(*c, *d, *rounds, strings.Split(*only, ","), *upBase); err != nil {
		log.Fatal(err)
	}
}

const (
	secret  = "bench-secret-0123456789abcdef0123456789"
	patient = "355" // Inferno's US Core patient in the sample data
)

func run(c int, d time.Duration, rounds int, only []string, upBase string) error {
	ctx := context.Background()
	direct := &target{base: upBase, client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}}
	if upBase == "" {
		up, err := startUpstream(ctx)
		if err != nil {
			return err
		}
		defer up.Close()
		direct = &target{base: up.Base, client: up.Client}
	}
	client, err := upstream.New(upstream.Config{Base: direct.base + "/fhir", ClientCredentials: &clientcredentials.Config{
		ClientID: "proxy", ClientSecret: secret, TokenURL: direct.base + "/token", Scopes: []string{"system/*.rs"}}})
	if err != nil {
		return err
	}
	px, err := load.Start(func(cfg *server.Config) { cfg.Upstream = client })
	if err != nil {
		return err
	}
	defer px.Close()
	if err := px.Store.CreateClient(ctx, store.Client{ID: "app", Name: "app", Type: store.ClientConfidentialSymmetric,
		SecretHash: store.Hash(secret), Scope: "system/*.rs"}); err != nil {
		return err
	}
	targets := map[string]*target{"direct": direct, "proxy": {base: px.Base, client: px.Client}}
	for name, t := range targets {
		if t.token, err = token(t); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	fmt.Fprintf(os.Stdout, "FHIR read and search, direct to the upstream and through the proxy, concurrency %d, %v per run\n", c, d)
	load.Header(os.Stdout)
	cases := []struct{ name, path string }{
		{"read", "/fhir/Patient/" + patient},
		{"search", "/fhir/Observation?patient=" + patient + "&category=laboratory&_count=20"},
	}
	for _, cs := range cases {
		if !slices.Contains(only, cs.name) {
			continue
		}
		mean := map[string]time.Duration{}
		for range rounds {
			for _, via := range []string{"direct", "proxy"} {
				t := targets[via]
				res := load.Run(c, d, func(int) error { return t.get(cs.path) })
				load.Print(os.Stdout, cs.name+"/"+via, res)
				if res.Requests > 0 {
					mean[via] += time.Duration(float64(d) * float64(c) / float64(res.Requests))
				}
			}
		}
		if mean["direct"] > 0 {
			fmt.Fprintf(os.Stdout, "%s: the proxy adds %.1f %% to the mean latency (%v -> %v)\n", cs.name,
				100*(float64(mean["proxy"])/float64(mean["direct"])-1), (mean["direct"] / time.Duration(rounds)).Round(time.Microsecond),
				(mean["proxy"] / time.Duration(rounds)).Round(time.Microsecond))
		}
	}
	return nil
}

// target is one server the requests go to, with its token.
type target struct {
	base, token string
	client      *http.Client
}

// startUpstream starts the upstream: a smartlaunch server holding the
// sample data, with the confidential clients "proxy" and "app".
func startUpstream(ctx context.Context) (*load.Server, error) {
	up, err := load.Start()
	if err != nil {
		return nil, err
	}
	if _, err := fhir.Load(ctx, up.Store, sampledata.FS); err != nil {
		up.Close()
		return nil, err
	}
	for _, id := range []string{"proxy", "app"} {
		if err := up.Store.CreateClient(ctx, store.Client{ID: id, Name: id, Type: store.ClientConfidentialSymmetric,
			SecretHash: store.Hash(secret), Scope: "system/*.rs"}); err != nil {
			up.Close()
			return nil, err
		}
	}
	return up, nil
}

// serveUpstream is the upstream process of -split: it prints the
// upstream's base URL and serves until its standard input closes.
func serveUpstream() error {
	up, err := startUpstream(context.Background())
	if err != nil {
		return err
	}
	defer up.Close()
	fmt.Println(up.Base)
	_, err = io.Copy(io.Discard, os.Stdin)
	return err
}

// runSplit runs the upstream on CPU 1 and this tool, with the proxy, on
// CPU 0, each in a process of its own.
func runSplit() error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	up := exec.Command("taskset", "-c", "1", self, "-role", "upstream")
	up.Stderr = os.Stderr
	stdin, err := up.StdinPipe()
	if err != nil {
		return err
	}
	out, err := up.StdoutPipe()
	if err != nil {
		return err
	}
	if err := up.Start(); err != nil {
		return err
	}
	defer func() { stdin.Close(); up.Wait() }()
	base, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		return fmt.Errorf("upstream process: %w", err)
	}
	var args []string
	flag.Visit(func(f *flag.Flag) {
		if f.Name != "split" {
			args = append(args, "-"+f.Name+"="+f.Value.String())
		}
	})
	bench := exec.Command("taskset", append([]string{"-c", "0", self, "-upstream-base", strings.TrimSpace(base)}, args...)...)
	bench.Stdout, bench.Stderr = os.Stdout, os.Stderr
	return bench.Run()
}

var errStatus = errors.New("unexpected status")

func (t *target) get(path string) error {
	req, _ := http.NewRequest(http.MethodGet, t.base+path, nil)
	req.Header.Set("Authorization", "Bearer "+t.token)
	resp, err := t.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%w %d", errStatus, resp.StatusCode)
	}
	return nil
}

// token gets a system/*.rs access token of client "app".
func token(t *target) (string, error) {
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"system/*.rs"}}
	req, _ := http.NewRequest(http.MethodPost, t.base+"/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("app", secret)
	resp, err := t.client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		return "", fmt.Errorf("token: status %d", resp.StatusCode)
	}
	return tok.AccessToken, nil
}
