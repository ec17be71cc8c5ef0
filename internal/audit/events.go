package audit

// The kinds of security event, stored as store.AuditEvent.Type. Each
// says what Detail holds. The Detail of ClientAuthFailed, SignInFailed
// and SignInLimited may end in "; suppressed=N", the number of earlier
// such events a Throttle did not store (see SplitSuppressed).
const (
	// SignInSucceeded: a person signed in; Detail is the form (see the
	// Form constants). UserID is theirs.
	SignInSucceeded = "signin.succeeded"
	// SignInFailed: a sign-in was refused for a wrong user name or
	// password; Detail is the form. UserID is set only when the user name
	// named an existing account, so a password typed into the user name
	// field is never recorded.
	SignInFailed = "signin.failed"
	// SignInLimited: a sign-in was refused unchecked because of too many
	// failures (429); Detail is the form.
	SignInLimited = "signin.limited"
	// AuthorizationGranted: an authorization began (consent given, or a
	// backend client's client_credentials grant); Detail is the granted
	// scopes, space-separated.
	AuthorizationGranted = "authorization.granted"
	// TokenRefreshed: a refresh token was exchanged for new tokens; Detail
	// is empty.
	TokenRefreshed = "token.refreshed"
	// AuthorizationEnded: an authorization ended; Detail is the
	// store.EndReason (refresh_token_reuse and code_replay are replays).
	AuthorizationEnded = "authorization.ended"
	// ClientAuthFailed: a client failed to authenticate at a token,
	// revocation or introspection endpoint; Detail is why, in a few words
	// (never the credential).
	ClientAuthFailed = "client.authentication_failed"
	// ClientRegistered: a client was registered; Detail is how
	// (dynamic_registration or cli).
	ClientRegistered = "client.registered"
	// ClientChanged: a client's registration changed; Detail is what
	// (updated, secret_rotated, removed).
	ClientChanged = "client.changed"
	// KeysRotated: new signing keys were made; Detail is their key ids,
	// space-separated.
	KeysRotated = "keys.rotated"
	// ConsentTampered: a consent form came back altered; Detail is the
	// altered field.
	ConsentTampered = "consent.tampered"
)

// The sign-in forms, as Detail of the sign-in events.
const (
	FormAuthorize = "authorize" // the sign-in of an authorization request
	FormAccount   = "account"   // the connected-apps pages
	FormEHR       = "ehr"       // the EHR simulator
)

// Outcome is how an event ended, as FHIR AuditEvent.outcome codes it.
type Outcome string

// Outcomes (http://hl7.org/fhir/audit-event-outcome).
const (
	Success        Outcome = "0"
	MinorFailure   Outcome = "4" // a refused attempt: a wrong password, a failed client authentication
	SeriousFailure Outcome = "8" // a sign of attack: a replay, tampering
)

// OutcomeOf returns the outcome of an event of type typ with detail.
func OutcomeOf(typ, detail string) Outcome {
	switch typ {
	case SignInFailed, SignInLimited, ClientAuthFailed:
		return MinorFailure
	case ConsentTampered:
		return SeriousFailure
	case AuthorizationEnded:
		if detail == "refresh_token_reuse" || detail == "code_replay" {
			return SeriousFailure
		}
	}
	return Success
}

// Types lists every event type, for documentation and tests.
var Types = []string{SignInSucceeded, SignInFailed, SignInLimited, AuthorizationGranted, TokenRefreshed,
	AuthorizationEnded, ClientAuthFailed, ClientRegistered, ClientChanged, KeysRotated, ConsentTampered}
