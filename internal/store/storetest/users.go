package storetest

import (
	"testing"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

func testUsers(t *testing.T, open Opener) {
	t.Run("RoundTrip", func(t *testing.T) {
		s := open(t)
		tests := []struct {
			name string
			u    store.User
		}{
			{"patient user, every field", store.User{
				ID: "u1", Username: "amy", PasswordHash: "$argon2id$v=19$m=65536,t=1,p=4$c2FsdA$aGFzaA",
				DisplayName: "Amy Shaw", FHIRUser: "Patient/123", Email: "amy@example.org", Language: "es",
				Patients: []string{"123", "456"}, CreatedAt: at(0),
			}},
			{"practitioner, all patients, zero time", store.User{
				ID: "u2", Username: "dr.lee", FHIRUser: "Practitioner/abc", AllPatients: true,
			}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				ctx := t.Context()
				wantErr(t, "CreateUser", s.CreateUser(ctx, tt.u), nil)
				got, err := s.GetUser(ctx, tt.u.ID)
				wantErr(t, "GetUser", err, nil)
				if d := diff(tt.u, got); d != "" {
					t.Errorf("GetUser mismatch (-want +got):\n%s", d)
				}
				wantUTC(t, got.CreatedAt)
				got, err = s.GetUserByUsername(ctx, tt.u.Username)
				wantErr(t, "GetUserByUsername", err, nil)
				if d := diff(tt.u, got); d != "" {
					t.Errorf("GetUserByUsername mismatch (-want +got):\n%s", d)
				}
			})
		}
	})

	t.Run("Errors", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		wantErr(t, "CreateUser", s.CreateUser(ctx, store.User{ID: "u1", Username: "amy"}), nil)
		tests := []struct {
			name string
			u    store.User
		}{
			{"same ID", store.User{ID: "u1", Username: "bob"}},
			{"same username", store.User{ID: "u2", Username: "amy"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				wantErr(t, "CreateUser", s.CreateUser(t.Context(), tt.u), store.ErrConflict)
			})
		}
		_, err := s.GetUser(ctx, "u2")
		wantErr(t, "GetUser after conflict", err, store.ErrNotFound)
		_, err = s.GetUser(ctx, "unknown")
		wantErr(t, "GetUser unknown", err, store.ErrNotFound)
		_, err = s.GetUserByUsername(ctx, "unknown")
		wantErr(t, "GetUserByUsername unknown", err, store.ErrNotFound)
	})
}
