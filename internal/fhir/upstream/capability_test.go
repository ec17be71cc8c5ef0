package upstream

import (
	"encoding/json"
	"errors"
	"testing"
)

const smartSecurity = `{"extension":[{"url":"http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris","extension":[{"url":"token","valueUri":"https://smart.example/token"}]}],"service":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/restful-security-service","code":"SMART-on-FHIR"}]}]}`

func TestMergeCapability(t *testing.T) {
	tests := []struct {
		name     string
		upstream string
		security string // smartSecurity when empty; "-" for nil
		want     string
	}{
		{name: "HAPI-like statement",
			upstream: `{"resourceType":"CapabilityStatement","id":"x","status":"active","date":"2026-01-01","publisher":"HAPI","kind":"instance",` +
				`"software":{"name":"HAPI FHIR","version":"8.0.0"},"implementation":{"description":"HAPI FHIR R4 Server","url":"http://10.0.0.5:8080/fhir"},` +
				`"fhirVersion":"4.0.1","format":["application/fhir+xml","json"],"rest":[{"mode":"server","security":{"cors":true},"resource":[{"type":"Patient"}]}],"x-unknown":{"n":1.50}}`,
			want: `{"resourceType":"CapabilityStatement","id":"x","status":"active","date":"2026-01-01","publisher":"HAPI","kind":"instance",` +
				`"software":{"name":"HAPI FHIR","version":"8.0.0"},"implementation":{"description":"HAPI FHIR R4 Server","url":"https://smart.example/fhir"},` +
				`"fhirVersion":"4.0.1","format":["application/fhir+xml","json"],"rest":[{"mode":"server","security":` + smartSecurity + `,"resource":[{"type":"Patient"}]}],"x-unknown":{"n":1.50}}`},
		{name: "implementation and security created",
			upstream: `{"resourceType":"CapabilityStatement","kind":"capability","rest":[{"mode":"server","resource":[]}]}`,
			want: `{"resourceType":"CapabilityStatement","kind":"instance","rest":[{"mode":"server","resource":[],"security":` + smartSecurity + `}],` +
				`"implementation":{"description":"smartlaunch SMART on FHIR proxy","url":"https://smart.example/fhir"}}`},
		{name: "only server rest elements",
			upstream: `{"resourceType":"CapabilityStatement","kind":"instance","implementation":{"url":"x"},"rest":[{"mode":"client","security":{"cors":false}},{"mode":"server"}]}`,
			want: `{"resourceType":"CapabilityStatement","kind":"instance","implementation":{"url":"https://smart.example/fhir","description":"smartlaunch SMART on FHIR proxy"},` +
				`"rest":[{"mode":"client","security":{"cors":false}},{"mode":"server","security":` + smartSecurity + `}]}`},
		{name: "server rest element added",
			upstream: `{"resourceType":"CapabilityStatement","kind":"instance","implementation":{"description":"d"}}`,
			want:     `{"resourceType":"CapabilityStatement","kind":"instance","implementation":{"description":"d","url":"https://smart.example/fhir"},"rest":[{"mode":"server","security":` + smartSecurity + `}]}`},
		{name: "nil security removes the upstream's", security: "-",
			upstream: `{"resourceType":"CapabilityStatement","kind":"instance","implementation":{"description":"d","url":"u"},"rest":[{"mode":"server","security":{"cors":true}}]}`,
			want:     `{"resourceType":"CapabilityStatement","kind":"instance","implementation":{"description":"d","url":"https://smart.example/fhir"},"rest":[{"mode":"server"}]}`},
		{name: "duplicate members collapse to one",
			upstream: `{"resourceType":"CapabilityStatement","kind":"instance","rest":[{"mode":"server","security":{},"security":{}}],"rest":[]}`,
			want:     `{"resourceType":"CapabilityStatement","kind":"instance","rest":[{"mode":"server","security":` + smartSecurity + `}],"implementation":{"description":"smartlaunch SMART on FHIR proxy","url":"https://smart.example/fhir"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var security json.RawMessage
			switch tt.security {
			case "":
				security = json.RawMessage(smartSecurity)
			case "-":
			default:
				security = json.RawMessage(tt.security)
			}
			got, err := MergeCapability([]byte(tt.upstream), security, pxBase)
			if err != nil {
				t.Fatalf("MergeCapability: %v", err)
			}
			if string(got) != tt.want {
				t.Errorf("MergeCapability\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestMergeCapabilityErrors(t *testing.T) {
	tests := []struct {
		name     string
		upstream string
		security string
		wantBad  bool // ErrBadResponse: the upstream's fault
	}{
		{"not JSON", `<CapabilityStatement/>`, smartSecurity, true},
		{"array", `[]`, smartSecurity, true},
		{"truncated", `{"resourceType":"CapabilityStatement"`, smartSecurity, true},
		{"other resource", `{"resourceType":"OperationOutcome"}`, smartSecurity, true},
		{"no resourceType", `{"kind":"instance"}`, smartSecurity, true},
		{"rest not an array", `{"resourceType":"CapabilityStatement","rest":{"mode":"server"}}`, smartSecurity, true},
		{"rest element not an object", `{"resourceType":"CapabilityStatement","rest":["server"]}`, smartSecurity, true},
		{"implementation not an object", `{"resourceType":"CapabilityStatement","implementation":"x"}`, smartSecurity, true},
		{"security not an object", `{"resourceType":"CapabilityStatement"}`, `[]`, false},
		{"security not JSON", `{"resourceType":"CapabilityStatement"}`, `{`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := MergeCapability([]byte(tt.upstream), json.RawMessage(tt.security), pxBase)
			if err == nil {
				t.Fatalf("MergeCapability = %s, want an error", got)
			}
			if bad := errors.Is(err, ErrBadResponse); bad != tt.wantBad {
				t.Errorf("MergeCapability error %v: errors.Is ErrBadResponse = %v, want %v", err, bad, tt.wantBad)
			}
		})
	}
}

func FuzzMergeCapability(f *testing.F) {
	f.Add([]byte(`{"resourceType":"CapabilityStatement","kind":"instance","rest":[{"mode":"server","security":{"cors":true}}]}`))
	f.Add([]byte(`{"resourceType":"CapabilityStatement","implementation":{"description":"d"},"rest":[{"mode":"client"}]}`))
	f.Add([]byte(`{"resourceType":"CapabilityStatement","rest":null,"implementation":{}}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		out, err := MergeCapability(in, json.RawMessage(smartSecurity), pxBase)
		if err != nil {
			if !errors.Is(err, ErrBadResponse) {
				t.Fatalf("MergeCapability(%q) = %v, want ErrBadResponse", in, err)
			}
			return
		}
		// Read back as MergeCapability reads: case-sensitive names, the
		// first of duplicates.
		if !json.Valid(out) {
			t.Fatalf("MergeCapability(%q) wrote invalid JSON %q", in, out)
		}
		cs, err := decodeObject(out)
		if err != nil {
			t.Fatalf("MergeCapability(%q) wrote %q: %v", in, out, err)
		}
		rt, _ := cs.getString("resourceType")
		kind, _ := cs.getString("kind")
		implRaw, _ := cs.get("implementation")
		impl, _ := decodeObject(implRaw)
		url, _ := impl.getString("url")
		if rt != "CapabilityStatement" || kind != "instance" || url != pxBase {
			t.Fatalf("MergeCapability(%q) = %q: resourceType, kind or implementation.url wrong", in, out)
		}
		restRaw, _ := cs.get("rest")
		var rest []json.RawMessage
		if err := json.Unmarshal(restRaw, &rest); err != nil {
			t.Fatalf("MergeCapability(%q) = %q: rest: %v", in, out, err)
		}
		servers := 0
		for _, r := range rest {
			el, err := decodeObject(r)
			if err != nil {
				t.Fatalf("MergeCapability(%q) = %q: rest element: %v", in, out, err)
			}
			if mode, _ := el.getString("mode"); mode == "server" {
				servers++
				if sec, _ := el.get("security"); string(sec) != smartSecurity {
					t.Fatalf("MergeCapability(%q) = %q: a server rest element lacks the security block", in, out)
				}
			}
		}
		if servers == 0 {
			t.Fatalf("MergeCapability(%q) = %q: no server rest element", in, out)
		}
	})
}
