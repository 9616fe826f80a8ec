package github

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/brickci/brickci/internal/throttle"
)

// Retry policy. GitHub documents how to back off from rate limits:
// https://docs.github.com/rest/using-the-rest-api/best-practices-for-using-the-rest-api#handle-rate-limit-errors-appropriately
const (
	rateLimitRetries   = 3                // retries of one request after 403/429 rate limits
	serverErrorRetries = 2                // retries of one request after 5xx
	defaultMaxWait     = 90 * time.Second // longest wait honoured by default
	// secondaryDefaultWait is GitHub's advice when a secondary rate limit
	// names no time: wait at least one minute.
	secondaryDefaultWait = time.Minute
	// maxErrorBody bounds how much of a 403 body is read to tell a
	// secondary rate limit from a permission error.
	maxErrorBody = 64 << 10
)

// retryTransport retries rate-limited requests (honouring Retry-After and
// x-ratelimit-reset) and server errors. It sits below go-github so that
// go-github only ever sees the final answer and does not start refusing
// requests on its own after a rate limit that a retry already got past.
type retryTransport struct {
	base    http.RoundTripper
	sleep   func(context.Context, time.Duration) error
	now     func() time.Time
	maxWait time.Duration
}

func newRetryTransport(base http.RoundTripper, opts Options) *retryTransport {
	t := &retryTransport{base: base, sleep: opts.Sleep, now: opts.Now, maxWait: opts.MaxRetryWait}
	if t.base == nil {
		t.base = http.DefaultTransport
	}
	if t.sleep == nil {
		t.sleep = throttle.Sleep
	}
	if t.now == nil {
		t.now = time.Now
	}
	if t.maxWait <= 0 {
		t.maxWait = defaultMaxWait
	}
	return t
}

// RoundTrip sends req, retrying as the policy allows.
func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	rateTries, serverTries := 0, 0
	for attempt := 0; ; attempt++ {
		r := req
		if attempt > 0 {
			r = req.Clone(req.Context())
			if req.Body != nil && req.Body != http.NoBody {
				body, err := req.GetBody()
				if err != nil {
					return nil, err
				}
				r.Body = body
			}
		}
		resp, err := t.base.RoundTrip(r)
		if err != nil {
			return nil, err
		}
		wait, limited := t.rateLimitWait(resp)
		switch {
		case limited && rateTries < rateLimitRetries && wait <= t.maxWait && rewindable(req):
			rateTries++
		case !limited && resp.StatusCode >= 500 && resp.StatusCode <= 599 && serverTries < serverErrorRetries && replayable(req):
			wait = time.Duration(1<<serverTries) * time.Second
			serverTries++
		default:
			return resp, nil
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
		resp.Body.Close()
		if err := t.sleep(req.Context(), wait); err != nil {
			return nil, err
		}
	}
}

// replayable reports whether a request may be sent again after a server
// error. A POST that failed with 5xx may still have been carried out (a
// comment or pull request created), so it is not repeated: a duplicate
// comment or a "pull request already exists" failure is worse than one
// clear error. Rate-limited requests were never carried out and are always
// retried.
func replayable(req *http.Request) bool {
	return req.Method != http.MethodPost && rewindable(req)
}

// rewindable reports whether the request's body can be sent again.
func rewindable(req *http.Request) bool {
	return req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
}

// rateLimitWait reports whether resp is a rate limit and how long to wait.
// A 403 that is not a rate limit is a permission problem and is not retried.
func (t *retryTransport) rateLimitWait(resp *http.Response) (time.Duration, bool) {
	if resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusTooManyRequests {
		return 0, false
	}
	if v := resp.Header.Get("Retry-After"); v != "" {
		if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s >= 0 {
			return time.Duration(s) * time.Second, true
		}
		if at, err := http.ParseTime(v); err == nil {
			return max(at.Sub(t.now()), 0), true
		}
	}
	if resp.Header.Get("X-Ratelimit-Remaining") == "0" {
		if s, err := strconv.ParseInt(resp.Header.Get("X-Ratelimit-Reset"), 10, 64); err == nil {
			// One extra second: the reset is rounded down to whole seconds.
			return max(time.Unix(s, 0).Sub(t.now()), 0) + time.Second, true
		}
		return secondaryDefaultWait, true
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		return secondaryDefaultWait, true
	}
	// A secondary rate limit may come as a bare 403 whose body says so.
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	resp.Body = readCloser{io.MultiReader(bytes.NewReader(body), resp.Body), resp.Body}
	if bytes.Contains(bytes.ToLower(body), []byte("secondary rate limit")) {
		return secondaryDefaultWait, true
	}
	return 0, false
}

// readCloser puts back the part of a body already read while keeping the
// original Close, so the connection is still released.
type readCloser struct {
	io.Reader
	io.Closer
}
