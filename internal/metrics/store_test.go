package metrics

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

// panicStore is a store.Store whose every method panics (its embedded
// interface is nil): enough to see whether a decorator timed the call on
// its way through.
type panicStore struct{ store.Store }

// TestStoreEveryMethodTimed calls every method of store.Store through
// InstrumentStore and checks that each was timed once, under its own name:
// it fails for a method added to the interface and not to timedStore,
// which the embedded Store would otherwise serve untimed.
func TestStoreEveryMethodTimed(t *testing.T) {
	m := New()
	st := reflect.ValueOf(m.InstrumentStore(panicStore{}))
	iface := reflect.TypeFor[store.Store]()
	for i := range iface.NumMethod() {
		fn := st.MethodByName(iface.Method(i).Name)
		args := make([]reflect.Value, fn.Type().NumIn())
		for j := range args {
			args[j] = reflect.Zero(fn.Type().In(j))
		}
		func() {
			defer func() { _ = recover() }()
			fn.Call(args)
		}()
	}
	body := scrape(t, m)
	for i := range iface.NumMethod() {
		name := iface.Method(i).Name
		if want := fmt.Sprintf("smartlaunch_store_duration_seconds_count{op=%q} 1\n", name); !strings.Contains(body, want) {
			t.Errorf("metrics lack %q: timedStore does not time %s (or times it under another name)", strings.TrimSpace(want), name)
		}
	}
}

// scrape returns m's metrics in the exposition format.
func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics: %d, want 200", rec.Code)
	}
	body, _ := io.ReadAll(rec.Body)
	return string(body)
}
