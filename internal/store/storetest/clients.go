package storetest

import (
	"testing"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

func testClients(t *testing.T, open Opener) {
	t.Run("RoundTrip", func(t *testing.T) {
		s := open(t)
		tests := []struct {
			name string
			c    store.Client
		}{
			{"confidential, every field", store.Client{
				ID: "client-conf", Name: "Growth Chart", Type: store.ClientConfidentialSymmetric,
				SecretHash:     store.Hash("s3cret"),
				RedirectURIs:   []string{"https://app.example/cb", "http://localhost:8080/cb?x=1"},
				Scope:          "launch openid fhirUser patient/*.rs offline_access",
				CreatedAt:      at(0),
				AccessTokenTTL: 5 * time.Minute, RefreshIdleTTL: 24 * time.Hour,
				OfflineLifetime: 90 * 24 * time.Hour, RequireDPoP: true,
				PreviousSecretHash: store.Hash("old"), PreviousSecretExpiresAt: at(time.Hour),
				LaunchURL: "https://app.example/launch", RequiredScope: "launch openid",
				Info: store.ClientInfo{LogoURI: "https://app.example/logo.png", Publisher: "Example Health",
					ClientURI: "https://app.example", PolicyURI: "https://app.example/privacy", TOSURI: "https://app.example/terms",
					CodeOfConduct: "CARIN Alliance Code of Conduct", CodeOfConductURI: "https://carinalliance.com/code-of-conduct/"},
			}},
			{"asymmetric, keys", store.Client{
				ID: "client-asym", Name: "Backend", Type: store.ClientConfidentialAsymmetric,
				JWKS: `{"keys":[]}`, JWKSURI: "https://app.example/jwks.json", Scope: "system/*.rs", CreatedAt: at(0),
			}},
			{"public, zero time, no URIs", store.Client{
				ID: "client-pub", Name: "", Type: store.ClientPublic,
			}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				ctx := t.Context()
				wantErr(t, "CreateClient", s.CreateClient(ctx, tt.c), nil)
				got, err := s.GetClient(ctx, tt.c.ID)
				wantErr(t, "GetClient", err, nil)
				if d := diff(tt.c, got); d != "" {
					t.Errorf("GetClient mismatch (-want +got):\n%s", d)
				}
				wantUTC(t, got.CreatedAt)
			})
		}
	})

	t.Run("UpdateDelete", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		c := store.Client{ID: "c1", Name: "first", Type: store.ClientConfidentialSymmetric, SecretHash: store.Hash("a"),
			RedirectURIs: []string{"https://app.example/cb"}, Scope: "openid", CreatedAt: at(0)}
		wantErr(t, "CreateClient", s.CreateClient(ctx, c), nil)
		c.Name, c.SecretHash, c.PreviousSecretHash, c.PreviousSecretExpiresAt = "second", store.Hash("b"), store.Hash("a"), at(time.Hour)
		c.RedirectURIs, c.Info.Publisher, c.RequireDPoP = []string{"https://app.example/cb2"}, "Pub", true
		wantErr(t, "UpdateClient", s.UpdateClient(ctx, c), nil)
		got, err := s.GetClient(ctx, "c1")
		wantErr(t, "GetClient", err, nil)
		if d := diff(c, got); d != "" {
			t.Errorf("after UpdateClient (-want +got):\n%s", d)
		}
		wantErr(t, "UpdateClient unknown", s.UpdateClient(ctx, store.Client{ID: "nope"}), store.ErrNotFound)
		wantErr(t, "DeleteClient", s.DeleteClient(ctx, "c1"), nil)
		_, err = s.GetClient(ctx, "c1")
		wantErr(t, "GetClient deleted", err, store.ErrNotFound)
		wantErr(t, "DeleteClient again", s.DeleteClient(ctx, "c1"), store.ErrNotFound)
	})

	t.Run("Errors", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		c := store.Client{ID: "dup", Name: "first", Type: store.ClientPublic, CreatedAt: at(0)}
		wantErr(t, "CreateClient", s.CreateClient(ctx, c), nil)
		c.Name = "second"
		wantErr(t, "CreateClient duplicate", s.CreateClient(ctx, c), store.ErrConflict)
		got, err := s.GetClient(ctx, "dup")
		wantErr(t, "GetClient", err, nil)
		if got.Name != "first" {
			t.Errorf("after conflict: Name = %q, want %q", got.Name, "first")
		}
		_, err = s.GetClient(ctx, "unknown")
		wantErr(t, "GetClient unknown", err, store.ErrNotFound)
	})

	t.Run("ListOrderedByID", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		got, err := s.ListClients(ctx)
		wantErr(t, "ListClients empty", err, nil)
		if len(got) != 0 {
			t.Fatalf("ListClients on empty store: got %d clients, want 0", len(got))
		}
		// Created in an order that is neither by ID nor by creation time.
		for i, id := range []string{"c", "a", "b"} {
			c := store.Client{ID: id, Name: id, Type: store.ClientPublic, CreatedAt: at(-time.Duration(i) * time.Second)}
			wantErr(t, "CreateClient "+id, s.CreateClient(ctx, c), nil)
		}
		got, err = s.ListClients(ctx)
		wantErr(t, "ListClients", err, nil)
		var ids []string
		for _, c := range got {
			ids = append(ids, c.ID)
		}
		if d := diff([]string{"a", "b", "c"}, ids); d != "" {
			t.Errorf("ListClients IDs (-want +got):\n%s", d)
		}
	})
}
