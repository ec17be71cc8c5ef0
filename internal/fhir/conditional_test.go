package fhir

import (
	"net/http"
	"testing"
	"time"
)

// TestConditionalRead: a read whose If-None-Match names the current
// version, or whose If-Modified-Since is not before the last update, is
// 304 with no body (FHIR R4 http §3.1.0.2.1); otherwise 200. A resource
// the token may not read is 404 whatever the conditions, so a 304 never
// reveals it (D-4).
func TestConditionalRead(t *testing.T) {
	forModes(t, func(t *testing.T, m mode) {
		ts := m.serve(t, sampleStore(t), fakeVerifier{"pt": access("patient/*.rs", p355), "chad": access("patient/*.rs", chad)})
		resp, _ := do(t, "GET", ts.URL+"/fhir/Patient/"+p355, "pt", "", nil)
		etag, modified := resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
		lm, err := http.ParseTime(modified)
		if resp.StatusCode != 200 || etag == "" || err != nil {
			t.Fatalf("read: %d, ETag %q, Last-Modified %q (%v)", resp.StatusCode, etag, modified, err)
		}
		for _, tc := range []struct {
			name, token, header string
			status              int
		}{
			{"same version", "pt", "If-None-Match: " + etag, 304},
			{"same version among others", "pt", `If-None-Match: W/"nope", ` + etag, 304},
			{"any version", "pt", "If-None-Match: *", 304},
			{"other version", "pt", `If-None-Match: W/"nope"`, 200},
			{"not modified since", "pt", "If-Modified-Since: " + modified, 304},
			{"modified since", "pt", "If-Modified-Since: " + lm.Add(-24*time.Hour).Format(http.TimeFormat), 200},
			{"If-None-Match wins over If-Modified-Since", "pt", `If-None-Match: W/"nope"`, 200},
			{"unreadable stays 404", "chad", "If-None-Match: *", 404},
		} {
			t.Run(tc.name, func(t *testing.T) {
				headers := []string{tc.header}
				if tc.name == "If-None-Match wins over If-Modified-Since" {
					headers = append(headers, "If-Modified-Since: "+modified)
				}
				status, body := get(t, ts.URL+"/fhir/Patient/"+p355, tc.token, headers)
				if status != tc.status {
					t.Fatalf("status %d, want %d", status, tc.status)
				}
				if status == 304 && len(body) != 0 {
					t.Errorf("304 with a body of %d bytes", len(body))
				}
				if status == 200 && len(body) == 0 {
					t.Error("200 without the resource")
				}
			})
		}
	})
}
