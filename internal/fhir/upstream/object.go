package upstream

import (
	"bytes"
	"encoding/json"
)

// member is one member of a JSON object.
type member struct {
	name  string
	value json.RawMessage
}

// object is a JSON object decoded one level deep, keeping member order
// and every member's value as it was written.
type object []member

// decodeObject decodes b, which must be exactly one JSON object.
func decodeObject(b []byte) (object, error) {
	in := newJSONStream(bytes.NewReader(b))
	if err := in.delim('{', "not a JSON object"); err != nil {
		return nil, err
	}
	var o object
	for in.more() {
		name, err := in.key()
		if err != nil {
			return nil, err
		}
		value, err := in.value()
		if err != nil {
			return nil, err
		}
		o = append(o, member{name, value})
	}
	if err := in.delim('}', "unterminated object"); err != nil {
		return nil, err
	}
	return o, in.end()
}

// get returns the value of the first member called name.
func (o object) get(name string) (json.RawMessage, bool) {
	for _, m := range o {
		if m.name == name {
			return m.value, true
		}
	}
	return nil, false
}

// getString returns the value of member name if it is a JSON string.
func (o object) getString(name string) (string, bool) {
	v, ok := o.get(name)
	if !ok {
		return "", false
	}
	var s string
	if json.Unmarshal(v, &s) != nil {
		return "", false
	}
	return s, true
}

// set gives member name the value, in place of its first occurrence (any
// other is removed) or else at the end.
func (o *object) set(name string, value json.RawMessage) {
	done := false
	kept := (*o)[:0]
	for _, m := range *o {
		if m.name == name {
			if done {
				continue
			}
			m.value, done = value, true
		}
		kept = append(kept, m)
	}
	if !done {
		kept = append(kept, member{name, value})
	}
	*o = kept
}

// del removes every member called name.
func (o *object) del(name string) {
	kept := (*o)[:0]
	for _, m := range *o {
		if m.name != name {
			kept = append(kept, m)
		}
	}
	*o = kept
}

// marshal encodes the object, members in order.
func (o object) marshal() []byte {
	b := []byte{'{'}
	for i, m := range o {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, m.name)
		b = append(b, ':')
		b = append(b, m.value...)
	}
	return append(b, '}')
}

// jsonString encodes s as a JSON string.
func jsonString(s string) json.RawMessage { return appendJSONString(nil, s) }
