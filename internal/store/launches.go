package store

import (
	"context"
	"time"
)

// LaunchContext is the context an EHR launch hands an app in the token
// response (SMART App Launch 2.1 §4.8, R-CTX-08..12).
type LaunchContext struct {
	Patient           string             `json:"patient,omitempty"`
	Encounter         string             `json:"encounter,omitempty"`
	FHIRContext       []FHIRContextEntry `json:"fhirContext,omitempty"`
	Intent            string             `json:"intent,omitempty"`
	NeedPatientBanner *bool              `json:"need_patient_banner,omitempty"`
	SmartStyleURL     string             `json:"smart_style_url,omitempty"`
	Tenant            string             `json:"tenant,omitempty"`
}

// FHIRContextEntry is one fhirContext item in the 2.1 form: a relative
// reference and an optional role URI (R-CTX-10, R-CTX-11).
type FHIRContextEntry struct {
	Reference string `json:"reference"`
	Role      string `json:"role,omitempty"`
}

// Launch is a pending EHR launch: an opaque, short-lived launch id made for
// one app, resolving to its context.
type Launch struct {
	// ID is Hash of the launch parameter's value.
	ID       string
	ClientID string
	// UserID, when set, is the only user who may complete the launch.
	UserID    string
	Context   LaunchContext
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Launches stores pending EHR launches.
type Launches interface {
	// CreateLaunch stores a launch; ErrConflict if the ID is taken.
	CreateLaunch(ctx context.Context, l Launch) error
	// GetLaunch returns the launch, or ErrNotFound.
	GetLaunch(ctx context.Context, id string) (Launch, error)
}
