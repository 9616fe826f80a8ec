package github

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
)

// redactTransport removes credentials from every request body: the one
// writer through which comment and pull-request text leaves brickci.
type redactTransport struct {
	base   http.RoundTripper
	redact func([]byte) []byte
}

func (t *redactTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	base := t.base
	if base == nil {
		base = http.DefaultTransport
	}
	if r.Body == nil || r.Body == http.NoBody {
		return base.RoundTrip(r)
	}
	body, err := io.ReadAll(r.Body)
	r.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("failed to read the request body: %w", err)
	}
	body = t.redact(body)
	r = r.Clone(r.Context())
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	return base.RoundTrip(r)
}
