package reminders

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/language"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

// MailConfig says how to reach the SMTP server that relays the digests.
type MailConfig struct {
	// Addr is the server's host:port.
	Addr string
	// From is the sender address, such as
	// "Health Record <no-reply@example.org>".
	From string
	// Username and Password, when set, authenticate with SMTP AUTH PLAIN,
	// which is only sent over TLS (STARTTLS) or to localhost.
	Username, Password string
}

// AddressFunc returns the email address of a user and their preferred
// language (a BCP 47 tag, or an Accept-Language value; empty for the
// default); ok is false when the user has no address and gets no email.
type AddressFunc func(ctx context.Context, userID string) (email, lang string, ok bool)

// Mailer sends reminder digests through SMTP (RFC 5321), one plain-text
// message per user per run. It uses STARTTLS whenever the server offers it.
type Mailer struct {
	cfg       MailConfig
	addresses AddressFunc
	matcher   language.Matcher
	catalogs  []catalog
}

// NewMailer returns a Mailer for cfg. The store holds no email addresses:
// addresses supplies them (and each user's language) at send time.
func NewMailer(cfg MailConfig, addresses AddressFunc) *Mailer {
	return &Mailer{
		cfg: cfg, addresses: addresses,
		matcher: language.NewMatcher(languages()), catalogs: catalogs(),
	}
}

// digest is what one user's email is about: their new reminders, and the
// apps those name, by authorization id.
type digest struct {
	reminders []store.Reminder
	apps      map[string]App
	manageURL string
}

// send emails d to the user, if they have an address, and reports whether
// it did.
func (m *Mailer) send(ctx context.Context, now time.Time, userID string, d digest) (bool, error) {
	email, lang, ok := m.addresses(ctx, userID)
	if !ok || email == "" {
		return false, nil
	}
	from, err := mail.ParseAddress(m.cfg.From)
	if err != nil {
		return false, fmt.Errorf("reminders: mail from %q: %w", m.cfg.From, err)
	}
	to, err := mail.ParseAddress(email)
	if err != nil {
		return false, fmt.Errorf("reminders: address of user %s: %w", userID, err)
	}
	msg, err := m.compose(now, from, to, lang, d)
	if err != nil {
		return false, err
	}
	if err := m.deliver(ctx, from.Address, to.Address, msg); err != nil {
		return false, fmt.Errorf("reminders: mail to user %s: %w", userID, err)
	}
	return true, nil
}

// deliver hands msg to the SMTP server for one recipient.
func (m *Mailer) deliver(ctx context.Context, from, to string, msg []byte) error {
	host, _, err := net.SplitHostPort(m.cfg.Addr)
	if err != nil {
		return err
	}
	var dialer net.Dialer
	conn, err := dialer.DialContext(ctx, "tcp", m.cfg.Addr)
	if err != nil {
		return err
	}
	// net/smtp takes no context: a cancelled ctx unblocks it through the
	// connection's deadline.
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return err
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); ok {
		if err := c.StartTLS(&tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}); err != nil {
			return err
		}
	}
	if m.cfg.Username != "" {
		// PlainAuth refuses to send the password unencrypted except to localhost.
		if err := c.Auth(smtp.PlainAuth("", m.cfg.Username, m.cfg.Password, host)); err != nil {
			return err
		}
	}
	if err := c.Mail(from); err != nil {
		return err
	}
	if err := c.Rcpt(to); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(msg); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

// compose writes the message (RFC 5322): headers, then the digest as
// quoted-printable UTF-8 text.
func (m *Mailer) compose(now time.Time, from, to *mail.Address, lang string, d digest) ([]byte, error) {
	_, i := language.MatchStrings(m.matcher, lang)
	cat := m.catalogs[i]
	tag := languages()[i]

	id := make([]byte, 16)
	rand.Read(id)
	domain := "smartlaunch.invalid"
	if at := strings.LastIndexByte(from.Address, '@'); at >= 0 {
		domain = from.Address[at+1:]
	}
	var b bytes.Buffer
	for _, h := range [][2]string{
		{"From", from.String()},
		{"To", (&mail.Address{Address: to.Address}).String()},
		{"Subject", mime.QEncoding.Encode("UTF-8", cat.subject)},
		{"Date", now.Format(time.RFC1123Z)},
		{"Message-ID", "<" + hex.EncodeToString(id) + "@" + domain + ">"},
		{"MIME-Version", "1.0"},
		{"Content-Type", "text/plain; charset=UTF-8"},
		{"Content-Transfer-Encoding", "quoted-printable"},
		{"Content-Language", tag.String()},
		// RFC 3834: no auto-replies to this message.
		{"Auto-Submitted", "auto-generated"},
	} {
		writeHeader(&b, h[0], h[1])
	}
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	if _, err := qp.Write([]byte(cat.body(d))); err != nil {
		return nil, err
	}
	if err := qp.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// writeHeader writes one header field, folding it between words (such as
// the encoded words of the Subject) so that lines stay within 78
// characters where they can (RFC 5322 §2.1.1).
func writeHeader(b *bytes.Buffer, name, value string) {
	line := name + ":"
	for _, word := range strings.Fields(value) {
		if len(line)+1+len(word) > 78 && line != "" {
			b.WriteString(line + "\r\n")
			line = ""
		}
		line += " " + word
	}
	b.WriteString(line + "\r\n")
}

// body is the digest's text: a greeting, one paragraph per reminder
// (security first, confirmations last), the management link.
func (c catalog) body(d digest) string {
	var b strings.Builder
	line := func(s string) { b.WriteString(s + "\r\n") }
	line(c.greeting)
	line("")
	line(c.intro)
	for _, k := range []Kind{KindSecurity, KindDormant, KindReview, KindOfflineGranted} {
		for _, r := range d.reminders {
			if Kind(r.Kind) != k {
				continue
			}
			line("")
			c.paragraph(line, r, d.apps)
		}
	}
	line("")
	line(c.manage)
	line(d.manageURL)
	line("")
	line(c.footer)
	return b.String()
}

// paragraph writes reminder r in plain words.
func (c catalog) paragraph(line func(string), r store.Reminder, apps map[string]App) {
	ids := make([]string, 0, len(r.AuthorizationIDs))
	for _, id := range r.AuthorizationIDs {
		if _, ok := apps[id]; ok { // an authorization deleted since: nothing to say
			ids = append(ids, id)
		}
	}
	fill := func(text string, a App) string {
		return strings.NewReplacer("{app}", displayName(a), "{date}", c.date(a.CreatedAt),
			"{used}", c.date(a.idleSince())).Replace(text)
	}
	switch Kind(r.Kind) {
	case KindOfflineGranted:
		for _, id := range ids {
			line(fill(c.offlineGranted, apps[id]))
		}
	case KindDormant:
		for _, id := range ids {
			line(fill(c.dormant, apps[id]))
		}
	case KindSecurity:
		for _, id := range ids {
			a := apps[id]
			a.CreatedAt = a.EndedAt // {date} is when access was stopped
			line(fill(c.security, a))
		}
	case KindReview:
		line(c.reviewHead)
		for _, id := range ids {
			a := apps[id]
			item := c.reviewItem
			if !a.LastUsedAt.After(a.CreatedAt) {
				item = c.reviewItemNever
			}
			line(fill(item, a))
			for _, dormant := range r.Dormant {
				if dormant == id {
					line(c.reviewDormant)
				}
			}
		}
	}
}

// displayName is the app's name made safe for a line of plain text: app
// developers choose it, so control and bidirectional-formatting characters
// are dropped and it is cut to 80 characters.
func displayName(a App) string {
	name := strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return -1
		}
		return r
	}, strings.TrimSpace(a.ClientName))
	if r := []rune(name); len(r) > 80 {
		name = string(r[:80]) + "…"
	}
	if name == "" {
		return a.ClientID
	}
	return name
}
