package consent

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/smartlaunch/smartlaunch/internal/store"
	"github.com/smartlaunch/smartlaunch/internal/summary"
)

// maxChoices bounds the picker for users who may see every patient.
const maxChoices = 200

// patientChoices lists the patients u may act for, with their names.
func (p *Pages) patientChoices(ctx context.Context, u store.User) ([]summary.Patient, error) {
	var rs []store.Resource
	if u.AllPatients {
		var err error
		rs, _, err = p.cfg.Store.SearchResources(ctx, store.ResourceQuery{Type: "Patient", Count: maxChoices})
		if err != nil {
			return nil, fmt.Errorf("consent: list patients: %w", err)
		}
	} else {
		for _, id := range u.Patients {
			r, err := p.cfg.Store.GetResource(ctx, "Patient", id)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("consent: get patient: %w", err)
			}
			rs = append(rs, r)
		}
	}
	out := make([]summary.Patient, 0, len(rs))
	for _, r := range rs {
		out = append(out, summary.OfPatient(r))
	}
	return out, nil
}

type pickData struct {
	page
	RequestID  string
	ClientName string
	Patients   []summary.Patient
}

func (p *Pages) pickPage(w http.ResponseWriter, r *http.Request) {
	req, c, u, err := p.boundRequest(r, r.URL.Query().Get("request"))
	if err != nil {
		p.fail(w, r, err)
		return
	}
	choices, err := p.patientChoices(r.Context(), u)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	pg, _ := p.newPage(w, r, "pick.title")
	p.cfg.Pages.Render(w, http.StatusOK, "pick.html", pickData{page: pg, RequestID: req.ID, ClientName: c.Name, Patients: choices})
}

func (p *Pages) pick(w http.ResponseWriter, r *http.Request) {
	f, err := form(w, r)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	req, _, u, err := p.boundRequest(r, f.Get("request"))
	if err != nil {
		p.fail(w, r, err)
		return
	}
	choices, err := p.patientChoices(r.Context(), u)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	chosen := f.Get("patient")
	ok := false
	for _, ch := range choices {
		ok = ok || ch.ID == chosen
	}
	if !ok {
		p.tampered(r, req, "patient")
		p.fail(w, r, &errPage{status: http.StatusForbidden, msg: "You cannot choose that patient."})
		return
	}
	req.PatientID = chosen
	if err := p.cfg.Store.UpdateAuthRequest(r.Context(), req); err != nil {
		p.fail(w, r, err)
		return
	}
	redirect(w, r, "/consent", req.ID)
}
