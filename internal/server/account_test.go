package server_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/smartlaunch/smartlaunch/internal/demo"
	"github.com/smartlaunch/smartlaunch/internal/store"
)

// TestConnectedApps: the management page lists every app with access in
// plain words, with what it read lately; ending one there makes its access
// and refresh tokens fail at once while the person's other app keeps
// working; the history says why, in the person's language.
func TestConnectedApps(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if err := e.st.CreateClient(ctx, store.Client{ID: "second-app", Name: "Medication Helper", Type: store.ClientPublic,
		RedirectURIs: []string{testRedirect}, Scope: demo.AppScope, Info: store.ClientInfo{Publisher: "Example Pharmacy"}}); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, testRedirect)
	launchIn := func(clientID string) *oauth2.Token {
		conf := e.oauthConfig("test-public", "launch/patient", "patient/*.rs", "offline_access")
		conf.ClientID = clientID
		v := oauth2.GenerateVerifier()
		p := b.get(conf.AuthCodeURL("s", oauth2.S256ChallengeOption(v), oauth2.SetAuthURLParam("aud", e.fhir)))
		if p.URL.Path == "/login" {
			p = b.submit(p, url.Values{"username": {"patient"}, "password": {"patient-demo"}})
		}
		q := e.appRedirect(b.submit(p, url.Values{"decision": {"allow"}}))
		tok, err := conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(v))
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	first, second := launchIn("test-public"), launchIn("second-app")
	for _, rel := range []string{"Patient/" + demo.PatientJill, "Observation?patient=" + demo.PatientJill} {
		if status, _, _ := e.fhirGet(second.AccessToken, rel); status != http.StatusOK {
			t.Fatalf("%s: %d", rel, status)
		}
	}
	if err := e.app.FlushUsage(ctx); err != nil {
		t.Fatal(err)
	}

	p := b.get(e.base + "/account")
	body := html.UnescapeString(p.Body)
	for _, want := range []string{"Your connected apps", "Test Public App", "Medication Helper", "Example Pharmacy",
		"See all of your health record", "Can get your data when you are not using it", "test results and measurements"} {
		if !strings.Contains(body, want) {
			t.Errorf("management page lacks %q", want)
		}
	}
	as, _ := e.st.ListUserAuthorizations(ctx, "user-patient")
	var secondID string
	for _, a := range as {
		if a.ClientID == "second-app" {
			secondID = a.ID
		}
	}
	confirm := b.get(e.base + "/account/apps/" + secondID + "/end")
	if !strings.Contains(html.UnescapeString(confirm.Body), "End Medication Helper's access") {
		t.Fatalf("confirmation page: %v", confirm)
	}
	if got := b.submit(confirm, nil); got.URL.Path != "/account" || got.Status != http.StatusOK {
		t.Fatalf("end access: %v", got)
	}
	if status, _, _ := e.fhirGet(second.AccessToken, "Patient/"+demo.PatientJill); status != http.StatusUnauthorized {
		t.Errorf("ended app's access token: %d, want 401", status)
	}
	resp, rb := e.postToken(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {second.RefreshToken}, "client_id": {"second-app"}}, "", "")
	if resp.StatusCode != http.StatusBadRequest || rb["error"] != "invalid_grant" {
		t.Errorf("ended app's refresh token: %d %v", resp.StatusCode, rb)
	}
	if status, _, _ := e.fhirGet(first.AccessToken, "Patient/"+demo.PatientJill); status != http.StatusOK {
		t.Errorf("the other app: %d, want 200", status)
	}
	b.lang = "es"
	p = b.get(e.base + "/account")
	if body := html.UnescapeString(p.Body); !strings.Contains(body, "Usted terminó este acceso.") || !strings.Contains(body, "Sus aplicaciones conectadas") {
		t.Errorf("Spanish history lacks the reason:\n%s", body)
	}
	// Someone else's authorization cannot be ended from this page.
	other := newBrowser(t, testRedirect)
	op := other.get(e.base + "/account")
	if op = other.submit(op, url.Values{"username": {"parent"}, "password": {"parent-demo"}}); op.URL.Path != "/account" {
		t.Fatalf("parent sign-in: %v", op)
	}
	if got := other.get(e.base + "/account/apps/" + as[0].ID + "/end"); got.Status != http.StatusNotFound {
		t.Errorf("another user's app: %v, want 404", got)
	}
}

// TestReminderNotice: after an app gets offline access, the reminder
// policy's confirmation shows on the management page and, as a notice, on
// the consent page; once marked done it never shows again.
func TestReminderNotice(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	b := newBrowser(t, testRedirect)
	conf := e.oauthConfig("test-public", "launch/patient", "patient/*.rs", "offline_access")
	v := oauth2.GenerateVerifier()
	p := b.get(conf.AuthCodeURL("s", oauth2.S256ChallengeOption(v), oauth2.SetAuthURLParam("aud", e.fhir)))
	p = b.submit(p, url.Values{"username": {"patient"}, "password": {"patient-demo"}})
	e.appRedirect(b.submit(p, url.Values{"decision": {"allow"}}))
	n, err := e.app.RunReminders(ctx)
	if err != nil || n != 1 {
		t.Fatalf("RunReminders = %d, %v; want the one offline-access confirmation", n, err)
	}
	page := b.get(e.base + "/account")
	body := html.UnescapeString(page.Body)
	if !strings.Contains(body, "You gave Test Public App access that continues when you are not using it") {
		t.Fatalf("management page lacks the reminder:\n%s", body)
	}
	// The next consent page carries a notice.
	p = b.get(conf.AuthCodeURL("s2", oauth2.S256ChallengeOption(v), oauth2.SetAuthURLParam("aud", e.fhir)))
	if !strings.Contains(html.UnescapeString(p.Body), "You have reminders about your connected apps.") {
		t.Errorf("consent page lacks the reminder notice")
	}
	page = b.get(e.base + "/account")
	if got := b.submit(page, url.Values{"action": {"done"}}); got.URL.Path != "/account" ||
		strings.Contains(html.UnescapeString(got.Body), "You gave Test Public App access") {
		t.Errorf("after done: %v, reminder still shown", got)
	}
	if n, _ := e.app.RunReminders(ctx); n != 0 {
		t.Errorf("a second run created %d reminders, want none", n)
	}
}
