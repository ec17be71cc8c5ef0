package ehr

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

// launchAPIScope is the scope a caller of the launch API needs (granted
// by client_credentials to an operator-registered client).
const launchAPIScope = "__launch"

// launchRequest is the launch API's body.
type launchRequest struct {
	ClientID          string                   `json:"client_id"`
	Patient           string                   `json:"patient"`
	Encounter         string                   `json:"encounter"`
	FHIRContext       []store.FHIRContextEntry `json:"fhirContext"`
	Intent            string                   `json:"intent"`
	NeedPatientBanner *bool                    `json:"need_patient_banner"`
	Tenant            string                   `json:"tenant"`
	// User, a username, restricts the launch to that person.
	User string `json:"user"`
}

// fhirReference is a relative reference Type/id (FHIR id rules), with an
// optional version (R-CTX-10).
var fhirReference = regexp.MustCompile(`^[A-Z][A-Za-z]+/[A-Za-z0-9\-.]{1,64}(/_history/[A-Za-z0-9\-.]{1,64})?$`)

// launchAPI creates a launch: POST /ehr/api/launches with a bearer token
// carrying the __launch scope and a JSON launchRequest; 201 with the
// launch id and the URL that opens the app.
func (s *Simulator) launchAPI(w http.ResponseWriter, r *http.Request) {
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") || token == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="ehr"`)
		apiError(w, http.StatusUnauthorized, "invalid_token", "a bearer token with the __launch scope is required")
		return
	}
	_, scope, err := s.cfg.Verifier.VerifyBearer(r.Context(), strings.TrimSpace(token))
	if err != nil || !slices.Contains(strings.Fields(scope), launchAPIScope) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="ehr", error="invalid_token"`)
		apiError(w, http.StatusUnauthorized, "invalid_token", "a bearer token with the __launch scope is required")
		return
	}
	var req launchRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		apiError(w, http.StatusBadRequest, "invalid_request", "the body must be a JSON launch request")
		return
	}
	l, status, msg := s.checkLaunchRequest(r, req)
	if status != 0 {
		apiError(w, status, "invalid_request", msg)
		return
	}
	client, _ := s.cfg.Store.GetClient(r.Context(), req.ClientID)
	value, launchURL, err := s.newLaunch(r.Context(), client, l.UserID, l.Context)
	if err != nil {
		s.cfg.Logger.ErrorContext(r.Context(), "ehr: launch API", "err", err)
		apiError(w, http.StatusInternalServerError, "server_error", "internal error")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(map[string]string{"launch": value, "launch_url": launchURL})
}

// checkLaunchRequest validates a launch request against the data: a
// registered app with a launch URL, an existing patient and encounter,
// well-formed fhirContext, and a user who may act for the patient.
func (s *Simulator) checkLaunchRequest(r *http.Request, req launchRequest) (store.Launch, int, string) {
	ctx := r.Context()
	l := store.Launch{Context: store.LaunchContext{Patient: req.Patient, Encounter: req.Encounter,
		FHIRContext: req.FHIRContext, Intent: req.Intent, NeedPatientBanner: req.NeedPatientBanner,
		Tenant: req.Tenant, SmartStyleURL: s.StyleURL()}}
	c, err := s.cfg.Store.GetClient(ctx, req.ClientID)
	if err != nil || c.LaunchURL == "" {
		return l, http.StatusBadRequest, "client_id must name a registered app with a launch URL"
	}
	for typ, id := range map[string]string{"Patient": req.Patient, "Encounter": req.Encounter} {
		if id == "" {
			continue
		}
		if _, err := s.cfg.Store.GetResource(ctx, typ, id); err != nil {
			return l, http.StatusBadRequest, typ + " " + id + " does not exist"
		}
	}
	for _, fc := range req.FHIRContext {
		if !fhirReference.MatchString(fc.Reference) {
			return l, http.StatusBadRequest, "each fhirContext entry needs a relative reference such as ImagingStudy/123"
		}
		if fc.Role != "" {
			if u, err := url.Parse(fc.Role); err != nil || !u.IsAbs() {
				return l, http.StatusBadRequest, "a fhirContext role must be an absolute URI"
			}
		}
	}
	if req.User != "" {
		u, err := s.cfg.Store.GetUserByUsername(ctx, req.User)
		if errors.Is(err, store.ErrNotFound) {
			return l, http.StatusBadRequest, "no such user"
		}
		if err != nil {
			return l, http.StatusInternalServerError, "internal error"
		}
		if req.Patient != "" && !u.AllPatients && !contains(u.Patients, req.Patient) {
			return l, http.StatusBadRequest, "that user may not act for that patient"
		}
		l.UserID = u.ID
	}
	return l, 0, ""
}

func apiError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}
