package upstream

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"unicode/utf8"
)

const (
	upBase = "http://10.0.0.5:8080/fhir"
	pxBase = "https://smart.example/fhir"
)

func TestRewriteURLs(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		from, to string // upBase and pxBase when empty
		want     string
	}{
		{name: "base itself", in: `{"url":"http://10.0.0.5:8080/fhir"}`, want: `{"url":"https://smart.example/fhir"}`},
		{name: "path", in: `{"fullUrl":"http://10.0.0.5:8080/fhir/Patient/1"}`, want: `{"fullUrl":"https://smart.example/fhir/Patient/1"}`},
		{name: "query", in: `["http://10.0.0.5:8080/fhir?_getpages=abc&_offset=20"]`, want: `["https://smart.example/fhir?_getpages=abc&_offset=20"]`},
		{name: "trailing slash", in: `"http://10.0.0.5:8080/fhir/"`, want: `"https://smart.example/fhir/"`},
		{name: "longer path is another base", in: `{"a":"http://10.0.0.5:8080/fhirx/Patient/1","b":"http://10.0.0.5:8080/fhi"}`,
			want: `{"a":"http://10.0.0.5:8080/fhirx/Patient/1","b":"http://10.0.0.5:8080/fhi"}`},
		{name: "not at the start", in: `{"div":"see http://10.0.0.5:8080/fhir/Patient/1"}`, want: `{"div":"see http://10.0.0.5:8080/fhir/Patient/1"}`},
		{name: "keys kept", in: `{"http://10.0.0.5:8080/fhir/x" : "http://10.0.0.5:8080/fhir/x"}`,
			want: `{"http://10.0.0.5:8080/fhir/x" : "https://smart.example/fhir/x"}`},
		{name: "escaped slashes decoded", in: `{"url":"http:\/\/10.0.0.5:8080\/fhir\/Patient\/1"}`, want: `{"url":"https://smart.example/fhir/Patient/1"}`},
		{name: "escapes in the rest kept", in: `{"url":"http://10.0.0.5:8080/fhir/Patient?name=\"O\\Brien\"\u00e9"}`,
			want: `{"url":"https://smart.example/fhir/Patient?name=\"O\\Brien\"é"}`},
		{name: "non-ASCII rest", in: `{"url":"http://10.0.0.5:8080/fhir/Patient?name=Zoë"}`, want: `{"url":"https://smart.example/fhir/Patient?name=Zoë"}`},
		{name: "other strings with escapes untouched", in: `{"div":"<div>\n\"x\"\u00e9 \/</div>","u":"http://10.0.0.5:8080/fhir"}`,
			want: `{"div":"<div>\n\"x\"\u00e9 \/</div>","u":"https://smart.example/fhir"}`},
		{name: "numbers, order and whitespace kept",
			in:   "{ \"z\" : 1.000000000000000000001, \"a\":[ 12345678901234567890 ,\n\t\"http://10.0.0.5:8080/fhir/1\" ], \"e\":1E400, \"t\":true,\"n\":null }",
			want: "{ \"z\" : 1.000000000000000000001, \"a\":[ 12345678901234567890 ,\n\t\"https://smart.example/fhir/1\" ], \"e\":1E400, \"t\":true,\"n\":null }"},
		{name: "nested bundle", in: `{"link":[{"relation":"next","url":"http://10.0.0.5:8080/fhir?_getpages=1"}],"entry":[{"fullUrl":"http://10.0.0.5:8080/fhir/Patient/1","resource":{"resourceType":"Patient","managingOrganization":{"reference":"http://10.0.0.5:8080/fhir/Organization/2"}}}]}`,
			want: `{"link":[{"relation":"next","url":"https://smart.example/fhir?_getpages=1"}],"entry":[{"fullUrl":"https://smart.example/fhir/Patient/1","resource":{"resourceType":"Patient","managingOrganization":{"reference":"https://smart.example/fhir/Organization/2"}}}]}`},
		{name: "to needing escapes", in: `["http://10.0.0.5:8080/fhir/1"]`, to: "https://x/\"q\"\\\n", want: `["https://x/\"q\"\\\n/1"]`},
		{name: "invalid JSON unchanged", in: `{"url":"http://10.0.0.5:8080/fhir"`, want: `{"url":"http://10.0.0.5:8080/fhir"`},
		{name: "trailing garbage unchanged", in: `"http://10.0.0.5:8080/fhir" x`, want: `"http://10.0.0.5:8080/fhir" x`},
		{name: "empty from unchanged", in: `["","/x"]`, from: "-", to: "https://x", want: `["","/x"]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			from, to := tt.from, tt.to
			if from == "" {
				from = upBase
			} else if from == "-" {
				from = ""
			}
			if to == "" {
				to = pxBase
			}
			got := RewriteURLs([]byte(tt.in), from, to)
			if string(got) != tt.want {
				t.Errorf("RewriteURLs(%s)\n got %s\nwant %s", tt.in, got, tt.want)
			}
		})
	}
}

func TestRewriteURLsUnchangedIsSameSlice(t *testing.T) {
	in := []byte(`{"resourceType":"Patient","id":"1","text":{"div":"<div>\"\u00e9\"</div>"}}`)
	got := RewriteURLs(in, upBase, pxBase)
	if &got[0] != &in[0] || len(got) != len(in) {
		t.Errorf("RewriteURLs with nothing to change returned a copy, want b itself")
	}
}

func FuzzRewriteURLs(f *testing.F) {
	seeds := []string{
		`{"url":"http://10.0.0.5:8080/fhir","n":1.50,"k":{"http://10.0.0.5:8080/fhir":[true,null]}}`,
		`["http:\/\/10.0.0.5:8080\/fhir\/a","http://10.0.0.5:8080/fhir?x","http://10.0.0.5:8080/fhirx"]`,
		`{"a":"\u0068ttp://10.0.0.5:8080/fhir/\ud83d\ude00","b":"Zoë\n"}`,
		`"http://10.0.0.5:8080/fhir"`,
		`{"a":`,
		"[\"http://10.0.0.5:8080/fhir/\xff\"]",
	}
	for _, s := range seeds {
		f.Add([]byte(s), upBase, pxBase)
	}
	f.Add([]byte(`["a/b","a?","a","ab"]`), "a", "A")
	f.Add([]byte(`["x/fhir/fhir/y"]`), "x/fhir", "x")
	f.Fuzz(func(t *testing.T, in []byte, from, to string) {
		orig := bytes.Clone(in)
		out := RewriteURLs(in, from, to)
		if !bytes.Equal(in, orig) {
			t.Fatalf("RewriteURLs modified its input")
		}
		if from == "" || !utf8.ValidString(from) || !utf8.ValidString(to) || !json.Valid(in) {
			if !bytes.Equal(out, in) {
				t.Fatalf("RewriteURLs changed input it must leave alone:\n in %q\nout %q", in, out)
			}
			return
		}
		if !json.Valid(out) {
			t.Fatalf("RewriteURLs made invalid JSON:\n in %q\nout %q", in, out)
		}
		checkRewritten(t, in, out, from, to)
		if !strings.HasPrefix(to, from) && !strings.HasPrefix(from, to) {
			if again := RewriteURLs(out, from, to); !bytes.Equal(again, out) {
				t.Fatalf("RewriteURLs is not idempotent:\n once %q\ntwice %q", out, again)
			}
		}
	})
}

// checkRewritten checks, token by token, that out is in with exactly the
// matching string values rewritten, and that out is byte for byte in when
// nothing matched.
func checkRewritten(t *testing.T, in, out []byte, from, to string) {
	t.Helper()
	a, b := jsonTokens(t, in), jsonTokens(t, out)
	if len(a) != len(b) {
		t.Fatalf("token count %d became %d:\n in %q\nout %q", len(a), len(b), in, out)
	}
	changed := false
	for i := range a {
		want := a[i]
		if s, ok := want.value.(string); ok && !want.key &&
			strings.HasPrefix(s, from) && (len(s) == len(from) || s[len(from)] == '/' || s[len(from)] == '?') {
			want.value = to + s[len(from):]
			changed = true
		}
		if b[i] != want {
			t.Fatalf("token %d: got %#v, want %#v:\n in %q\nout %q", i, b[i], want, in, out)
		}
	}
	if !changed && !bytes.Equal(in, out) {
		t.Fatalf("nothing matched but the bytes changed:\n in %q\nout %q", in, out)
	}
}

// token is a JSON token; value is a json.Delim, bool, nil, string or
// json.Number.
type token struct {
	value any
	key   bool // an object key
}

// jsonTokens returns the tokens of the valid JSON document b.
func jsonTokens(t *testing.T, b []byte) []token {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	type frame struct{ object, wantKey bool }
	var stack []frame
	var toks []token
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return toks
		}
		if err != nil {
			t.Fatalf("decoding %q: %v", b, err)
		}
		key := false
		if n := len(stack); n > 0 && stack[n-1].object && tok != json.Delim('}') {
			key = stack[n-1].wantKey
			stack[n-1].wantKey = !key
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, frame{object: true, wantKey: true})
		case json.Delim('['):
			stack = append(stack, frame{})
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		toks = append(toks, token{tok, key})
	}
}
