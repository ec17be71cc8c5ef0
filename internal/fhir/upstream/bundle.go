package upstream

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"slices"
)

// BundleFilter streams a FHIR Bundle, letting its functions drop or
// change entries and top-level members. The zero BundleFilter copies a
// Bundle as it is.
type BundleFilter struct {
	// Entry is called with each element of the Bundle's entry array, in
	// order. It returns the element to write (empty meaning the one
	// given) and whether to keep it. An error stops Copy and is returned. out
	// must be valid JSON. entry is not reused by Copy: Entry may keep it.
	// Nil keeps every entry as it is.
	Entry func(entry json.RawMessage) (out json.RawMessage, keep bool, err error)

	// Field is called with each top-level member other than "entry", in
	// input order, and returns the value to write (empty meaning the one
	// given) and whether to write the member at all. out must be valid
	// JSON. Nil keeps every member as it is.
	Field func(name string, value json.RawMessage) (out json.RawMessage, keep bool)

	// Trailer, when set, is called once after every member has been
	// read, with the number of entries kept and dropped, and returns
	// members to write last, in name order. It may not name "entry" or a
	// member already written, but may replace one Field held back: for
	// example Field drops "total" and Trailer writes it anew from kept.
	// Each value must be valid JSON. Member order carries no meaning in
	// JSON, nor in FHIR.
	Trailer func(kept, dropped int) map[string]json.RawMessage

	// Last, when set, is called once after the last entry, with the
	// number of entries kept and dropped, and returns entries to append
	// to the Bundle's own — an OperationOutcome saying what was left out,
	// for example. They are not counted in kept. Each must be valid JSON.
	Last func(kept, dropped int) []json.RawMessage
}

// Copy reads a Bundle from r and writes it to w through the filter,
// returning how many entries it kept and dropped.
//
// The Bundle is read token by token: one entry at a time is in memory, so
// memory use is bounded by the largest entry and the largest other
// member, not by the Bundle. Members are written in input order ("entry"
// where it was), then the Trailer's. When no entry is kept, the "entry"
// member is left out, since FHIR JSON has no empty arrays.
//
// Input that is not a single JSON object, is malformed or truncated, has
// a resourceType other than "Bundle" (or none), or an "entry" that is not
// an array, is an error wrapping ErrBadResponse. Errors reading r (such
// as ErrTooLarge or ErrUnavailable from a Client response body) and
// writing w are returned wrapped. Output is buffered and flushed only on
// success, but a large Bundle may have been partly written to w when an
// error is found.
func (f BundleFilter) Copy(w io.Writer, r io.Reader) (kept, dropped int, err error) {
	bw := bufio.NewWriterSize(w, 32<<10)
	c := &bundleCopy{
		BundleFilter: f,
		in:           newJSONStream(r),
		out:          &objectWriter{w: bw},
		written:      make(map[string]bool),
	}
	if err := c.members(); err != nil {
		return c.kept, c.dropped, err
	}
	if err := c.writeTrailer(); err != nil {
		return c.kept, c.dropped, err
	}
	c.out.close()
	if c.out.err == nil {
		c.out.err = bw.Flush()
	}
	if c.out.err != nil {
		return c.kept, c.dropped, fmt.Errorf("upstream: writing the Bundle: %w", c.out.err)
	}
	return c.kept, c.dropped, nil
}

// bundleCopy is the state of one Copy.
type bundleCopy struct {
	BundleFilter
	in            *jsonStream
	out           *objectWriter
	written       map[string]bool // top-level members written
	kept, dropped int
	entryOpen     bool // the entry array has been started in the output
	sawEntry      bool
	sawType       bool
}

// members copies the top-level object, checking it is a Bundle.
func (c *bundleCopy) members() error {
	if err := c.in.delim('{', "not a JSON object"); err != nil {
		return err
	}
	for c.in.more() {
		name, err := c.in.key()
		if err != nil {
			return err
		}
		if name == "entry" {
			err = c.entries()
		} else {
			err = c.field(name)
		}
		if err != nil {
			return err
		}
	}
	if err := c.in.delim('}', "unterminated object"); err != nil {
		return err
	}
	if err := c.in.end(); err != nil {
		return err
	}
	if !c.sawType {
		return fmt.Errorf("%w: no resourceType \"Bundle\"", ErrBadResponse)
	}
	return nil
}

// field copies the top-level member name, other than entry, through
// Field.
func (c *bundleCopy) field(name string) error {
	value, err := c.in.value()
	if err != nil {
		return err
	}
	if name == "resourceType" {
		var rt string
		if json.Unmarshal(value, &rt) != nil || rt != "Bundle" {
			return fmt.Errorf("%w: resourceType %.40s is not \"Bundle\"", ErrBadResponse, value)
		}
		c.sawType = true
	}
	if c.Field != nil {
		v, keep := c.Field(name, value)
		if !keep {
			return nil
		}
		if len(v) > 0 {
			value = v
		}
	}
	c.out.member(name, value)
	c.written[name] = true
	if c.out.err != nil {
		return fmt.Errorf("upstream: writing the Bundle: %w", c.out.err)
	}
	return nil
}

// entries copies the entry array, whose name has just been read, through
// Entry.
func (c *bundleCopy) entries() error {
	if c.sawEntry {
		return fmt.Errorf("%w: Bundle has two entry members", ErrBadResponse)
	}
	c.sawEntry = true
	if err := c.in.delim('[', "entry is not an array"); err != nil {
		return err
	}
	for c.in.more() {
		entry, err := c.in.value()
		if err != nil {
			return err
		}
		e, keep := entry, true
		if c.Entry != nil {
			if e, keep, err = c.Entry(entry); err != nil {
				return fmt.Errorf("upstream: entry %d: %w", c.kept+c.dropped, err)
			}
			if len(e) == 0 {
				e = entry
			}
		}
		if !keep {
			c.dropped++
			continue
		}
		c.writeEntry(e)
		c.kept++
		if c.out.err != nil {
			return fmt.Errorf("upstream: writing the Bundle: %w", c.out.err)
		}
	}
	c.writeLast()
	if c.entryOpen {
		c.out.raw("]")
	}
	return c.in.delim(']', "unterminated entry array")
}

// writeEntry writes one entry, starting the entry array with the first.
func (c *bundleCopy) writeEntry(e json.RawMessage) {
	if !c.entryOpen {
		c.entryOpen = true
		c.out.member("entry", nil)
		c.out.raw("[")
	} else {
		c.out.raw(",")
	}
	c.out.value(e)
}

// writeLast writes the entries Last returns.
func (c *bundleCopy) writeLast() {
	if c.Last == nil {
		return
	}
	for _, e := range c.Last(c.kept, c.dropped) {
		c.writeEntry(e)
	}
}

// writeTrailer writes the entries of Last when the Bundle had no entry
// member, then the Trailer's members, in name order.
func (c *bundleCopy) writeTrailer() error {
	if !c.sawEntry {
		c.writeLast()
		if c.entryOpen {
			c.out.raw("]")
		}
	}
	if c.Trailer == nil {
		return nil
	}
	members := c.Trailer(c.kept, c.dropped)
	names := make([]string, 0, len(members))
	for name := range members {
		if name == "entry" || c.written[name] {
			return fmt.Errorf("upstream: Bundle trailer member %q is already written", name)
		}
		if len(members[name]) == 0 {
			return fmt.Errorf("upstream: Bundle trailer member %q has no value", name)
		}
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		c.out.member(name, members[name])
	}
	return nil
}

// objectWriter writes a JSON object member by member, keeping the first
// write error.
type objectWriter struct {
	w       *bufio.Writer
	members int
	err     error
}

// member writes the separator, the name and value; a nil value writes
// only up to the colon.
func (o *objectWriter) member(name string, value json.RawMessage) {
	if o.members == 0 {
		o.raw("{")
	} else {
		o.raw(",")
	}
	o.members++
	o.value(appendJSONString(nil, name))
	o.raw(":")
	o.value(value)
}

func (o *objectWriter) close() {
	if o.members == 0 {
		o.raw("{")
	}
	o.raw("}")
}

func (o *objectWriter) raw(s string) {
	if o.err == nil {
		_, o.err = o.w.WriteString(s)
	}
}

func (o *objectWriter) value(b []byte) {
	if o.err == nil {
		_, o.err = o.w.Write(b)
	}
}
