package summary

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

// Patient is what a page shows of a patient.
type Patient struct {
	ID        string
	Name      string
	BirthDate string
	Gender    string
}

// Item is one dated line of a chart: a visit, a condition, an observation.
type Item struct {
	ID    string
	Date  string // YYYY-MM-DD, or "" when unknown
	Text  string
	Value string
}

type codeable struct {
	Text   string `json:"text"`
	Coding []struct {
		Display string `json:"display"`
		Code    string `json:"code"`
	} `json:"coding"`
}

func (c codeable) String() string {
	if c.Text != "" {
		return c.Text
	}
	for _, cd := range c.Coding {
		if cd.Display != "" {
			return cd.Display
		}
	}
	if len(c.Coding) > 0 {
		return c.Coding[0].Code
	}
	return ""
}

// OfPatient summarizes a Patient resource; a resource it cannot read
// still gets its id as the name.
func OfPatient(r store.Resource) Patient {
	var pt struct {
		Name []struct {
			Text   string   `json:"text"`
			Given  []string `json:"given"`
			Family string   `json:"family"`
		} `json:"name"`
		BirthDate string `json:"birthDate"`
		Gender    string `json:"gender"`
	}
	p := Patient{ID: r.ID, Name: "Patient " + r.ID}
	if json.Unmarshal(r.JSON, &pt) != nil {
		return p
	}
	p.BirthDate, p.Gender = pt.BirthDate, pt.Gender
	if len(pt.Name) > 0 {
		n := pt.Name[0]
		name := n.Text
		if name == "" {
			name = strings.TrimSpace(strings.Join(append(append([]string{}, n.Given...), n.Family), " "))
		}
		if name != "" {
			p.Name = name
		}
	}
	return p
}

// OfItems summarizes Encounters, Conditions or Observations, newest first.
func OfItems(rs []store.Resource) []Item {
	out := make([]Item, 0, len(rs))
	for _, r := range rs {
		var v struct {
			Code      codeable               `json:"code"`
			Type      []codeable             `json:"type"`
			Effective string                 `json:"effectiveDateTime"`
			Onset     string                 `json:"onsetDateTime"`
			Recorded  string                 `json:"recordedDate"`
			Period    struct{ Start string } `json:"period"`
			Quantity  *struct {
				Value float64 `json:"value"`
				Unit  string  `json:"unit"`
			} `json:"valueQuantity"`
			ValueString string `json:"valueString"`
		}
		if json.Unmarshal(r.JSON, &v) != nil {
			continue
		}
		it := Item{ID: r.ID, Text: v.Code.String()}
		if it.Text == "" && len(v.Type) > 0 {
			it.Text = v.Type[0].String()
		}
		for _, d := range []string{v.Effective, v.Onset, v.Period.Start, v.Recorded} {
			if len(d) >= 10 {
				it.Date = d[:10]
				break
			}
		}
		switch {
		case v.Quantity != nil:
			it.Value = strings.TrimSpace(fmt.Sprintf("%g %s", v.Quantity.Value, v.Quantity.Unit))
		case v.ValueString != "":
			it.Value = v.ValueString
		}
		out = append(out, it)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Date > out[j].Date })
	return out
}
