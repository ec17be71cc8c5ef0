package fhir

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/fhir/upstream"
	"github.com/smartlaunch/smartlaunch/internal/store"
)

// proxyPair is a proxy and its upstream, for the tests of what only proxy
// mode does.
type proxyPair struct {
	proxy, up *httptest.Server
}

func newProxyPair(t *testing.T, tokens fakeVerifier) proxyPair {
	t.Helper()
	mux := http.NewServeMux()
	up := httptest.NewServer(mux)
	t.Cleanup(up.Close)
	us := New(Config{Store: sampleStore(t), Verifier: upstreamVerifier{}, BaseURL: up.URL + "/fhir",
		Now: func() time.Time { return testNow }})
	mux.Handle("/fhir", http.StripPrefix("/fhir", us))
	mux.Handle("/fhir/", http.StripPrefix("/fhir", us))
	client, err := upstream.New(upstream.Config{Base: up.URL + "/fhir", Bearer: upstreamSecret, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return proxyPair{proxy: serveConfig(t, Config{Upstream: client, Verifier: tokens}), up: up}
}

// TestProxyMetadata: the upstream's CapabilityStatement is served with
// smartlaunch's SMART security section and base, and none of the
// upstream's own URLs.
func TestProxyMetadata(t *testing.T) {
	p := newProxyPair(t, fakeVerifier{})
	status, body := get(t, p.proxy.URL+"/fhir/metadata", "", nil)
	var cs struct {
		ResourceType   string
		Implementation struct{ URL string }
		Rest           []struct {
			Mode     string
			Security struct {
				Extension []struct{ URL string }
				Service   []struct{ Coding []struct{ Code string } }
			}
			Resource []struct{ Type string }
		}
	}
	if err := json.Unmarshal(body, &cs); status != 200 || err != nil || cs.ResourceType != "CapabilityStatement" {
		t.Fatalf("GET /metadata = %d (%v): %.200s", status, err, body)
	}
	if cs.Implementation.URL != testBase || len(cs.Rest) != 1 || len(cs.Rest[0].Resource) == 0 {
		t.Errorf("implementation.url %q, %d rest", cs.Implementation.URL, len(cs.Rest))
	}
	if sec := cs.Rest[0].Security; len(sec.Extension) == 0 ||
		sec.Extension[0].URL != "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris" ||
		len(sec.Service) == 0 || sec.Service[0].Coding[0].Code != "SMART-on-FHIR" {
		t.Errorf("security = %+v, want smartlaunch's SMART section", sec)
	}
	if strings.Contains(string(body), p.up.URL) {
		t.Errorf("metadata names the upstream %s", p.up.URL)
	}
}

// TestProxyPagingLinks: paging links are rewritten onto smartlaunch's
// base and bound, by a MAC, to the authorization and the link: another
// authorization's token or a changed link is refused (403), and no
// answer names the upstream.
func TestProxyPagingLinks(t *testing.T) {
	mine := access("user/*.rs", "")
	mine.AuthorizationID = "auth-1"
	other := mine
	other.AuthorizationID = "auth-2"
	p := newProxyPair(t, fakeVerifier{"mine": mine, "other": other})
	status, body := get(t, p.proxy.URL+"/fhir/Observation?patient="+chad+"&_count=5", "mine", nil)
	if status != 200 || strings.Contains(string(body), p.up.URL) {
		t.Fatalf("first page: %d, names upstream: %v", status, strings.Contains(string(body), p.up.URL))
	}
	var b bundleJSON
	if err := json.Unmarshal(body, &b); err != nil || len(b.Entry) != 5 {
		t.Fatalf("first page: %d entries (%v)", len(b.Entry), err)
	}
	var next string
	for _, l := range b.Link {
		if l.Relation == "next" {
			next = l.URL
		}
	}
	if !strings.HasPrefix(next, testBase+"/") || !strings.Contains(next, pageParam+"=") {
		t.Fatalf("next link %q is not a bound link on the proxy", next)
	}
	for _, tc := range []struct {
		name, token, url string
		status           int
	}{
		{"same authorization", "mine", localURL(p.proxy, next), 200},
		{"another authorization", "other", localURL(p.proxy, next), 403},
		{"changed link", "mine", strings.Replace(localURL(p.proxy, next), "_count=5", "_count=200", 1), 403},
	} {
		if status, _ := get(t, tc.url, tc.token, nil); status != tc.status {
			t.Errorf("%s: GET next = %d, want %d", tc.name, status, tc.status)
		}
	}
}

// TestProxyUpstreamDown: an upstream that cannot be reached is answered
// 502 with an OperationOutcome that does not name it.
func TestProxyUpstreamDown(t *testing.T) {
	down := httptest.NewServer(http.NotFoundHandler())
	base := down.URL + "/fhir"
	down.Close()
	client, err := upstream.New(upstream.Config{Base: base, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ts := serveConfig(t, Config{Upstream: client, Verifier: fakeVerifier{"all": access("user/*.rs", "")}})
	for _, path := range []string{"/Patient/" + chad, "/Observation?patient=" + chad, "/metadata"} {
		status, body := get(t, ts.URL+"/fhir"+path, "all", nil)
		if status != http.StatusBadGateway || outcomeCode(t, body) != "transient" || strings.Contains(string(body), base) {
			t.Errorf("GET %s = %d %.200s, want 502 transient", path, status, body)
		}
	}
}

// TestProxyTransactionReads: a read in a proxied transaction is refused
// (its answer could not be judged before the writes are made); the same
// read in a batch is served.
func TestProxyTransactionReads(t *testing.T) {
	p := newProxyPair(t, fakeVerifier{"all": access("user/*.cruds", "")})
	for _, tc := range []struct {
		typ    string
		status int
	}{{"transaction", 400}, {"batch", 200}} {
		b := `{"resourceType":"Bundle","type":"` + tc.typ + `","entry":[{"request":{"method":"GET","url":"Patient/` + chad + `"}}]}`
		resp, body := do(t, "POST", p.proxy.URL+"/fhir", "all", "application/fhir+json", strings.NewReader(b))
		if resp.StatusCode != tc.status {
			t.Errorf("%s: %d %.200s, want %d", tc.typ, resp.StatusCode, body, tc.status)
		}
	}
}

// TestProxyUpstreamTimeout: an upstream that does not answer in time is
// answered 504, and the request does not hang.
func TestProxyUpstreamTimeout(t *testing.T) {
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release); slow.Close() })
	client, err := upstream.New(upstream.Config{Base: slow.URL + "/fhir", Timeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ts := serveConfig(t, Config{Upstream: client, Verifier: fakeVerifier{"all": access("user/*.rs", "")}})
	for _, path := range []string{"/Patient/" + chad, "/Observation?patient=" + chad} {
		status, body := get(t, ts.URL+"/fhir"+path, "all", nil)
		if status != http.StatusGatewayTimeout || outcomeCode(t, body) != "timeout" {
			t.Errorf("GET %s = %d %.200s, want 504 timeout", path, status, body)
		}
	}
}

// TestUpstreamResources: in proxy mode the patient picker and the EHR
// simulator read patients and launch context from the upstream, through a
// read-only store.Resources.
func TestUpstreamResources(t *testing.T) {
	mux := http.NewServeMux()
	up := httptest.NewServer(mux)
	t.Cleanup(up.Close)
	st := sampleStore(t)
	us := New(Config{Store: st, Verifier: upstreamVerifier{}, BaseURL: up.URL + "/fhir"})
	mux.Handle("/fhir/", http.StripPrefix("/fhir", us))
	client := must(upstream.New(upstream.Config{Base: up.URL + "/fhir", Bearer: upstreamSecret}))
	res := New(Config{Upstream: client, Verifier: fakeVerifier{}, BaseURL: testBase}).UpstreamResources()
	if New(Config{Store: st, Verifier: fakeVerifier{}, BaseURL: testBase}).UpstreamResources() != nil {
		t.Error("embedded mode has UpstreamResources")
	}
	ctx := t.Context()
	pat, err := res.GetResource(ctx, "Patient", chad)
	if err != nil || pat.ID != chad || !slices.Contains(pat.Patients, chad) || strings.Contains(string(pat.JSON), up.URL) {
		t.Errorf("GetResource(Patient, chad) = %s %v %v", pat.ID, pat.Patients, err)
	}
	if _, err := res.GetResource(ctx, "Patient", "nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetResource(missing) error = %v, want ErrNotFound", err)
	}
	for _, q := range []store.ResourceQuery{
		{Type: "Patient", Count: 5},
		{Type: "Observation", Patient: chad, Count: 200},
	} {
		got, total, err := res.SearchResources(ctx, q)
		want, wantTotal, _ := st.SearchResources(ctx, q)
		if err != nil || total != wantTotal || len(got) != len(want) {
			t.Errorf("SearchResources(%+v) = %d of %d (%v), want %d of %d", q, len(got), total, err, len(want), wantTotal)
		}
	}
	if _, _, err := res.SearchResources(ctx, store.ResourceQuery{Type: "Patient", Filters: []store.Filter{{Param: "gender"}}}); !errors.Is(err, ErrReadOnly) {
		t.Errorf("SearchResources with filters error = %v, want ErrReadOnly", err)
	}
	if err := res.PutResources(ctx, nil); !errors.Is(err, ErrReadOnly) {
		t.Errorf("PutResources error = %v, want ErrReadOnly", err)
	}
}

// TestProxyLinksAcrossInstances: instances sharing a LinkSecret (derived
// from the shared signing key) honour each other's paging links; another
// secret does not.
func TestProxyLinksAcrossInstances(t *testing.T) {
	p := newProxyPair(t, fakeVerifier{})
	client := must(upstream.New(upstream.Config{Base: p.up.URL + "/fhir", Bearer: upstreamSecret}))
	tokens := fakeVerifier{"all": access("user/*.rs", "")}
	secret := []byte("0123456789abcdef0123456789abcdef")
	a := serveConfig(t, Config{Upstream: client, Verifier: tokens, LinkSecret: secret})
	b := serveConfig(t, Config{Upstream: client, Verifier: tokens, LinkSecret: secret})
	c := serveConfig(t, Config{Upstream: client, Verifier: tokens, LinkSecret: []byte("another secret, another cluster")})
	_, body := get(t, a.URL+"/fhir/Observation?patient="+chad+"&_count=5", "all", nil)
	var bundle bundleJSON
	if err := json.Unmarshal(body, &bundle); err != nil {
		t.Fatal(err)
	}
	var next string
	for _, l := range bundle.Link {
		if l.Relation == "next" {
			next = strings.TrimPrefix(l.URL, testBase)
		}
	}
	if next == "" {
		t.Fatal("no next link")
	}
	for _, tc := range []struct {
		name   string
		ts     *httptest.Server
		status int
	}{{"same secret", b, 200}, {"another secret", c, 403}} {
		if status, _ := get(t, tc.ts.URL+"/fhir"+next, "all", nil); status != tc.status {
			t.Errorf("%s: %d, want %d", tc.name, status, tc.status)
		}
	}
}
