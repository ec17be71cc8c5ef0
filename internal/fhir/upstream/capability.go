package upstream

import (
	"encoding/json"
	"errors"
	"fmt"
)

// implementationDescription is CapabilityStatement.implementation.description
// when the upstream gives none.
const implementationDescription = "smartlaunch SMART on FHIR proxy"

// MergeCapability returns the upstream's CapabilityStatement with the
// proxy's SMART security block and base URL in place of the upstream's:
//
//   - every rest element whose mode is "server" carries security in place
//     of any it had: the block where SMART App Launch (Conformance)
//     declares the oauth-uris extension and the SMART-on-FHIR service.
//     When there is no such element, one {"mode": "server"} element
//     carrying security is added. A nil security removes the member.
//   - implementation.url is base. implementation is created when absent,
//     keeping an upstream description or else describing the proxy.
//   - kind becomes "instance": a statement with an implementation
//     describes a running server (R4 invariants cpb-14 to cpb-16).
//
// Every other member is kept as the upstream wrote it, unknown ones too,
// in the same order. Absolute URLs are not rewritten: that is RewriteURLs'
// job. A document that is not a CapabilityStatement object is an error
// wrapping ErrBadResponse; a security that is not a JSON object is an
// error too.
func MergeCapability(upstream []byte, security json.RawMessage, base string) ([]byte, error) {
	if security != nil {
		if _, err := decodeObject(security); err != nil {
			return nil, errors.New("upstream: security is not a JSON object")
		}
	}
	cs, err := decodeObject(upstream)
	if err != nil {
		return nil, fmt.Errorf("CapabilityStatement: %w", err)
	}
	if rt, _ := cs.getString("resourceType"); rt != "CapabilityStatement" {
		return nil, fmt.Errorf("%w: not a CapabilityStatement", ErrBadResponse)
	}
	cs.set("kind", jsonString("instance"))
	impl, err := mergeImplementation(cs, base)
	if err != nil {
		return nil, err
	}
	cs.set("implementation", impl)
	rest, err := mergeRest(cs, security)
	if err != nil {
		return nil, err
	}
	cs.set("rest", rest)
	return cs.marshal(), nil
}

// mergeImplementation returns the implementation member with url set to
// base.
func mergeImplementation(cs object, base string) (json.RawMessage, error) {
	var impl object
	if v, ok := cs.get("implementation"); ok {
		var err error
		if impl, err = decodeObject(v); err != nil {
			return nil, fmt.Errorf("CapabilityStatement.implementation: %w", err)
		}
	}
	if _, ok := impl.get("description"); !ok {
		impl.set("description", jsonString(implementationDescription))
	}
	impl.set("url", jsonString(base))
	return impl.marshal(), nil
}

// mergeRest returns the rest member with security in every server
// element.
func mergeRest(cs object, security json.RawMessage) (json.RawMessage, error) {
	var rest []json.RawMessage
	if v, ok := cs.get("rest"); ok {
		if err := json.Unmarshal(v, &rest); err != nil {
			return nil, fmt.Errorf("%w: CapabilityStatement.rest is not an array", ErrBadResponse)
		}
	}
	servers := 0
	for i, r := range rest {
		el, err := decodeObject(r)
		if err != nil {
			return nil, fmt.Errorf("CapabilityStatement.rest[%d]: %w", i, err)
		}
		if mode, _ := el.getString("mode"); mode != "server" {
			continue
		}
		servers++
		setSecurity(&el, security)
		rest[i] = el.marshal()
	}
	if servers == 0 {
		el := object{{"mode", jsonString("server")}}
		setSecurity(&el, security)
		rest = append(rest, el.marshal())
	}
	b := []byte{'['}
	for i, r := range rest {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, r...)
	}
	return append(b, ']'), nil
}

func setSecurity(el *object, security json.RawMessage) {
	if security == nil {
		el.del("security")
	} else {
		el.set("security", security)
	}
}
