package server_test

import (
	"context"
	"net"
	"net/http"
	"testing"

	"golang.org/x/oauth2"

	"github.com/smartlaunch/smartlaunch/internal/demo"
)

// TestRunFlushesOnShutdown: when Run returns after a graceful shutdown,
// the data-access counts of the requests it served are in the store — the
// janitor's last flush runs after the in-flight requests and before Run
// returns.
func TestRunFlushesOnShutdown(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	conf := e.oauthConfig("test-public", "launch/patient", "patient/*.rs")
	v := oauth2.GenerateVerifier()
	q := e.authorize(launch{conf: conf, verifier: v, username: "patient", password: "patient-demo"})
	tok, err := conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(v))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- e.app.Run(runCtx, ln) }()
	req, _ := http.NewRequest(http.MethodGet, "http://"+ln.Addr().String()+"/fhir/Patient/"+demo.PatientJill, nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("read through Run: %v %v", err, resp)
	}
	resp.Body.Close()
	stop()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	as, err := e.st.ListUserAuthorizations(ctx, "user-patient")
	if err != nil || len(as) == 0 {
		t.Fatalf("authorizations: %v", err)
	}
	recs, err := e.st.ListAccess(ctx, as[len(as)-1].ID, testStart.Add(-48*3600e9))
	if err != nil || len(recs) == 0 {
		t.Errorf("access counts after Run returned: %v, %v; want the read counted", recs, err)
	}
}
