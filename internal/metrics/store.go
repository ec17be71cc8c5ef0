package metrics

import (
	"context"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

// InstrumentStore returns st with every method timed into the
// smartlaunch_store_duration_seconds histogram, labelled with the method's
// name: the same on every backend, and a bounded set.
//
// Every method of store.Store is overridden below; TestStoreEveryMethodTimed
// fails for one that is not, so a method added to the interface must be
// added here too (the embedded Store would otherwise serve it untimed).
func (m *Metrics) InstrumentStore(st store.Store) store.Store {
	return timedStore{Store: st, m: m}
}

// timedStore times each call into the Store it embeds.
type timedStore struct {
	store.Store
	m *Metrics
}

// observe records the time since start as one call of op.
func (ts timedStore) observe(op string, start time.Time) {
	ts.m.store.WithLabelValues(op).Observe(time.Since(start).Seconds())
}

// Clients

func (ts timedStore) CreateClient(ctx context.Context, c store.Client) error {
	defer ts.observe("CreateClient", time.Now())
	return ts.Store.CreateClient(ctx, c)
}

func (ts timedStore) GetClient(ctx context.Context, id string) (store.Client, error) {
	defer ts.observe("GetClient", time.Now())
	return ts.Store.GetClient(ctx, id)
}

func (ts timedStore) ListClients(ctx context.Context) ([]store.Client, error) {
	defer ts.observe("ListClients", time.Now())
	return ts.Store.ListClients(ctx)
}

func (ts timedStore) UpdateClient(ctx context.Context, c store.Client) error {
	defer ts.observe("UpdateClient", time.Now())
	return ts.Store.UpdateClient(ctx, c)
}

func (ts timedStore) DeleteClient(ctx context.Context, id string) error {
	defer ts.observe("DeleteClient", time.Now())
	return ts.Store.DeleteClient(ctx, id)
}

// Users

func (ts timedStore) CreateUser(ctx context.Context, u store.User) error {
	defer ts.observe("CreateUser", time.Now())
	return ts.Store.CreateUser(ctx, u)
}

func (ts timedStore) GetUser(ctx context.Context, id string) (store.User, error) {
	defer ts.observe("GetUser", time.Now())
	return ts.Store.GetUser(ctx, id)
}

func (ts timedStore) GetUserByUsername(ctx context.Context, username string) (store.User, error) {
	defer ts.observe("GetUserByUsername", time.Now())
	return ts.Store.GetUserByUsername(ctx, username)
}

func (ts timedStore) ListUsers(ctx context.Context) ([]store.User, error) {
	defer ts.observe("ListUsers", time.Now())
	return ts.Store.ListUsers(ctx)
}

// AuthRequests

func (ts timedStore) CreateAuthRequest(ctx context.Context, r store.AuthRequest) error {
	defer ts.observe("CreateAuthRequest", time.Now())
	return ts.Store.CreateAuthRequest(ctx, r)
}

func (ts timedStore) GetAuthRequest(ctx context.Context, id string) (store.AuthRequest, error) {
	defer ts.observe("GetAuthRequest", time.Now())
	return ts.Store.GetAuthRequest(ctx, id)
}

func (ts timedStore) UpdateAuthRequest(ctx context.Context, r store.AuthRequest) error {
	defer ts.observe("UpdateAuthRequest", time.Now())
	return ts.Store.UpdateAuthRequest(ctx, r)
}

func (ts timedStore) TakeAuthRequest(ctx context.Context, id string) (store.AuthRequest, error) {
	defer ts.observe("TakeAuthRequest", time.Now())
	return ts.Store.TakeAuthRequest(ctx, id)
}

func (ts timedStore) DeleteExpiredAuthRequests(ctx context.Context, now time.Time) (int, error) {
	defer ts.observe("DeleteExpiredAuthRequests", time.Now())
	return ts.Store.DeleteExpiredAuthRequests(ctx, now)
}

// Codes

func (ts timedStore) CreateCode(ctx context.Context, c store.Code) error {
	defer ts.observe("CreateCode", time.Now())
	return ts.Store.CreateCode(ctx, c)
}

func (ts timedStore) ConsumeCode(ctx context.Context, hash string, now time.Time) (store.Code, error) {
	defer ts.observe("ConsumeCode", time.Now())
	return ts.Store.ConsumeCode(ctx, hash, now)
}

func (ts timedStore) DeleteExpiredCodes(ctx context.Context, now time.Time) (int, error) {
	defer ts.observe("DeleteExpiredCodes", time.Now())
	return ts.Store.DeleteExpiredCodes(ctx, now)
}

// Authorizations

func (ts timedStore) CreateAuthorization(ctx context.Context, a store.Authorization) error {
	defer ts.observe("CreateAuthorization", time.Now())
	return ts.Store.CreateAuthorization(ctx, a)
}

func (ts timedStore) GetAuthorization(ctx context.Context, id string) (store.Authorization, error) {
	defer ts.observe("GetAuthorization", time.Now())
	return ts.Store.GetAuthorization(ctx, id)
}

func (ts timedStore) EndAuthorization(ctx context.Context, id string, at time.Time, reason store.EndReason) (bool, error) {
	defer ts.observe("EndAuthorization", time.Now())
	return ts.Store.EndAuthorization(ctx, id, at, reason)
}

func (ts timedStore) TouchAuthorization(ctx context.Context, id string, at time.Time) error {
	defer ts.observe("TouchAuthorization", time.Now())
	return ts.Store.TouchAuthorization(ctx, id, at)
}

func (ts timedStore) ListEndedAuthorizations(ctx context.Context, since time.Time) ([]string, error) {
	defer ts.observe("ListEndedAuthorizations", time.Now())
	return ts.Store.ListEndedAuthorizations(ctx, since)
}

func (ts timedStore) ListUserAuthorizations(ctx context.Context, userID string) ([]store.Authorization, error) {
	defer ts.observe("ListUserAuthorizations", time.Now())
	return ts.Store.ListUserAuthorizations(ctx, userID)
}

// RefreshTokens

func (ts timedStore) CreateRefreshToken(ctx context.Context, t store.RefreshToken) error {
	defer ts.observe("CreateRefreshToken", time.Now())
	return ts.Store.CreateRefreshToken(ctx, t)
}

func (ts timedStore) GetRefreshToken(ctx context.Context, hash string) (store.RefreshToken, error) {
	defer ts.observe("GetRefreshToken", time.Now())
	return ts.Store.GetRefreshToken(ctx, hash)
}

func (ts timedStore) RotateRefreshToken(ctx context.Context, oldHash string, next store.RefreshToken, now time.Time, ev store.AuditEvent) (store.RefreshToken, error) {
	defer ts.observe("RotateRefreshToken", time.Now())
	return ts.Store.RotateRefreshToken(ctx, oldHash, next, now, ev)
}

func (ts timedStore) DeleteStaleRefreshTokens(ctx context.Context, now time.Time, keep, limit int) (int, error) {
	defer ts.observe("DeleteStaleRefreshTokens", time.Now())
	return ts.Store.DeleteStaleRefreshTokens(ctx, now, keep, limit)
}

// ReplayCache

func (ts timedStore) Remember(ctx context.Context, key string, expiresAt, now time.Time) (bool, error) {
	defer ts.observe("Remember", time.Now())
	return ts.Store.Remember(ctx, key, expiresAt, now)
}

func (ts timedStore) DeleteExpiredReplays(ctx context.Context, now time.Time) (int, error) {
	defer ts.observe("DeleteExpiredReplays", time.Now())
	return ts.Store.DeleteExpiredReplays(ctx, now)
}

// Sessions

func (ts timedStore) CreateSession(ctx context.Context, s store.Session) error {
	defer ts.observe("CreateSession", time.Now())
	return ts.Store.CreateSession(ctx, s)
}

func (ts timedStore) GetSession(ctx context.Context, id string) (store.Session, error) {
	defer ts.observe("GetSession", time.Now())
	return ts.Store.GetSession(ctx, id)
}

func (ts timedStore) EndSession(ctx context.Context, id string, at time.Time) error {
	defer ts.observe("EndSession", time.Now())
	return ts.Store.EndSession(ctx, id, at)
}

// AuditEvents

func (ts timedStore) AppendAuditEvent(ctx context.Context, e store.AuditEvent) (store.AuditEvent, error) {
	defer ts.observe("AppendAuditEvent", time.Now())
	return ts.Store.AppendAuditEvent(ctx, e)
}

func (ts timedStore) ListAuditEvents(ctx context.Context, q store.AuditQuery) ([]store.AuditEvent, error) {
	defer ts.observe("ListAuditEvents", time.Now())
	return ts.Store.ListAuditEvents(ctx, q)
}

// AppStates

func (ts timedStore) CreateAppState(ctx context.Context, s store.AppState) error {
	defer ts.observe("CreateAppState", time.Now())
	return ts.Store.CreateAppState(ctx, s)
}

func (ts timedStore) GetAppState(ctx context.Context, id string) (store.AppState, error) {
	defer ts.observe("GetAppState", time.Now())
	return ts.Store.GetAppState(ctx, id)
}

func (ts timedStore) UpdateAppState(ctx context.Context, s store.AppState, prev int64) error {
	defer ts.observe("UpdateAppState", time.Now())
	return ts.Store.UpdateAppState(ctx, s, prev)
}

func (ts timedStore) DeleteAppState(ctx context.Context, id string, prev int64, at time.Time) error {
	defer ts.observe("DeleteAppState", time.Now())
	return ts.Store.DeleteAppState(ctx, id, prev, at)
}

func (ts timedStore) SearchAppStates(ctx context.Context, q store.AppStateQuery) ([]store.AppState, error) {
	defer ts.observe("SearchAppStates", time.Now())
	return ts.Store.SearchAppStates(ctx, q)
}

// Launches

func (ts timedStore) CreateLaunch(ctx context.Context, l store.Launch) error {
	defer ts.observe("CreateLaunch", time.Now())
	return ts.Store.CreateLaunch(ctx, l)
}

func (ts timedStore) GetLaunch(ctx context.Context, id string) (store.Launch, error) {
	defer ts.observe("GetLaunch", time.Now())
	return ts.Store.GetLaunch(ctx, id)
}

// AccessRecords

func (ts timedStore) AddAccess(ctx context.Context, recs []store.AccessRecord) error {
	defer ts.observe("AddAccess", time.Now())
	return ts.Store.AddAccess(ctx, recs)
}

func (ts timedStore) ListAccess(ctx context.Context, authorizationID string, since time.Time) ([]store.AccessRecord, error) {
	defer ts.observe("ListAccess", time.Now())
	return ts.Store.ListAccess(ctx, authorizationID, since)
}

func (ts timedStore) DeleteAccessBefore(ctx context.Context, before time.Time) (int, error) {
	defer ts.observe("DeleteAccessBefore", time.Now())
	return ts.Store.DeleteAccessBefore(ctx, before)
}

// Keys

func (ts timedStore) CreateKey(ctx context.Context, k store.SigningKey) error {
	defer ts.observe("CreateKey", time.Now())
	return ts.Store.CreateKey(ctx, k)
}

func (ts timedStore) CreateNextKey(ctx context.Context, k store.SigningKey, after time.Time) error {
	defer ts.observe("CreateNextKey", time.Now())
	return ts.Store.CreateNextKey(ctx, k, after)
}

func (ts timedStore) ListKeys(ctx context.Context) ([]store.SigningKey, error) {
	defer ts.observe("ListKeys", time.Now())
	return ts.Store.ListKeys(ctx)
}

func (ts timedStore) SetKeyRetirement(ctx context.Context, id string, at time.Time) error {
	defer ts.observe("SetKeyRetirement", time.Now())
	return ts.Store.SetKeyRetirement(ctx, id, at)
}

func (ts timedStore) ReplacePrivateKeys(ctx context.Context, rs []store.PrivateKeyReplacement) error {
	defer ts.observe("ReplacePrivateKeys", time.Now())
	return ts.Store.ReplacePrivateKeys(ctx, rs)
}

// Resources

func (ts timedStore) PutResources(ctx context.Context, rs []store.Resource) error {
	defer ts.observe("PutResources", time.Now())
	return ts.Store.PutResources(ctx, rs)
}

func (ts timedStore) GetResource(ctx context.Context, typ, id string) (store.Resource, error) {
	defer ts.observe("GetResource", time.Now())
	return ts.Store.GetResource(ctx, typ, id)
}

func (ts timedStore) SearchResources(ctx context.Context, q store.ResourceQuery) ([]store.Resource, int, error) {
	defer ts.observe("SearchResources", time.Now())
	return ts.Store.SearchResources(ctx, q)
}

func (ts timedStore) CountResources(ctx context.Context) (int, error) {
	defer ts.observe("CountResources", time.Now())
	return ts.Store.CountResources(ctx)
}

func (ts timedStore) WriteResources(ctx context.Context, changes []store.Change) error {
	defer ts.observe("WriteResources", time.Now())
	return ts.Store.WriteResources(ctx, changes)
}

func (ts timedStore) ResourceHistory(ctx context.Context, q store.HistoryQuery) ([]store.Resource, error) {
	defer ts.observe("ResourceHistory", time.Now())
	return ts.Store.ResourceHistory(ctx, q)
}

// Reminders

func (ts timedStore) CreateReminder(ctx context.Context, r store.Reminder) error {
	defer ts.observe("CreateReminder", time.Now())
	return ts.Store.CreateReminder(ctx, r)
}

func (ts timedStore) ListUserReminders(ctx context.Context, userID string) ([]store.Reminder, error) {
	defer ts.observe("ListUserReminders", time.Now())
	return ts.Store.ListUserReminders(ctx, userID)
}

func (ts timedStore) SetReminderState(ctx context.Context, id, userID, state string, snoozedUntil, at time.Time) error {
	defer ts.observe("SetReminderState", time.Now())
	return ts.Store.SetReminderState(ctx, id, userID, state, snoozedUntil, at)
}

func (ts timedStore) MarkReminderEmailed(ctx context.Context, id string, at time.Time) error {
	defer ts.observe("MarkReminderEmailed", time.Now())
	return ts.Store.MarkReminderEmailed(ctx, id, at)
}

func (ts timedStore) Close() error {
	defer ts.observe("Close", time.Now())
	return ts.Store.Close()
}
