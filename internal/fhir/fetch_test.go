package fhir

import (
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/smartlaunch/smartlaunch/internal/fhirwire"
	"github.com/smartlaunch/smartlaunch/sampledata"
)

// answer is what the server answered to a read or search, with every page
// of a Bundle followed.
type answer struct {
	status  int
	code    string   // OperationOutcome issue code of an error
	ids     []string // "Type/id" of a read, or of the matches, sorted
	include []string // "Type/id" of included resources, sorted
	// withheld and ignored report the outcome entry's issues (D-6, lenient
	// handling).
	withheld bool
	ignored  string
	self     string // the first page's self link
	total    int
}

// bundleJSON is the part of a Bundle the tests read.
type bundleJSON struct {
	ResourceType, Type string
	Total              int
	Link               []struct{ Relation, URL string }
	Entry              []struct {
		FullURL  string
		Resource json.RawMessage
		Search   struct{ Mode string }
	}
}

// fetch GETs path (under /fhir) with the token and the given headers
// ("Name: value"), following next links.
func fetch(t *testing.T, ts *httptest.Server, token, path string, headers ...string) answer {
	t.Helper()
	var ans answer
	next := ts.URL + "/fhir" + path
	for page := 0; next != ""; page++ {
		status, body := get(t, next, token, headers)
		ans.status = status
		if status != http.StatusOK {
			ans.code = outcomeCode(t, body)
			return ans
		}
		var r struct{ ResourceType, ID string }
		if err := json.Unmarshal(body, &r); err != nil {
			t.Fatalf("GET %s: %v", next, err)
		}
		if r.ResourceType != "Bundle" {
			ans.ids = []string{r.ResourceType + "/" + r.ID}
			return ans
		}
		var b bundleJSON
		if err := json.Unmarshal(body, &b); err != nil {
			t.Fatalf("GET %s: %v", next, err)
		}
		next = ""
		for _, l := range b.Link {
			if l.Relation == "next" {
				next = localURL(ts, l.URL)
			}
			if l.Relation == "self" && page == 0 {
				ans.self = l.URL
			}
		}
		ans.total = b.Total
		ans.addEntries(t, b)
	}
	slices.Sort(ans.ids)
	slices.Sort(ans.include)
	ans.include = slices.Compact(ans.include)
	return ans
}

// addEntries records the entries of one Bundle page.
func (ans *answer) addEntries(t *testing.T, b bundleJSON) {
	t.Helper()
	for _, e := range b.Entry {
		var r struct {
			ResourceType, ID string
			Issue            []fhirwire.Issue
		}
		if err := json.Unmarshal(e.Resource, &r); err != nil {
			t.Fatal(err)
		}
		switch e.Search.Mode {
		case "match", "":
			ans.ids = append(ans.ids, r.ResourceType+"/"+r.ID)
		case "include":
			ans.include = append(ans.include, r.ResourceType+"/"+r.ID)
		case "outcome":
			for _, is := range r.Issue {
				ans.withheld = ans.withheld || is.Code == "suppressed"
				if is.Code == "not-supported" {
					ans.ignored = is.Diagnostics
				}
			}
		}
	}
}

func get(t *testing.T, url, token string, headers []string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Add(k, strings.TrimSpace(v))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body
}

// oracleIDs returns the sorted distinct "Type/id" of the sample entries
// keep selects, scanning the Bundles (never the package's indexer).
func oracleIDs(t *testing.T, keep func(e sampleEntry) bool) []string {
	var out []string
	for _, e := range sampleEntries(t) {
		if keep(e) {
			out = append(out, e.Type+"/"+e.ID)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

var (
	cdOnce  sync.Once
	cdTypes map[string]bool
)

// compartmentType reports whether the FHIR R4 patient CompartmentDefinition
// gives typ any parameter (read here from the JSON, for the oracle).
func compartmentType(t *testing.T, typ string) bool {
	cdOnce.Do(func() {
		var cd struct {
			Resource []struct {
				Code  string
				Param []string
			}
		}
		b, err := fs.ReadFile(sampledata.FS, compartmentFile)
		if err == nil {
			err = json.Unmarshal(b, &cd)
		}
		if err != nil {
			panic(err)
		}
		cdTypes = map[string]bool{"Patient": true}
		for _, r := range cd.Resource {
			cdTypes[r.Code] = len(r.Param) > 0
		}
	})
	return cdTypes[typ]
}
