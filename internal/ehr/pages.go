package ehr

import (
	"errors"
	"net/http"
	"net/url"
	"sort"

	"github.com/smartlaunch/smartlaunch/internal/audit"
	"github.com/smartlaunch/smartlaunch/internal/password"
	"github.com/smartlaunch/smartlaunch/internal/ratelimit"
	"github.com/smartlaunch/smartlaunch/internal/signin"
	"github.com/smartlaunch/smartlaunch/internal/store"
	"github.com/smartlaunch/smartlaunch/internal/summary"
)

type homeData struct {
	User     store.User
	Patients []summary.Patient
	Error    string
	// Reminders says the person has reminders about connected apps.
	Reminders bool
}

// home shows the sign-in form, or the signed-in person's patient list.
func (s *Simulator) home(w http.ResponseWriter, r *http.Request) {
	_, u, ok, err := s.cfg.Sessions.Current(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !ok {
		s.cfg.Pages.Render(w, http.StatusOK, "ehr_login.html", homeData{})
		return
	}
	patients, err := s.patients(r, u)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := homeData{User: u, Patients: patients}
	if s.cfg.Reminders != nil {
		if d.Reminders, err = s.cfg.Reminders.HasPending(r.Context(), u.ID); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	s.cfg.Pages.Render(w, http.StatusOK, "ehr_home.html", d)
}

// patients lists the patients u may see, by name.
func (s *Simulator) patients(r *http.Request, u store.User) ([]summary.Patient, error) {
	var rs []store.Resource
	if u.AllPatients {
		var err error
		if rs, _, err = s.cfg.Store.SearchResources(r.Context(), store.ResourceQuery{Type: "Patient", Count: 200}); err != nil {
			return nil, err
		}
	} else {
		for _, id := range u.Patients {
			res, err := s.cfg.Store.GetResource(r.Context(), "Patient", id)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, err
			}
			rs = append(rs, res)
		}
	}
	out := make([]summary.Patient, 0, len(rs))
	for _, res := range rs {
		out = append(out, summary.OfPatient(res))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (s *Simulator) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		s.cfg.Pages.Error(w, http.StatusBadRequest, "The form could not be read.")
		return
	}
	u, err := s.cfg.SignIn.Check(r.Context(), signin.Attempt{Form: audit.FormEHR,
		Username: r.PostForm.Get("username"), Password: r.PostForm.Get("password"), Address: ratelimit.Client(r)})
	var limited *signin.LimitedError
	switch {
	case errors.As(err, &limited):
		ratelimit.SetRetryAfter(w.Header(), limited.Wait)
		s.cfg.Pages.Error(w, http.StatusTooManyRequests, "There have been too many failed sign-ins. Wait a few minutes, then try again.")
		return
	case errors.Is(err, password.ErrMismatch):
		s.cfg.Pages.Render(w, http.StatusUnauthorized, "ehr_login.html", homeData{Error: "That username and password do not match."})
		return
	case err != nil:
		s.fail(w, r, err)
		return
	}
	if _, err := s.cfg.Sessions.Start(r.Context(), w, u); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/ehr", http.StatusSeeOther)
}

func (s *Simulator) logout(w http.ResponseWriter, r *http.Request) {
	if err := s.cfg.Sessions.End(w, r); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/ehr", http.StatusSeeOther)
}

type chartData struct {
	User                                 store.User
	Patient                              summary.Patient
	Encounters, Conditions, Observations []summary.Item
	Apps                                 []store.Client
}

// chart shows one patient: banner, recent visits, conditions, observations,
// and the apps that can be launched for them.
func (s *Simulator) chart(w http.ResponseWriter, r *http.Request) {
	u, patient, ok := s.patientFor(w, r)
	if !ok {
		return
	}
	d := chartData{User: u, Patient: patient}
	for _, part := range []struct {
		typ string
		dst *[]summary.Item
		n   int
	}{{"Encounter", &d.Encounters, 5}, {"Condition", &d.Conditions, 10}, {"Observation", &d.Observations, 10}} {
		rs, _, err := s.cfg.Store.SearchResources(r.Context(), store.ResourceQuery{Type: part.typ, Patient: patient.ID, Count: 200})
		if err != nil {
			s.fail(w, r, err)
			return
		}
		items := summary.OfItems(rs)
		*part.dst = items[:min(part.n, len(items))]
	}
	clients, err := s.cfg.Store.ListClients(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for _, c := range clients {
		if c.LaunchURL != "" {
			d.Apps = append(d.Apps, c)
		}
	}
	s.cfg.Pages.Render(w, http.StatusOK, "ehr_chart.html", d)
}

// patientFor returns the signed-in person and the patient of the path,
// answering the request itself (sign-in redirect, 404) when it cannot.
func (s *Simulator) patientFor(w http.ResponseWriter, r *http.Request) (store.User, summary.Patient, bool) {
	_, u, ok, err := s.cfg.Sessions.Current(r)
	if err != nil {
		s.fail(w, r, err)
		return u, summary.Patient{}, false
	}
	if !ok {
		http.Redirect(w, r, "/ehr", http.StatusSeeOther)
		return u, summary.Patient{}, false
	}
	id := r.PathValue("id")
	if !u.AllPatients && !contains(u.Patients, id) {
		s.cfg.Pages.Error(w, http.StatusNotFound, "There is no such patient on your list.")
		return u, summary.Patient{}, false
	}
	res, err := s.cfg.Store.GetResource(r.Context(), "Patient", id)
	if errors.Is(err, store.ErrNotFound) {
		s.cfg.Pages.Error(w, http.StatusNotFound, "There is no such patient on your list.")
		return u, summary.Patient{}, false
	}
	if err != nil {
		s.fail(w, r, err)
		return u, summary.Patient{}, false
	}
	return u, summary.OfPatient(res), true
}

type embedData struct {
	App       store.Client
	Patient   summary.Patient
	LaunchURL string
}

// launchFromChart launches an app for the chart's patient: in a new window
// (the form targets one; the browser follows the redirect there) or
// embedded in a page of the simulator.
func (s *Simulator) launchFromChart(w http.ResponseWriter, r *http.Request) {
	u, patient, ok := s.patientFor(w, r)
	if !ok {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		s.cfg.Pages.Error(w, http.StatusBadRequest, "The form could not be read.")
		return
	}
	client, err := s.cfg.Store.GetClient(r.Context(), r.PostForm.Get("client_id"))
	if err != nil || client.LaunchURL == "" {
		s.cfg.Pages.Error(w, http.StatusBadRequest, "That app cannot be launched.")
		return
	}
	banner := r.PostForm.Get("mode") != "embedded"
	_, launchURL, err := s.newLaunch(r.Context(), client, u.ID, store.LaunchContext{
		Patient: patient.ID, NeedPatientBanner: &banner, SmartStyleURL: s.StyleURL(),
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if r.PostForm.Get("mode") != "embedded" {
		http.Redirect(w, r, launchURL, http.StatusSeeOther)
		return
	}
	// The embedded app runs in a frame of this page: allow exactly its
	// origin as a frame source, on top of the page's own strict policy.
	if lu, err := url.Parse(launchURL); err == nil {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; frame-src "+lu.Scheme+"://"+lu.Host+
			"; form-action 'self'; frame-ancestors 'self'; base-uri 'none'")
	}
	s.cfg.Pages.Render(w, http.StatusOK, "ehr_embed.html", embedData{App: client, Patient: patient, LaunchURL: launchURL})
}

func (s *Simulator) fail(w http.ResponseWriter, r *http.Request, err error) {
	s.cfg.Logger.ErrorContext(r.Context(), "ehr", "err", err)
	s.cfg.Pages.Error(w, http.StatusInternalServerError, "Something went wrong on our side.")
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
