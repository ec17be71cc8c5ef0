package upstream

import (
	"encoding/json"
	"fmt"
	"io"
)

// jsonStream reads a JSON document token by token, telling failures of
// the reader apart from malformed input, which is ErrBadResponse.
type jsonStream struct {
	dec *json.Decoder
	src *sourceReader
}

func newJSONStream(r io.Reader) *jsonStream {
	src := &sourceReader{r: r}
	dec := json.NewDecoder(src)
	dec.UseNumber()
	return &jsonStream{dec: dec, src: src}
}

// more reports whether the current array or object has another element.
func (s *jsonStream) more() bool { return s.dec.More() }

// delim reads the next token, which must be the delimiter d; problem
// says what it means if it is not.
func (s *jsonStream) delim(d json.Delim, problem string) error {
	tok, err := s.dec.Token()
	if err != nil {
		return s.fail(err)
	}
	if tok != d {
		return fmt.Errorf("%w: %s", ErrBadResponse, problem)
	}
	return nil
}

// key reads an object member's name.
func (s *jsonStream) key() (string, error) {
	tok, err := s.dec.Token()
	if err != nil {
		return "", s.fail(err)
	}
	name, ok := tok.(string)
	if !ok {
		return "", fmt.Errorf("%w: object member name expected", ErrBadResponse)
	}
	return name, nil
}

// value reads a whole value. The result is not reused.
func (s *jsonStream) value() (json.RawMessage, error) {
	var v json.RawMessage
	if err := s.dec.Decode(&v); err != nil {
		return nil, s.fail(err)
	}
	return v, nil
}

// end checks that nothing but white space follows the document.
func (s *jsonStream) end() error {
	if _, err := s.dec.Token(); err != io.EOF {
		if s.src.err != nil {
			return s.fail(err)
		}
		return fmt.Errorf("%w: data after the document", ErrBadResponse)
	}
	return nil
}

// fail wraps an error of the decoder: a failure of the reader is passed
// on, anything else (malformed or truncated JSON) is ErrBadResponse.
func (s *jsonStream) fail(err error) error {
	if s.src.err != nil {
		return fmt.Errorf("upstream: reading the response: %w", s.src.err)
	}
	return fmt.Errorf("%w: %w", ErrBadResponse, err)
}

// sourceReader remembers the first error of its reader other than EOF.
type sourceReader struct {
	r   io.Reader
	err error
}

func (s *sourceReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF && s.err == nil {
		s.err = err
	}
	return n, err
}
