package store

import (
	"context"
	"time"
)

// ClientType is the OAuth client profile of a registered app (RFC 6749 §2.1,
// SMART App Launch "client-public" and "client-confidential-*").
type ClientType string

// Client types.
const (
	ClientPublic                 ClientType = "public"
	ClientConfidentialSymmetric  ClientType = "confidential-symmetric"
	ClientConfidentialAsymmetric ClientType = "confidential-asymmetric"
)

// ClientInfo describes an app to the people asked to trust it (RFC 7591
// §2 client metadata); the consent page shows it.
type ClientInfo struct {
	LogoURI   string `json:"logo_uri,omitempty"`
	Publisher string `json:"publisher,omitempty"`
	ClientURI string `json:"client_uri,omitempty"` // the app's home page
	PolicyURI string `json:"policy_uri,omitempty"` // privacy policy
	TOSURI    string `json:"tos_uri,omitempty"`    // terms of service
	// CodeOfConduct names a code of conduct the publisher attests to, such
	// as the CARIN code of conduct, with CodeOfConductURI its text.
	CodeOfConduct    string `json:"code_of_conduct,omitempty"`
	CodeOfConductURI string `json:"code_of_conduct_uri,omitempty"`
}

// Client is a registered SMART app.
type Client struct {
	ID   string
	Name string
	Type ClientType
	// SecretHash is Hash(secret) for confidential-symmetric clients, empty otherwise.
	SecretHash string
	// PreviousSecretHash is the secret replaced by the last rotation, still
	// accepted until PreviousSecretExpiresAt (the overlap period).
	PreviousSecretHash      string
	PreviousSecretExpiresAt time.Time
	// JWKS is the client's public JSON Web Key Set, inline, and JWKSURI
	// where to fetch it; confidential-asymmetric clients have one of them.
	JWKS    string
	JWKSURI string
	// LaunchURL is the app's EHR launch URL.
	LaunchURL string
	Info      ClientInfo
	// RedirectURIs are matched exactly, character for character.
	RedirectURIs []string
	// Scope is the space-separated set of scopes the client may be granted.
	Scope string
	// RequiredScope lists the requested scopes the app cannot work
	// without; the consent page does not offer to untick them.
	RequiredScope string
	CreatedAt     time.Time

	// Token policy for this client; a zero duration takes the server's
	// default.
	AccessTokenTTL time.Duration
	// RefreshIdleTTL is how long a refresh token stays usable unused.
	RefreshIdleTTL time.Duration
	// OfflineLifetime bounds an offline authorization from its creation.
	OfflineLifetime time.Duration
	// RequireDPoP makes every access token of the client DPoP-bound
	// (RFC 9449 §5.2, dpop_bound_access_tokens).
	RequireDPoP bool
}

// Clients stores registered apps.
type Clients interface {
	// CreateClient stores a new client; ErrConflict if the ID is taken.
	CreateClient(ctx context.Context, c Client) error
	// GetClient returns the client with the given ID, or ErrNotFound.
	GetClient(ctx context.Context, id string) (Client, error)
	// ListClients returns every client, ordered by ID.
	ListClients(ctx context.Context) ([]Client, error)
	// UpdateClient replaces every field of the stored client with c's
	// (CreatedAt excepted); ErrNotFound if there is none.
	UpdateClient(ctx context.Context, c Client) error
	// DeleteClient removes the client; ErrNotFound if there is none.
	DeleteClient(ctx context.Context, id string) error
}

// User is a person who signs in at the authorization server.
type User struct {
	ID       string
	Username string
	// PasswordHash is an argon2id PHC string; never a plain password.
	PasswordHash string
	DisplayName  string
	// FHIRUser is a relative reference to the user's own FHIR resource,
	// such as "Patient/123" or "Practitioner/abc".
	FHIRUser string
	// Patients are the Patient ids the user may act for.
	Patients []string
	// AllPatients lets the user act for every patient (a practitioner).
	AllPatients bool
	CreatedAt   time.Time
	// Email, when set, receives reminder digests, in Language (a BCP 47
	// tag; empty for English).
	Email    string
	Language string
}

// Users stores people who sign in.
type Users interface {
	// CreateUser stores a new user; ErrConflict if the ID or username is taken.
	CreateUser(ctx context.Context, u User) error
	// GetUser returns the user with the given ID, or ErrNotFound.
	GetUser(ctx context.Context, id string) (User, error)
	// GetUserByUsername returns the user with the given username, or ErrNotFound.
	GetUserByUsername(ctx context.Context, username string) (User, error)
	// ListUsers returns every user, ordered by ID.
	ListUsers(ctx context.Context) ([]User, error)
}

// Decision records what the user answered on the consent page.
type Decision string

// Decisions.
const (
	DecisionPending  Decision = ""
	DecisionApproved Decision = "approved"
	DecisionDenied   Decision = "denied"
)

// AuthRequest is a validated authorization request waiting for the user to
// sign in, pick a patient and consent. The authorize endpoint creates it; the
// consent pages fill in UserID, PatientID, GrantedScope and Decision; the
// authorize endpoint then takes it (once) to issue a code or an error.
type AuthRequest struct {
	ID            string
	ClientID      string
	RedirectURI   string
	Scope         string // as requested, space-separated
	State         string
	CodeChallenge string // S256 challenge
	Nonce         string
	Aud           string
	CreatedAt     time.Time
	ExpiresAt     time.Time

	UserID       string
	PatientID    string
	GrantedScope string
	Decision     Decision
	// SessionID is the sign-in session the person answered in.
	SessionID string
	// LaunchID is the EHR launch the request came with (Launch.ID), if any.
	LaunchID string
	// ProofHash is Hash of the one-time proof the consent pages hand to the
	// browser that answered; only that browser can complete the request.
	ProofHash string
}

// AuthRequests stores pending authorization requests.
type AuthRequests interface {
	// CreateAuthRequest stores a new request; ErrConflict if the ID is taken.
	CreateAuthRequest(ctx context.Context, r AuthRequest) error
	// GetAuthRequest returns the request, or ErrNotFound.
	GetAuthRequest(ctx context.Context, id string) (AuthRequest, error)
	// UpdateAuthRequest replaces the user-supplied fields (UserID, PatientID,
	// GrantedScope, Decision, SessionID, ProofHash) of a stored request;
	// ErrNotFound if it is gone.
	UpdateAuthRequest(ctx context.Context, r AuthRequest) error
	// TakeAuthRequest deletes the request and returns it. Of any number of
	// concurrent calls for one ID exactly one succeeds; the rest get ErrNotFound.
	TakeAuthRequest(ctx context.Context, id string) (AuthRequest, error)
	// DeleteExpiredAuthRequests deletes the requests whose ExpiresAt is at
	// or before now and returns how many it deleted.
	DeleteExpiredAuthRequests(ctx context.Context, now time.Time) (int, error)
}

// Code is an issued authorization code (RFC 6749 §4.1.2), stored by hash.
type Code struct {
	Hash            string
	AuthorizationID string
	ClientID        string
	RedirectURI     string
	CodeChallenge   string
	Nonce           string
	CreatedAt       time.Time
	ExpiresAt       time.Time
	// UsedAt is set when the code is redeemed.
	UsedAt time.Time
}

// Codes stores authorization codes.
type Codes interface {
	// CreateCode stores a new code; ErrConflict if the hash is taken.
	CreateCode(ctx context.Context, c Code) error
	// ConsumeCode marks the code with the given hash used at time now and
	// returns it. Of any number of concurrent calls exactly one succeeds. A
	// code that was already used is returned with ErrAlreadyUsed; an unknown
	// hash gives ErrNotFound. Expiry is the caller's check.
	ConsumeCode(ctx context.Context, hash string, now time.Time) (Code, error)
	// DeleteExpiredCodes deletes the codes whose ExpiresAt is at or before
	// now and returns how many it deleted.
	DeleteExpiredCodes(ctx context.Context, now time.Time) (int, error)
}

// EndReason says why an authorization ended.
type EndReason string

// End reasons.
const (
	EndUserRevoked       EndReason = "user_revoked"
	EndAdminRevoked      EndReason = "admin_revoked"
	EndRefreshTokenReuse EndReason = "refresh_token_reuse"
	EndExpired           EndReason = "expired"
	EndCodeReplay        EndReason = "code_replay"
	EndClientRevoked     EndReason = "client_revoked"
)

// Authorization is one approval a user gave one app: the record every code,
// refresh token and access token hangs from. Ending it ends all of them.
type Authorization struct {
	ID        string
	UserID    string
	ClientID  string
	PatientID string // launch context; empty when none
	Scope     string // granted, space-separated
	// Offline is true when offline_access was granted.
	Offline bool
	// SessionID, for an online_access authorization, is the sign-in
	// session it lives no longer than.
	SessionID string
	// Context is the launch context the app was granted beyond the patient
	// (encounter, fhirContext, intent, ...), from an EHR launch.
	Context    LaunchContext
	CreatedAt  time.Time
	LastUsedAt time.Time
	// ExpiresAt is when the authorization lapses by itself; zero means never.
	ExpiresAt time.Time
	EndedAt   time.Time
	EndReason EndReason
}

// Live reports whether a is not ended and not expired at now.
func (a Authorization) Live(now time.Time) bool {
	if !a.EndedAt.IsZero() {
		return false
	}
	return a.ExpiresAt.IsZero() || now.Before(a.ExpiresAt)
}

// Authorizations stores authorizations.
type Authorizations interface {
	// CreateAuthorization stores a new authorization; ErrConflict if the ID is taken.
	CreateAuthorization(ctx context.Context, a Authorization) error
	// GetAuthorization returns the authorization, or ErrNotFound.
	GetAuthorization(ctx context.Context, id string) (Authorization, error)
	// EndAuthorization ends the authorization at time at for reason and
	// reports whether this call ended it. Ending an already ended
	// authorization changes nothing, reports false, and is not an error; of
	// concurrent calls exactly one reports true.
	EndAuthorization(ctx context.Context, id string, at time.Time, reason EndReason) (bool, error)
	// TouchAuthorization sets LastUsedAt to at.
	TouchAuthorization(ctx context.Context, id string, at time.Time) error
	// ListEndedAuthorizations returns the IDs of authorizations whose EndedAt
	// is at or after since.
	ListEndedAuthorizations(ctx context.Context, since time.Time) ([]string, error)
	// ListUserAuthorizations returns the user's authorizations, newest first.
	ListUserAuthorizations(ctx context.Context, userID string) ([]Authorization, error)
}

// RefreshToken is an issued refresh token, stored by hash.
type RefreshToken struct {
	Hash            string
	AuthorizationID string
	ClientID        string
	CreatedAt       time.Time
	ExpiresAt       time.Time // zero means no expiry of its own
	// UsedAt is set when the token was rotated; ReplacedBy names its successor.
	UsedAt     time.Time
	ReplacedBy string
	// JKT, when set, binds the token to a DPoP key (RFC 9449 §5): it is
	// usable only with a proof signed by the key with this thumbprint.
	JKT string
}

// RefreshTokens stores refresh tokens.
type RefreshTokens interface {
	// CreateRefreshToken stores a new token; ErrConflict if the hash is taken.
	CreateRefreshToken(ctx context.Context, t RefreshToken) error
	// GetRefreshToken returns the token with the given hash, or ErrNotFound.
	GetRefreshToken(ctx context.Context, hash string) (RefreshToken, error)
	// RotateRefreshToken atomically marks the token with hash oldHash used
	// at now, records next.Hash as its successor, stores next, sets the
	// authorization's LastUsedAt to now, and returns the old token. It
	// returns only once the change is durable. Of any number of concurrent calls for one oldHash
	// exactly one succeeds; the others, and every later call, get the old
	// token with ErrAlreadyUsed. An unknown hash gives ErrNotFound.
	// When ev.Type is not empty, ev is appended to the audit trail in the
	// same transaction (at now when ev.At is zero): a rotation is never
	// stored without its event, and costs no second commit.
	RotateRefreshToken(ctx context.Context, oldHash string, next RefreshToken, now time.Time, ev AuditEvent) (RefreshToken, error)
	// DeleteStaleRefreshTokens deletes at most limit refresh tokens that
	// no longer matter at now — expired ones, those of authorizations that
	// have ended or expired, and used ones beyond the keep most recently
	// used of their authorization — and returns how many it deleted. A
	// replay of a kept used token still ends its authorization; a deleted
	// one is merely unknown. Backends shared by several instances let one
	// sweep at a time and return 0 to the others.
	DeleteStaleRefreshTokens(ctx context.Context, now time.Time, keep, limit int) (int, error)
}

// SigningKey is one of the server's own signing keys. A key is published
// from its creation, signs from ActivatesAt until a newer key of its
// algorithm activates, and verifies until RetiresAt.
type SigningKey struct {
	ID        string // the JWK "kid"
	Algorithm string // JWS algorithm, such as "RS256"
	// PrivateKey is the private key as internal/keys stores it: PKCS #8
	// DER, or that encrypted (the store does not look inside).
	PrivateKey []byte
	CreatedAt  time.Time
	// ActivatesAt is when the key starts signing; zero means at CreatedAt.
	ActivatesAt time.Time
	// RetiresAt, once set, is when every token the key signed has
	// expired: from then on it is neither published nor trusted. Zero
	// while not yet known. A key whose RetiresAt is not after its
	// activation is withdrawn: it never signs.
	RetiresAt time.Time
}

// PrivateKeyReplacement is one compare-and-swap of
// Keys.ReplacePrivateKeys: key ID's stored private key bytes become New if
// they still equal Old.
type PrivateKeyReplacement struct {
	ID       string
	Old, New []byte
}

// Keys stores the server's signing keys.
type Keys interface {
	// CreateKey stores a new key; ErrConflict if the ID is taken.
	CreateKey(ctx context.Context, k SigningKey) error
	// CreateNextKey stores k unless a key of k.Algorithm, not withdrawn,
	// activates after after (at its ActivatesAt, or its CreatedAt when it
	// has none): then, or if the ID is taken, it returns ErrConflict. The
	// check and the insert are one atomic step, also across instances
	// sharing the store, so that of several calls racing to add the next
	// key after the same instant at most one stores its key.
	CreateNextKey(ctx context.Context, k SigningKey, after time.Time) error
	// ListKeys returns every key, oldest first.
	ListKeys(ctx context.Context) ([]SigningKey, error)
	// SetKeyRetirement sets the RetiresAt of key id to at, unless it is
	// already set to an earlier time: a retirement can be brought forward
	// (after "keys rotate --now"), never put off. ErrNotFound for an
	// unknown id.
	SetKeyRetirement(ctx context.Context, id string, at time.Time) error
	// ReplacePrivateKeys makes every replacement of rs, in one atomic
	// step, or none: ErrConflict if the stored bytes of one no longer
	// equal its Old, ErrNotFound if one names an unknown key. (Encrypting
	// the keys at rest is all or nothing: a key in the clear beside
	// encrypted ones is refused.)
	ReplacePrivateKeys(ctx context.Context, rs []PrivateKeyReplacement) error
}

// Session is a person's sign-in at the authorization server. An
// online_access authorization lives only as long as the session it was
// approved in.
type Session struct {
	// ID is Hash of the session cookie's value.
	ID        string
	UserID    string
	CreatedAt time.Time
	ExpiresAt time.Time
	EndedAt   time.Time
}

// Live reports whether the session is neither ended nor expired at now.
func (s Session) Live(now time.Time) bool {
	return s.EndedAt.IsZero() && now.Before(s.ExpiresAt)
}

// Sessions stores sign-in sessions.
type Sessions interface {
	// CreateSession stores a new session; ErrConflict if the ID is taken.
	CreateSession(ctx context.Context, s Session) error
	// GetSession returns the session, or ErrNotFound.
	GetSession(ctx context.Context, id string) (Session, error)
	// EndSession ends the session at time at (signing out). Ending an
	// ended session changes nothing; an unknown ID gives ErrNotFound.
	EndSession(ctx context.Context, id string, at time.Time) error
}

// AuditEvent is one security-relevant event, kept for operators and shown
// to users in their own views.
type AuditEvent struct {
	ID              int64 // assigned by the store, increasing
	At              time.Time
	Type            string // such as "authorization.ended"
	UserID          string
	ClientID        string
	AuthorizationID string
	// Detail is a short machine-readable reason, such as an EndReason,
	// or the scopes granted; never a secret.
	Detail string
	// Address is the network address the request came from, as the
	// server judged it (behind trusted proxies, the forwarded one).
	Address string
}

// AuditQuery selects audit events; empty fields match everything.
type AuditQuery struct {
	UserID          string
	ClientID        string
	AuthorizationID string
	Type            string
	Since           time.Time // events at or after Since
	Before          time.Time // events before Before
	AfterID         int64     // events with IDs above AfterID (paging)
	Limit           int       // default 100
}

// AuditEvents stores the audit trail. It is append-only.
type AuditEvents interface {
	// AppendAuditEvent stores e and returns it with its ID.
	AppendAuditEvent(ctx context.Context, e AuditEvent) (AuditEvent, error)
	// ListAuditEvents returns matching events, oldest first.
	ListAuditEvents(ctx context.Context, q AuditQuery) ([]AuditEvent, error)
}
