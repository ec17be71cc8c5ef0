package upstream

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
)

// dropOdd keeps the entries whose "n" is even, recomputes total, and
// rewrites the self link: the shape of a real search filter.
var dropOdd = BundleFilter{
	Entry: func(e json.RawMessage) (json.RawMessage, bool, error) {
		var v struct{ N int }
		if err := json.Unmarshal(e, &v); err != nil {
			return nil, false, err
		}
		return nil, v.N%2 == 0, nil
	},
	Field: func(name string, v json.RawMessage) (json.RawMessage, bool) {
		switch name {
		case "total":
			return nil, false
		case "link":
			return json.RawMessage(`[{"relation":"self","url":"filtered"}]`), true
		}
		return nil, true
	},
	Trailer: func(kept, dropped int) map[string]json.RawMessage {
		return map[string]json.RawMessage{"total": json.RawMessage(strconv.Itoa(kept))}
	},
}

func TestBundleFilterCopy(t *testing.T) {
	tests := []struct {
		name        string
		filter      BundleFilter
		in          string
		want        string
		kept, dropd int
	}{
		{name: "zero filter copies",
			in:   `{"resourceType":"Bundle","type":"searchset","total":2,"entry":[{"n":1},{"n":2}],"link":[{"relation":"self","url":"x"}]}`,
			want: `{"resourceType":"Bundle","type":"searchset","total":2,"entry":[{"n":1},{"n":2}],"link":[{"relation":"self","url":"x"}]}`,
			kept: 2},
		{name: "whitespace inside values kept, numbers exact",
			in:   "{ \"resourceType\" : \"Bundle\" ,\n \"total\": 1.0e0, \"entry\" : [ {\"n\": 12345678901234567890123} ,\n {\"x\" : [ 1 ]} ] }",
			want: `{"resourceType":"Bundle","total":1.0e0,"entry":[{"n": 12345678901234567890123},{"x" : [ 1 ]}]}`,
			kept: 2},
		{name: "filter drops, changes and adds members", filter: dropOdd,
			in:   `{"resourceType":"Bundle","type":"searchset","total":4,"link":[{"relation":"self","url":"x"}],"entry":[{"n":1},{"n":2},{"n":3},{"n":4}],"meta":{}}`,
			want: `{"resourceType":"Bundle","type":"searchset","link":[{"relation":"self","url":"filtered"}],"entry":[{"n":2},{"n":4}],"meta":{},"total":2}`,
			kept: 2, dropd: 2},
		{name: "no entry kept leaves entry out", filter: dropOdd,
			in:    `{"resourceType":"Bundle","total":2,"entry":[{"n":1},{"n":3}],"type":"searchset"}`,
			want:  `{"resourceType":"Bundle","type":"searchset","total":0}`,
			dropd: 2},
		{name: "empty entry array left out",
			in:   `{"resourceType":"Bundle","entry":[],"total":0}`,
			want: `{"resourceType":"Bundle","total":0}`},
		{name: "no entry member",
			in:   `{"resourceType":"Bundle","type":"searchset","total":0}`,
			want: `{"resourceType":"Bundle","type":"searchset","total":0}`},
		{name: "entry rewritten",
			filter: BundleFilter{Entry: func(e json.RawMessage) (json.RawMessage, bool, error) {
				return bytes.ReplaceAll(e, []byte("secret"), []byte("******")), true, nil
			}},
			in:   `{"resourceType":"Bundle","entry":[{"v":"secret"},{"v":"ok"}]}`,
			want: `{"resourceType":"Bundle","entry":[{"v":"******"},{"v":"ok"}]}`,
			kept: 2},
		{name: "every member held back",
			filter: BundleFilter{
				Field:   func(string, json.RawMessage) (json.RawMessage, bool) { return nil, false },
				Entry:   func(json.RawMessage) (json.RawMessage, bool, error) { return nil, false, nil },
				Trailer: func(int, int) map[string]json.RawMessage { return nil },
			},
			in:    `{"resourceType":"Bundle","entry":[{}]}`,
			want:  `{}`,
			dropd: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			kept, dropped, err := tt.filter.Copy(&out, strings.NewReader(tt.in))
			if err != nil {
				t.Fatalf("Copy: %v", err)
			}
			if got := out.String(); got != tt.want {
				t.Errorf("Copy wrote\n%s\nwant\n%s", got, tt.want)
			}
			if kept != tt.kept || dropped != tt.dropd {
				t.Errorf("Copy = %d kept, %d dropped; want %d, %d", kept, dropped, tt.kept, tt.dropd)
			}
		})
	}
}

func TestBundleFilterCopyErrors(t *testing.T) {
	errEntry := errors.New("entry refused")
	errWrite := errors.New("client gone")
	refuse := BundleFilter{Entry: func(json.RawMessage) (json.RawMessage, bool, error) { return nil, false, errEntry }}
	clash := BundleFilter{Trailer: func(int, int) map[string]json.RawMessage {
		return map[string]json.RawMessage{"total": json.RawMessage("1")}
	}}
	ok := `{"resourceType":"Bundle","total":1,"entry":[{"n":1}]}`
	tests := []struct {
		name    string
		filter  BundleFilter
		r       io.Reader
		w       io.Writer
		wantErr error
		notErr  error  // must not match
		msg     string // when set, in the error text
	}{
		{name: "array", r: strings.NewReader(`[{"resourceType":"Bundle"}]`), wantErr: ErrBadResponse},
		{name: "string", r: strings.NewReader(`"Bundle"`), wantErr: ErrBadResponse},
		{name: "null", r: strings.NewReader(`null`), wantErr: ErrBadResponse},
		{name: "empty", r: strings.NewReader(``), wantErr: ErrBadResponse},
		{name: "XML", r: strings.NewReader(`<Bundle xmlns="http://hl7.org/fhir"/>`), wantErr: ErrBadResponse},
		{name: "entry object", r: strings.NewReader(`{"resourceType":"Bundle","entry":{"n":1}}`), wantErr: ErrBadResponse},
		{name: "entry null", r: strings.NewReader(`{"resourceType":"Bundle","entry":null}`), wantErr: ErrBadResponse},
		{name: "two entry members", r: strings.NewReader(`{"resourceType":"Bundle","entry":[{}],"entry":[{}]}`), wantErr: ErrBadResponse},
		{name: "OperationOutcome", r: strings.NewReader(`{"resourceType":"OperationOutcome","issue":[]}`), wantErr: ErrBadResponse},
		{name: "no resourceType", r: strings.NewReader(`{"type":"searchset","entry":[{}]}`), wantErr: ErrBadResponse},
		{name: "truncated in an entry", r: strings.NewReader(`{"resourceType":"Bundle","entry":[{"n":1},{"n":`), wantErr: ErrBadResponse},
		{name: "truncated after an entry", r: strings.NewReader(`{"resourceType":"Bundle","entry":[{"n":1}`), wantErr: ErrBadResponse},
		{name: "unterminated", r: strings.NewReader(`{"resourceType":"Bundle"`), wantErr: ErrBadResponse},
		{name: "malformed entry", r: strings.NewReader(`{"resourceType":"Bundle","entry":[{"n":1,}]}`), wantErr: ErrBadResponse},
		{name: "data after", r: strings.NewReader(ok + `{}`), wantErr: ErrBadResponse},
		{name: "reader fails", r: io.MultiReader(strings.NewReader(`{"resourceType":"Bundle","entry":[`), iotest.ErrReader(ErrTooLarge)),
			wantErr: ErrTooLarge, notErr: ErrBadResponse},
		{name: "entry filter fails", filter: refuse, r: strings.NewReader(ok), wantErr: errEntry, notErr: ErrBadResponse},
		{name: "trailer repeats a member", filter: clash, r: strings.NewReader(ok), notErr: ErrBadResponse, msg: "already written"},
		{name: "trailer member without value", filter: BundleFilter{Trailer: func(int, int) map[string]json.RawMessage {
			return map[string]json.RawMessage{"extra": nil}
		}}, r: strings.NewReader(ok), notErr: ErrBadResponse, msg: "has no value"},
		{name: "writer fails", r: strings.NewReader(ok), w: iotestErrWriter{errWrite}, wantErr: errWrite, notErr: ErrBadResponse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := tt.w
			var buf bytes.Buffer
			if w == nil {
				w = &buf
			}
			_, _, err := tt.filter.Copy(w, tt.r)
			if err == nil {
				t.Fatalf("Copy succeeded, want an error")
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("Copy error = %v, want %v", err, tt.wantErr)
			}
			if tt.notErr != nil && errors.Is(err, tt.notErr) {
				t.Errorf("Copy error = %v, must not be %v", err, tt.notErr)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("Copy error = %v, want it to say %q", err, tt.msg)
			}
			if buf.Len() != 0 {
				t.Errorf("Copy wrote %q before failing on a small Bundle, want nothing", buf.String())
			}
		})
	}
}

type iotestErrWriter struct{ err error }

func (w iotestErrWriter) Write([]byte) (int, error) { return 0, w.err }

// TestBundleFilterCopyStreams copies a Bundle of 20,000 entries of about
// 1 KiB (some 22 MB) from one pipe to another, and checks that the live
// heap, measured during the copy, stays far below the Bundle's size.
func TestBundleFilterCopyStreams(t *testing.T) {
	const entries, limit = 20000, 4 << 20
	in, inW := io.Pipe()
	defer in.Close() // unblocks the generator if Copy fails
	go writeBundle(inW, entries)
	out, outW := io.Pipe()
	checked := checkFiltered(out)

	base := liveHeap()
	var calls int
	var peak uint64
	filter := dropOdd
	filter.Entry = func(e json.RawMessage) (json.RawMessage, bool, error) {
		if calls++; calls%2000 == 0 {
			peak = max(peak, liveHeap())
		}
		return dropOdd.Entry(e)
	}
	kept, dropped, err := filter.Copy(outW, in)
	outW.CloseWithError(err)
	r := <-checked
	if err != nil || r.err != nil {
		t.Fatalf("Copy: %v; reading the copy: %v", err, r.err)
	}
	if kept != entries/2 || dropped != entries/2 || r.seen != entries/2 || r.total != strconv.Itoa(entries/2) {
		t.Errorf("Copy kept %d, dropped %d; the copy has %d entries and total %s; want %d each",
			kept, dropped, r.seen, r.total, entries/2)
	}
	if calls != entries || peak == 0 {
		t.Fatalf("Entry called %d times, heap measured %v; want %d calls and measurements", calls, peak, entries)
	}
	grew := int64(peak) - int64(base)
	t.Logf("live heap grew by %d bytes", grew)
	if grew > limit {
		t.Errorf("live heap grew by %d bytes during the copy, want under %d: the Bundle is being held in memory", grew, limit)
	}
}

// writeBundle writes a searchset of n entries, each about 1 KiB and
// numbered by "n", and closes w.
func writeBundle(w *io.PipeWriter, n int) {
	padding := strings.Repeat("x", 1000)
	fmt.Fprintf(w, `{"resourceType":"Bundle","type":"searchset","total":%d,"entry":[`, n)
	for i := range n {
		if i > 0 {
			io.WriteString(w, ",")
		}
		fmt.Fprintf(w, `{"n":%d,"resource":{"resourceType":"Observation","note":[{"text":"%s"}]}}`, i, padding)
	}
	io.WriteString(w, `],"link":[]}`)
	w.Close()
}

// streamResult is what checkFiltered found.
type streamResult struct {
	seen  int    // entries
	total string // the total member
	err   error
}

// checkFiltered reads, as it streams, a Bundle that dropOdd filtered:
// its entries must be numbered 0, 2, 4, ...
func checkFiltered(r *io.PipeReader) <-chan streamResult {
	done := make(chan streamResult, 1)
	go func() {
		var res streamResult
		check := BundleFilter{
			Entry: func(e json.RawMessage) (json.RawMessage, bool, error) {
				if want := fmt.Sprintf(`{"n":%d,`, 2*res.seen); !bytes.HasPrefix(e, []byte(want)) {
					return nil, false, fmt.Errorf("entry %d is %.20s, want it to start %s", res.seen, e, want)
				}
				res.seen++
				return nil, true, nil
			},
			Field: func(name string, v json.RawMessage) (json.RawMessage, bool) {
				if name == "total" {
					res.total = string(v)
				}
				return nil, true
			},
		}
		_, _, res.err = check.Copy(io.Discard, r)
		r.CloseWithError(res.err)
		done <- res
	}()
	return done
}

// liveHeap returns the bytes of live heap objects, after a collection.
func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

func FuzzBundleFilterCopy(f *testing.F) {
	for _, s := range []string{
		`{"resourceType":"Bundle","type":"searchset","total":2,"entry":[{"n":1},{"n":2}],"link":[]}`,
		`{"resourceType":"Bundle","entry":[]}`,
		`{"resourceType":"Bundle","entry":{}}`,
		`{"resourceType":"Patient"}`,
		`[1,2]`,
		`{"resourceType":"Bundle","entry":[{"n":1}],"entry":[]}`,
		"{\"resourceType\":\"Bundle\",\"id\":\"\xff\\u00e9\",\"x\":1e999}",
		`1e7000`, // a number too large for float64, once misreported as a read error
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var out bytes.Buffer
		kept, dropped, err := BundleFilter{}.Copy(&out, bytes.NewReader(in))
		if err != nil {
			if !errors.Is(err, ErrBadResponse) {
				t.Fatalf("Copy(%q) = %v, want ErrBadResponse", in, err)
			}
			return
		}
		if !json.Valid(in) || !json.Valid(out.Bytes()) {
			t.Fatalf("Copy accepted %q and wrote %q: both must be valid JSON", in, out.Bytes())
		}
		if dropped != 0 {
			t.Fatalf("zero filter dropped %d entries", dropped)
		}
		want, got := decodeLoose(t, in), decodeLoose(t, out.Bytes())
		if e, ok := want["entry"].([]any); ok && len(e) == 0 {
			delete(want, "entry") // FHIR JSON has no empty arrays
		}
		if e, _ := got["entry"].([]any); len(e) != kept {
			t.Fatalf("Copy reported %d kept, wrote %d entries", kept, len(e))
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("Copy changed the Bundle:\n in %q\nout %q", in, out.Bytes())
		}
	})
}

// decodeLoose decodes a JSON object, numbers as written.
func decodeLoose(t *testing.T, b []byte) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("decoding %q: %v", b, err)
	}
	return m
}

// TestBundleFilterLast: entries from Last follow the Bundle's own, in an
// entry array made for them when the Bundle had none or kept none.
func TestBundleFilterLast(t *testing.T) {
	note := json.RawMessage(`{"resource":{"resourceType":"OperationOutcome"}}`)
	dropOdd := func(e json.RawMessage) (json.RawMessage, bool, error) {
		return nil, !bytes.Contains(e, []byte(`"odd"`)), nil
	}
	for _, tc := range []struct {
		name, in, want string
	}{
		{"after kept entries", `{"resourceType":"Bundle","entry":[{"id":"even"},{"id":"odd"}],"total":2}`,
			`{"resourceType":"Bundle","entry":[{"id":"even"},` + string(note) + `],"total":2}`},
		{"none kept", `{"resourceType":"Bundle","entry":[{"id":"odd"}]}`,
			`{"resourceType":"Bundle","entry":[` + string(note) + `]}`},
		{"no entry member", `{"resourceType":"Bundle","type":"searchset"}`,
			`{"resourceType":"Bundle","type":"searchset","entry":[` + string(note) + `]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var calls []int
			f := BundleFilter{Entry: dropOdd, Last: func(kept, dropped int) []json.RawMessage {
				calls = append(calls, kept, dropped)
				return []json.RawMessage{note}
			}}
			var out bytes.Buffer
			if _, _, err := f.Copy(&out, strings.NewReader(tc.in)); err != nil {
				t.Fatal(err)
			}
			if out.String() != tc.want || len(calls) != 2 {
				t.Errorf("Copy = %s (Last called with %v), want %s", out.String(), calls, tc.want)
			}
		})
	}
}
