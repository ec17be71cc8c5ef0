package reminders

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

// received is one message the test SMTP server accepted.
type received struct {
	from string
	to   []string
	data []byte
	// user is who authenticated with AUTH PLAIN, if anyone did.
	user string
}

// smtpBackend is an in-test go-smtp backend that keeps what it receives.
type smtpBackend struct {
	user, password string // AUTH PLAIN credentials it accepts
	mu             sync.Mutex
	msgs           []received
}

func (b *smtpBackend) NewSession(*smtp.Conn) (smtp.Session, error) { return &smtpSession{b: b}, nil }

func (b *smtpBackend) received() []received {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]received(nil), b.msgs...)
}

type smtpSession struct {
	b   *smtpBackend
	msg received
}

func (s *smtpSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *smtpSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, password string) error {
		if user != s.b.user || password != s.b.password {
			return errors.New("bad credentials")
		}
		s.msg.user = user
		return nil
	}), nil
}

func (s *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	if s.b.user != "" && s.msg.user == "" {
		return smtp.ErrAuthRequired
	}
	s.msg.from = from
	return nil
}

func (s *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.msg.to = append(s.msg.to, to)
	return nil
}

func (s *smtpSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.msg.data = data
	s.b.mu.Lock()
	s.b.msgs = append(s.b.msgs, s.msg)
	s.b.mu.Unlock()
	return nil
}

func (s *smtpSession) Reset()        { s.msg = received{user: s.msg.user} }
func (s *smtpSession) Logout() error { return nil }

// startSMTP runs a real SMTP server (go-smtp) on 127.0.0.1 for the test and
// returns its address.
func startSMTP(t *testing.T, be *smtpBackend) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := smtp.NewServer(be)
	srv.Domain = "mail.test"
	srv.AllowInsecureAuth = true // loopback only; net/smtp sends PLAIN to 127.0.0.1 without TLS
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(ln)
	}()
	t.Cleanup(func() {
		srv.Close()
		<-done
	})
	return ln.Addr().String()
}

// addressBook is the AddressFunc of the tests.
func addressBook(book map[string][2]string) AddressFunc {
	return func(_ context.Context, userID string) (string, string, bool) {
		e, ok := book[userID]
		return e[0], e[1], ok
	}
}

// TestEmailDigestSpanish runs RunOnce against a real SMTP server: the
// Spanish-speaking user gets one localized digest with the app's name and
// the management link, a valid RFC 5322 message; the user without an
// address gets nothing.
func TestEmailDigestSpanish(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	be := &smtpBackend{user: "relay", password: "s3cret"}
	addr := startSMTP(t, be)
	db := simStore(t)
	now := time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)
	const manage = "https://smart.example.org/account"
	mailer := NewMailer(MailConfig{Addr: addr, From: "Smartlaunch <no-reply@smart.example.org>",
		Username: "relay", Password: "s3cret"},
		addressBook(map[string][2]string{"u-es": {"ana@example.es", "es-MX,es;q=0.9"}}))
	svc := NewService(db, Policy{}, mailer, manage, func() time.Time { return now }, nil)

	for _, u := range []store.User{{ID: "u-es", Username: "ana"}, {ID: "u-none", Username: "bea"}} {
		if err := db.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.CreateClient(ctx, store.Client{ID: "growth", Name: "Growth Chart", Type: store.ClientPublic}); err != nil {
		t.Fatal(err)
	}
	for _, a := range []store.Authorization{
		{ID: "auth-es-1", UserID: "u-es", ClientID: "growth", PatientID: "patient-secret-123",
			Scope: "patient/Observation.rs offline_access", Offline: true, CreatedAt: now.Add(-time.Hour)},
		{ID: "auth-none-1", UserID: "u-none", ClientID: "growth", Offline: true, CreatedAt: now.Add(-time.Hour)},
	} {
		if err := db.CreateAuthorization(ctx, a); err != nil {
			t.Fatal(err)
		}
	}

	n, err := svc.RunOnce(ctx)
	if err != nil || n != 2 {
		t.Fatalf("RunOnce = %d, %v; want 2 reminders", n, err)
	}
	msgs := be.received()
	if len(msgs) != 1 {
		t.Fatalf("the SMTP server received %d messages, want 1", len(msgs))
	}
	got := msgs[0]
	if got.from != "no-reply@smart.example.org" || len(got.to) != 1 || got.to[0] != "ana@example.es" || got.user != "relay" {
		t.Errorf("envelope: from %q to %q auth %q; want no-reply@smart.example.org to ana@example.es as relay",
			got.from, got.to, got.user)
	}

	msg, err := mail.ReadMessage(bytes.NewReader(got.data))
	if err != nil {
		t.Fatalf("mail.ReadMessage: %v\n%s", err, got.data)
	}
	h := msg.Header
	var dec mime.WordDecoder
	subject, err := dec.DecodeHeader(h.Get("Subject"))
	if err != nil {
		t.Fatalf("Subject %q: %v", h.Get("Subject"), err)
	}
	from, err := h.AddressList("From")
	if err != nil || len(from) != 1 || from[0].Address != "no-reply@smart.example.org" || from[0].Name != "Smartlaunch" {
		t.Errorf("From = %v, %v", from, err)
	}
	to, err := h.AddressList("To")
	if err != nil || len(to) != 1 || to[0].Address != "ana@example.es" {
		t.Errorf("To = %v, %v", to, err)
	}
	if date, err := h.Date(); err != nil || !date.Equal(now) {
		t.Errorf("Date = %v, %v; want %v", date, err, now)
	}
	mediaType, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	for _, c := range []struct{ name, got, want string }{
		{"Subject", subject, "Recordatorio: aplicaciones que pueden obtener su historia clínica"},
		{"MIME-Version", h.Get("MIME-Version"), "1.0"},
		{"Content-Type media type", mediaType, "text/plain"},
		{"Content-Type charset", strings.ToUpper(params["charset"]), "UTF-8"},
		{"Content-Transfer-Encoding", h.Get("Content-Transfer-Encoding"), "quoted-printable"},
		{"Content-Language", h.Get("Content-Language"), "es"},
		{"Auto-Submitted", h.Get("Auto-Submitted"), "auto-generated"},
	} {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if err != nil {
		t.Errorf("Content-Type: %v", err)
	}
	if id := h.Get("Message-ID"); !regexp.MustCompile(`^<[0-9a-f]{32}@smart\.example\.org>$`).MatchString(id) {
		t.Errorf("Message-ID = %q, want <hex@smart.example.org>", id)
	}

	body, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
	if err != nil {
		t.Fatalf("quoted-printable body: %v", err)
	}
	text := string(body)
	for _, want := range []string{
		"Hola:",
		"Growth Chart ahora puede obtener su historia clínica incluso cuando usted no la está usando. Lo autorizó el 14 de marzo de 2025.",
		"Vea y retire el acceso de cada aplicación aquí:\r\n" + manage + "\r\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("body lacks %q:\n%s", want, text)
		}
	}
	// No English, no identifiers, no clinical data.
	for _, leak := range []string{"Hello", "auth-es-1", "patient-secret-123", "Observation", "offline_access"} {
		if strings.Contains(string(got.data), leak) || strings.Contains(text, leak) {
			t.Errorf("message contains %q:\n%s", leak, text)
		}
	}
	for _, line := range strings.SplitAfter(string(got.data), "\n") {
		if len(line) > 78+2 || !strings.HasSuffix(line, "\r\n") && line != "" {
			t.Errorf("line %q: want CRLF-terminated lines of at most 78 characters", line)
		}
	}

	// The reminder is marked emailed, and the next run sends nothing more.
	rs, err := db.ListUserReminders(ctx, "u-es")
	if err != nil || len(rs) != 1 || !rs[0].EmailedAt.Equal(now) {
		t.Errorf("u-es reminders = %+v, %v; want one emailed at %v", rs, err, now)
	}
	now = now.Add(24 * time.Hour)
	if n, err := svc.RunOnce(ctx); err != nil || n != 0 {
		t.Errorf("second RunOnce = %d, %v; want 0, nil", n, err)
	}
	if got := len(be.received()); got != 1 {
		t.Errorf("after the second run the server has %d messages, want still 1", got)
	}
}

// TestEmailRetry checks that a digest the SMTP server never got is sent on
// a later run, and that a failed send does not fail the reminder.
func TestEmailRetry(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := simStore(t)
	now := time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	book := addressBook(map[string][2]string{"u1": {"amy@example.org", "fr"}})
	// A port nobody listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	if err := db.CreateUser(ctx, store.User{ID: "u1", Username: "amy"}); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateAuthorization(ctx, store.Authorization{ID: "a1", UserID: "u1", ClientID: "deleted-app",
		Offline: true, CreatedAt: now.Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	down := NewService(db, Policy{}, NewMailer(MailConfig{Addr: dead, From: "no-reply@example.org"}, book), "https://x.example/account", clock, nil)
	n, err := down.RunOnce(ctx)
	if n != 1 || err == nil {
		t.Fatalf("RunOnce with the SMTP server down = %d, %v; want 1 and an error", n, err)
	}

	be := &smtpBackend{}
	up := NewService(db, Policy{}, NewMailer(MailConfig{Addr: startSMTP(t, be), From: "no-reply@example.org"}, book),
		"https://x.example/account", clock, nil)
	now = now.Add(24 * time.Hour)
	if n, err := up.RunOnce(ctx); n != 0 || err != nil {
		t.Fatalf("RunOnce with the server up = %d, %v; want 0, nil", n, err)
	}
	msgs := be.received()
	if len(msgs) != 1 {
		t.Fatalf("server received %d messages, want the retried digest", len(msgs))
	}
	msg, err := mail.ReadMessage(bytes.NewReader(msgs[0].data))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(quotedprintable.NewReader(msg.Body))
	// French, and the client's ID for an app whose registration is gone.
	if want := "deleted-app peut désormais obtenir votre dossier médical"; !strings.Contains(string(body), want) {
		t.Errorf("body lacks %q:\n%s", want, body)
	}
}

func TestComposeLanguages(t *testing.T) {
	m := NewMailer(MailConfig{}, nil)
	apps := map[string]App{
		"a1": {AuthorizationID: "a1", ClientName: "Growth Chart", Offline: true,
			CreatedAt: time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC), LastUsedAt: time.Date(2025, 6, 2, 8, 0, 0, 0, time.UTC)},
		"a2": {AuthorizationID: "a2", ClientName: "Sleep Diary", Offline: true,
			CreatedAt: time.Date(2025, 1, 5, 8, 0, 0, 0, time.UTC), EndedAt: time.Date(2025, 7, 4, 8, 0, 0, 0, time.UTC),
			EndReason: store.EndRefreshTokenReuse},
		"a3": {AuthorizationID: "a3", ClientName: "Diet Log", Offline: true, CreatedAt: time.Date(2025, 2, 9, 8, 0, 0, 0, time.UTC)},
	}
	d := digest{apps: apps, manageURL: "https://x.example/account", reminders: []store.Reminder{
		{Kind: string(KindReview), AuthorizationIDs: []string{"a1", "a3"}, Dormant: []string{"a3"}},
		{Kind: string(KindSecurity), AuthorizationIDs: []string{"a2"}},
	}}
	tests := []struct {
		lang, language string
		want           []string
	}{
		{"", "en", []string{"Hello,", "- Growth Chart: allowed on March 1, 2025, last used on June 2, 2025.",
			"- Diet Log: allowed on February 9, 2025, not used yet.\r\n  It has not been used for a long time.",
			"we stopped the access of Sleep Diary on July 4, 2025"}},
		{"ja", "en", []string{"Hello,"}},
		{"es-419", "es", []string{"- Growth Chart: autorizada el 1 de marzo de 2025, usada por última vez el 2 de junio de 2025."}},
		{"fr-CA", "fr", []string{"- Growth Chart : autorisée le 1er mars 2025, utilisée pour la dernière fois le 2 juin 2025.",
			"arrêté l'accès de Sleep Diary le 4 juillet 2025"}},
		{"de-AT, en;q=0.5", "de", []string{"- Growth Chart: erlaubt am 1. März 2025, zuletzt verwendet am 2. Juni 2025.",
			"- Diet Log: erlaubt am 9. Februar 2025, noch nie verwendet."}},
	}
	from, to := &mail.Address{Address: "no-reply@example.org"}, &mail.Address{Address: "u@example.org"}
	for _, tt := range tests {
		t.Run(tt.lang, func(t *testing.T) {
			raw, err := m.compose(time.Now(), from, to, tt.lang, d)
			if err != nil {
				t.Fatal(err)
			}
			msg, err := mail.ReadMessage(bytes.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			if got := msg.Header.Get("Content-Language"); got != tt.language {
				t.Errorf("Content-Language = %q, want %q", got, tt.language)
			}
			body, _ := io.ReadAll(quotedprintable.NewReader(msg.Body))
			// Security comes first.
			if s, r := strings.Index(string(body), "Sleep Diary"), strings.Index(string(body), "Growth Chart"); s > r {
				t.Errorf("security paragraph after the review:\n%s", body)
			}
			for _, want := range tt.want {
				if !strings.Contains(string(body), want) {
					t.Errorf("body lacks %q:\n%s", want, body)
				}
			}
		})
	}
}

// TestCatalogsComplete checks that every language has every text.
func TestCatalogsComplete(t *testing.T) {
	cats := catalogs()
	if len(cats) != len(languages()) {
		t.Fatalf("%d catalogs for %d languages", len(cats), len(languages()))
	}
	for i, c := range cats {
		v := reflect.ValueOf(c)
		for f := range v.NumField() {
			field := v.Field(f)
			switch field.Kind() {
			case reflect.String:
				if field.String() == "" && v.Type().Field(f).Name != "day1" {
					t.Errorf("%v: %s is empty", languages()[i], v.Type().Field(f).Name)
				}
			case reflect.Array:
				for j := range field.Len() {
					if field.Index(j).String() == "" {
						t.Errorf("%v: month %d is empty", languages()[i], j+1)
					}
				}
			}
		}
		for _, text := range []string{c.offlineGranted, c.dormant, c.security, c.reviewItem} {
			if !strings.Contains(text, "{app}") {
				t.Errorf("%v: %q does not name the app", languages()[i], text)
			}
		}
	}
}

func TestDisplayName(t *testing.T) {
	tests := []struct{ name, client, want string }{
		{"Growth Chart", "c1", "Growth Chart"},
		{"Evil\r\nBcc: victim@example.org", "c1", "EvilBcc: victim@example.org"},
		{"Right\u202eto left", "c1", "Rightto left"},
		{"  ", "c1", "c1"},
		{strings.Repeat("x", 100), "c1", strings.Repeat("x", 80) + "…"},
	}
	for _, tt := range tests {
		if got := displayName(App{ClientName: tt.name, ClientID: tt.client}); got != tt.want {
			t.Errorf("displayName(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}
