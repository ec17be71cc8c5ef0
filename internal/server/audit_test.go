package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/smartlaunch/smartlaunch/internal/audit"
	"github.com/smartlaunch/smartlaunch/internal/demo"
	"github.com/smartlaunch/smartlaunch/internal/store"
)

// TestAuditTrailLaunchRefreshRevoke: one full launch, a refresh and a
// revocation leave exactly their events in the audit trail, in order, with
// who, what and from where — and a wrong password before them and a
// failed client authentication after them are recorded too (issue 12
// item 6, A-110).
func TestAuditTrailLaunchRefreshRevoke(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()

	// A wrong password first.
	b := newBrowser(t, testRedirect)
	p := b.get(authorizeURL(e, nil))
	if got := b.submit(p, url.Values{"username": {"patient"}, "password": {"wrong"}}); got.Status != http.StatusUnauthorized {
		t.Fatalf("wrong password: %v, want 401 and the login page again", got)
	}
	tok := launchOffline(t, e)
	resp, body := e.postToken(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken},
		"client_id": {"test-public"}}, "", "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("refresh: %d %v", resp.StatusCode, body)
	}
	form := url.Values{"token": {body["refresh_token"].(string)}, "client_id": {"test-public"}}
	req, _ := http.NewRequest(http.MethodPost, e.base+"/revoke", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("revoke: %v %v", resp, err)
	}
	if resp, body := e.postToken(url.Values{"grant_type": {"client_credentials"}}, "test-confidential", "not-the-secret"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong client secret: %d %v, want 401", resp.StatusCode, body)
	}

	evs, err := e.st.ListAuditEvents(ctx, store.AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	as, err := e.st.ListUserAuthorizations(ctx, "user-patient")
	if err != nil || len(as) != 1 {
		t.Fatalf("authorizations: %v (%v), want the one launched", as, err)
	}
	authz := as[0].ID
	type event struct{ typ, user, client, authz, detail string }
	want := []event{
		{audit.SignInFailed, "user-patient", "test-public", "", audit.FormAuthorize},
		{audit.SignInSucceeded, "user-patient", "test-public", "", audit.FormAuthorize},
		{audit.AuthorizationGranted, "user-patient", "test-public", authz, "launch/patient patient/*.rs offline_access"},
		{audit.TokenRefreshed, "user-patient", "test-public", authz, ""},
		{audit.AuthorizationEnded, "user-patient", "test-public", authz, string(store.EndClientRevoked)},
		{audit.ClientAuthFailed, "", "test-confidential", "", "client authentication failed"},
	}
	var got []event
	for _, ev := range evs {
		got = append(got, event{ev.Type, ev.UserID, ev.ClientID, ev.AuthorizationID, ev.Detail})
		if ev.Address != "127.0.0.1" {
			t.Errorf("%s: address %q, want 127.0.0.1", ev.Type, ev.Address)
		}
		if ev.At.IsZero() || !ev.At.Equal(e.clock.Now()) {
			t.Errorf("%s: at %v, want the server's clock %v", ev.Type, ev.At, e.clock.Now())
		}
	}
	if len(got) != len(want) {
		t.Fatalf("audit trail:\n%+v\nwant:\n%+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("event %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

// TestAuditEventExport: an administrator's backend client holding
// system/AuditEvent.rs reads the audit trail as FHIR AuditEvent resources
// — search by type and date, page, read by id — and nobody else can:
// neither a patient's app, nor a backend client with system/*.rs; the
// trail cannot be written (issue 12 item 6).
func TestAuditEventExport(t *testing.T) {
	e := newEnv(t)
	patientTok := launchOffline(t, e)
	for range 2 {
		e.postToken(url.Values{"grant_type": {"client_credentials"}}, "test-confidential", "not-the-secret")
	}
	admin := newBackendApp(t, e, "auditor")
	jwks, _ := json.Marshal(admin.jwks)
	if err := e.st.CreateClient(context.Background(), store.Client{ID: "auditor", Name: "Security office",
		Type: store.ClientConfidentialAsymmetric, Scope: "system/AuditEvent.rs system/*.cruds", JWKS: string(jwks)}); err != nil {
		t.Fatal(err)
	}
	resp, body := admin.token(admin.assertion(nil), "system/AuditEvent.rs")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("admin token: %d %v", resp.StatusCode, body)
	}
	adminTok := body["access_token"].(string)

	// All events, two a page.
	var all []map[string]any
	next := "AuditEvent?_count=2"
	for pages := 0; next != ""; pages++ {
		if pages > 10 {
			t.Fatal("paging does not end")
		}
		status, b, _ := e.fhirGet(adminTok, next)
		if status != http.StatusOK || b["resourceType"] != "Bundle" || b["type"] != "searchset" {
			t.Fatalf("GET %s: %d %v", next, status, b)
		}
		entries, _ := b["entry"].([]any)
		if len(entries) > 2 {
			t.Errorf("page of %d entries, want at most 2", len(entries))
		}
		for _, en := range entries {
			all = append(all, en.(map[string]any)["resource"].(map[string]any))
		}
		next = ""
		for _, l := range b["link"].([]any) {
			if l := l.(map[string]any); l["relation"] == "next" {
				next = strings.TrimPrefix(l["url"].(string), e.fhir+"/")
			}
		}
	}
	subtypes := []string{}
	for _, ae := range all {
		if ae["resourceType"] != "AuditEvent" {
			t.Fatalf("entry %v is not an AuditEvent", ae)
		}
		subtypes = append(subtypes, ae["subtype"].([]any)[0].(map[string]any)["code"].(string))
	}
	wantTypes := []string{audit.SignInSucceeded, audit.AuthorizationGranted, audit.ClientAuthFailed,
		audit.ClientAuthFailed, audit.AuthorizationGranted}
	if strings.Join(subtypes, " ") != strings.Join(wantTypes, " ") {
		t.Fatalf("exported subtypes %v, want %v", subtypes, wantTypes)
	}
	granted := all[1]
	agents := granted["agent"].([]any)
	user := agents[0].(map[string]any)["who"].(map[string]any)["identifier"].(map[string]any)
	app := agents[1].(map[string]any)["who"].(map[string]any)["identifier"].(map[string]any)
	entity := granted["entity"].([]any)[0].(map[string]any)
	if user["value"] != "user-patient" || user["system"] != e.base+"/users" || app["value"] != "test-public" ||
		granted["outcome"] != "0" || granted["action"] != "C" || granted["recorded"] == "" ||
		entity["detail"].([]any)[0].(map[string]any)["valueString"] != "launch/patient patient/*.rs offline_access" {
		t.Errorf("authorization.granted as FHIR: %v", granted)
	}
	if all[2]["outcome"] != "4" {
		t.Errorf("failed client authentication: outcome %v, want 4 (minor failure)", all[2]["outcome"])
	}

	// Read by id; filter by type and by date.
	id := all[2]["id"].(string)
	if status, ae, _ := e.fhirGet(adminTok, "AuditEvent/"+id); status != http.StatusOK || ae["id"] != id {
		t.Errorf("read AuditEvent/%s: %d %v", id, status, ae)
	}
	if status, _, _ := e.fhirGet(adminTok, "AuditEvent/999999"); status != http.StatusNotFound {
		t.Errorf("read of a missing AuditEvent: %d, want 404", status)
	}
	day := e.clock.Now().UTC().Format("2006-01-02")
	for q, n := range map[string]int{
		"subtype=" + audit.ClientAuthFailed:                                           2,
		"subtype=" + url.QueryEscape(audit.EventTypeSystem+"|"+audit.SignInSucceeded): 1,
		"altid=user-patient": 2,
		"date=" + day:        5,
		"date=lt" + day:      0,
		"date=ge" + day + "&subtype=" + audit.AuthorizationGranted: 2,
	} {
		status, b, _ := e.fhirGet(adminTok, "AuditEvent?"+q)
		entries, _ := b["entry"].([]any)
		if status != http.StatusOK || len(entries) != n {
			t.Errorf("AuditEvent?%s: %d with %d entries, want 200 with %d", q, status, len(entries), n)
		}
	}

	// Refused: an unsupported parameter; other scopes; writes.
	if status, b, _ := e.fhirGet(adminTok, "AuditEvent?patient=x"); status != http.StatusBadRequest || b["resourceType"] != "OperationOutcome" {
		t.Errorf("unsupported parameter: %d %v, want 400 OperationOutcome", status, b)
	}
	resp, body = admin.token(admin.assertion(nil), "system/*.cruds")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("system/*.cruds token: %d %v", resp.StatusCode, body)
	}
	for name, tok := range map[string]string{"system/*.cruds": body["access_token"].(string), "patient app": patientTok.AccessToken} {
		for _, path := range []string{"AuditEvent", "AuditEvent/" + id} {
			if status, b, _ := e.fhirGet(tok, path); status != http.StatusForbidden || b["resourceType"] != "OperationOutcome" {
				t.Errorf("%s GET %s: %d, want 403", name, path, status)
			}
		}
	}
	// No other path reaches AuditEvent, for a system/*.cruds token
	// either: no transaction writes one, and no system search,
	// compartment, include or history shows one.
	sysTok := body["access_token"].(string)
	tx := `{"resourceType":"Bundle","type":"transaction","entry":[{"resource":{"resourceType":"AuditEvent","recorded":"2026-01-01T00:00:00Z"},"request":{"method":"POST","url":"AuditEvent"}}]}`
	req, _ := http.NewRequest(http.MethodPost, e.fhir, strings.NewReader(tx))
	req.Header.Set("Authorization", "Bearer "+sysTok)
	req.Header.Set("Content-Type", "application/fhir+json")
	if resp, _ := e.doJSONOrEmpty(req); resp.StatusCode < 400 {
		t.Errorf("a transaction creating an AuditEvent: %d, want refused", resp.StatusCode)
	}
	for _, path := range []string{"?_type=AuditEvent", "Patient/" + demo.PatientJill + "/AuditEvent", "AuditEvent/_history",
		"Patient?_revinclude=AuditEvent:patient", "Patient/" + demo.PatientJill + "/$everything"} {
		status, b, _ := e.fhirGet(sysTok, path)
		if raw, _ := json.Marshal(b); strings.Contains(string(raw), `"resourceType":"AuditEvent"`) || (status == http.StatusOK && b["resourceType"] != "Bundle") {
			t.Errorf("system/*.cruds GET %s: %d, and the answer holds an AuditEvent or is no Bundle: %s", path, status, raw)
		}
	}
	if status, b, _ := e.fhirGet(adminTok, "AuditEvent?_count=200"); status != http.StatusOK || len(b["entry"].([]any)) != len(all) {
		t.Errorf("after the refused writes: %d, %d events, want the %d recorded", status, len(b["entry"].([]any)), len(all))
	}
	// The CapabilityStatement says what is served.
	_, capStmt, _ := e.fhirGet("", "metadata")
	var listed []any
	for _, r := range capStmt["rest"].([]any)[0].(map[string]any)["resource"].([]any) {
		if r := r.(map[string]any); r["type"] == "AuditEvent" {
			listed = append(listed, r["interaction"])
		}
	}
	if raw, _ := json.Marshal(listed); string(raw) != `[[{"code":"read"},{"code":"search-type"}]]` {
		t.Errorf("CapabilityStatement lists AuditEvent as %s, want once, with read and search-type", raw)
	}

	req, _ = http.NewRequest(http.MethodPost, e.fhir+"/AuditEvent", strings.NewReader(`{"resourceType":"AuditEvent"}`))
	req.Header.Set("Authorization", "Bearer "+adminTok)
	req.Header.Set("Content-Type", "application/fhir+json")
	if resp, _ := e.doJSONOrEmpty(req); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST AuditEvent: %d, want 405", resp.StatusCode)
	}
}

// TestAuditEventsInProxyMode: in proxy mode /fhir/AuditEvent is the
// proxy's own audit trail, never forwarded to the upstream (whose trail
// holds other events: here, the proxy's own client-credentials grant).
func TestAuditEventsInProxyMode(t *testing.T) {
	ctx := context.Background()
	up, px := newProxyPair(t)
	launchOffline(t, px) // through the proxy: the upstream's token is fetched here
	admin := newBackendApp(t, px, "auditor")
	jwks, _ := json.Marshal(admin.jwks)
	if err := px.st.CreateClient(ctx, store.Client{ID: "auditor", Name: "Security office",
		Type: store.ClientConfidentialAsymmetric, Scope: "system/AuditEvent.rs", JWKS: string(jwks)}); err != nil {
		t.Fatal(err)
	}
	resp, body := admin.token(admin.assertion(nil), "system/AuditEvent.rs")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("admin token: %d %v", resp.StatusCode, body)
	}
	upEvents, err := up.st.ListAuditEvents(ctx, store.AuditQuery{ClientID: "proxy"})
	if err != nil || len(upEvents) == 0 {
		t.Fatalf("upstream trail: %v (%v), want the proxy's grant", upEvents, err)
	}
	status, b, _ := px.fhirGet(body["access_token"].(string), "AuditEvent")
	if status != http.StatusOK || b["resourceType"] != "Bundle" {
		t.Fatalf("GET AuditEvent through the proxy: %d %v", status, b)
	}
	var got []string
	for _, en := range b["entry"].([]any) {
		en := en.(map[string]any)
		if !strings.HasPrefix(en["fullUrl"].(string), px.fhir+"/AuditEvent/") {
			t.Errorf("fullUrl %v is not the proxy's", en["fullUrl"])
		}
		got = append(got, en["resource"].(map[string]any)["subtype"].([]any)[0].(map[string]any)["code"].(string))
	}
	want := []string{audit.SignInSucceeded, audit.AuthorizationGranted, audit.AuthorizationGranted}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("proxy's AuditEvents %v, want its own trail %v", got, want)
	}
}
