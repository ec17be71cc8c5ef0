package demo

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/fhir"
	"github.com/smartlaunch/smartlaunch/internal/password"
	"github.com/smartlaunch/smartlaunch/internal/store"
)

// Demo app and user identifiers, documented in README.md.
const (
	PublicClientID       = "demo-public-app"
	ConfidentialClientID = "demo-confidential-app"
	// ConfidentialSecret is the demo confidential app's secret. Sandbox only.
	ConfidentialSecret = "demo-confidential-secret"

	// Sample patients the demo users are linked to (see sampledata/SOURCE.md).
	PatientJill    = "f341c771-5aff-4858-9406-9d45e8a56246" // Jill Tillman
	PatientClaudie = "64f4649d-8d2e-40ae-811d-7316accdf5ee" // Claudie Walsh, a child
	PatientVersie  = "8a6f7e61-55dc-4dc3-bf12-b3531b690b05" // Versie Botsford, a child
	// PractitionerKeeley is the clinician's own Practitioner resource.
	PractitionerKeeley = "11cb6f4d-10ad-4f18-bc2d-7ed1d4ca0e7e" // Dr. Keeley Yundt
)

// RedirectURIs are the demo apps' registered loopback redirect URIs. Being
// loopback IP literals, they match on any port (RFC 8252 §7.3).
var RedirectURIs = []string{"http://127.0.0.1:8000/callback", "http://[::1]:8000/callback"}

// AppScope is what the demo apps may be granted: everything this server
// supports.
const AppScope = "openid fhirUser profile launch launch/patient offline_access online_access patient/*.cruds user/*.cruds"

// User is a demo user with its password.
type User struct {
	store.User
	Password string
}

// Users returns the demo users: a patient, a parent who acts for two
// children (so the picker has a real choice), and a clinician who may see
// every patient.
func Users() []User {
	return []User{
		{User: store.User{ID: "user-patient", Username: "patient", DisplayName: "Jill Tillman",
			FHIRUser: "Patient/" + PatientJill, Patients: []string{PatientJill}}, Password: "patient-demo"},
		{User: store.User{ID: "user-parent", Username: "parent", DisplayName: "Parent of Claudie and Versie",
			Patients: []string{PatientClaudie, PatientVersie}}, Password: "parent-demo"},
		{User: store.User{ID: "user-clinician", Username: "clinician", DisplayName: "Dr. Keeley Yundt",
			FHIRUser: "Practitioner/" + PractitionerKeeley, AllPatients: true}, Password: "clinician-demo"},
	}
}

// Store is the part of the store seeding writes.
type Store interface {
	store.Clients
	store.Users
	store.Resources
}

// Seed creates whatever of the demo set is missing: the sample resources
// (when the store holds none), the demo apps and the demo users. It is
// safe to run on every start and concurrently with another process.
func Seed(ctx context.Context, st Store, sample fs.FS, now time.Time) error {
	n, err := st.CountResources(ctx)
	if err != nil {
		return fmt.Errorf("demo: count resources: %w", err)
	}
	if n == 0 {
		if _, err := fhir.Load(ctx, st, sample); err != nil {
			return fmt.Errorf("demo: load sample data: %w", err)
		}
	}
	clients := []store.Client{
		{ID: PublicClientID, Name: "Demo Patient App", Type: store.ClientPublic,
			RedirectURIs: RedirectURIs, Scope: AppScope, CreatedAt: now},
		{ID: ConfidentialClientID, Name: "Demo Clinic App", Type: store.ClientConfidentialSymmetric,
			SecretHash: store.Hash(ConfidentialSecret), RedirectURIs: RedirectURIs, Scope: AppScope, CreatedAt: now},
	}
	for _, c := range clients {
		if err := st.CreateClient(ctx, c); err != nil && !errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("demo: create client %s: %w", c.ID, err)
		}
	}
	for _, u := range Users() {
		if _, err := st.GetUserByUsername(ctx, u.Username); err == nil {
			continue
		}
		h, err := password.Hash(u.Password)
		if err != nil {
			return err
		}
		u.User.PasswordHash = h
		u.User.CreatedAt = now
		if err := st.CreateUser(ctx, u.User); err != nil && !errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("demo: create user %s: %w", u.Username, err)
		}
	}
	return nil
}
