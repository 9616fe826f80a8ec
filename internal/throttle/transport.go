package throttle

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// DefaultRateLimit is the client-side ceiling, in requests per second, that
// brickci gives the SDK when neither DATABRICKS_RATE_LIMIT nor a profile's
// rate_limit sets one. It is a ceiling, not a pace: the workspace sets the
// pace with its 429 answers, which Transport follows.
const DefaultRateLimit = 1000

// Defaults of a Transport.
const (
	// DefaultMaxInFlight is the largest window: requests in flight at once.
	DefaultMaxInFlight = 256
	// DefaultRetryAfter is the pause after a 429 without a Retry-After.
	DefaultRetryAfter = time.Second
	// maxAttempts bounds how often Transport sends one request; after that
	// the 429 goes to the SDK, which retries with its own back-off.
	maxAttempts = 8
	// maxPause bounds one Retry-After that Transport waits out itself; a
	// longer one is left to the SDK's retry loop and timeouts.
	maxPause = 30 * time.Second
)

// Transport is an http.RoundTripper that adapts to a workspace's rate limit:
//
//   - After a 429 it sends nothing until the Retry-After (seconds or an HTTP
//     date; DefaultRetryAfter when absent) has passed, for every request
//     through it, since the workspace limits the client, not one call.
//   - It then sends the throttled request again, up to maxAttempts times,
//     when the request's body can be replayed (GetBody); otherwise the 429
//     is returned, and the SDK retries it.
//   - It keeps at most a window of requests in flight. The window halves,
//     down to one, on the first 429 among the requests sent since it last
//     changed (measured from the requests actually in flight, so it bites at
//     once), and grows by one for every window's worth of successful
//     answers, up to MaxInFlight.
//
// A 429 is only ever resent after the workspace rejected it, which it does
// before changing anything; other answers pass through untouched. The zero
// value is not usable; use New.
type Transport struct {
	next        http.RoundTripper
	maxInFlight int
	now         func() time.Time
	sleep       func(context.Context, time.Duration) error

	mu        sync.Mutex
	window    float64
	inFlight  int
	epoch     int
	notBefore time.Time
	freed     chan struct{}
	stats     Stats
}

// Stats counts what a Transport did.
type Stats struct {
	// Throttled is the number of 429 answers seen.
	Throttled int
	// Resent is the number of requests Transport sent again after a 429.
	Resent int
	// Decreases is how often the window was halved.
	Decreases int
	// MinWindow is the smallest window reached.
	MinWindow int
}

// New returns a Transport over next (http.DefaultTransport when nil) with
// at most maxInFlight requests in flight (DefaultMaxInFlight when not
// positive).
func New(next http.RoundTripper, maxInFlight int) *Transport {
	if next == nil {
		next = http.DefaultTransport
	}
	if maxInFlight <= 0 {
		maxInFlight = DefaultMaxInFlight
	}
	return &Transport{
		next:        next,
		maxInFlight: maxInFlight,
		now:         time.Now,
		sleep:       Sleep,
		window:      float64(maxInFlight),
		freed:       make(chan struct{}),
		stats:       Stats{MinWindow: maxInFlight},
	}
}

// Stats returns what the Transport did so far.
func (t *Transport) Stats() Stats {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.stats
}

// Window returns the number of requests the Transport lets be in flight.
func (t *Transport) Window() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.windowLocked()
}

func (t *Transport) windowLocked() int { return max(1, int(t.window)) }

// RoundTrip sends req, waiting for a slot in the window and for any
// Retry-After in force, and resends it after a 429 as described on
// Transport.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	for attempt := 1; ; attempt++ {
		epoch, err := t.acquire(ctx)
		if err != nil {
			return nil, err
		}
		resp, err := t.next.RoundTrip(req)
		if err != nil || resp.StatusCode != http.StatusTooManyRequests {
			t.succeeded(err == nil)
			return resp, err
		}
		pause := retryAfter(resp.Header.Get("Retry-After"), t.now())
		t.throttled(epoch, pause)
		if attempt >= maxAttempts || pause > maxPause || (req.Body != nil && req.Body != http.NoBody && req.GetBody == nil) {
			return resp, nil
		}
		next := req.Clone(ctx)
		if req.GetBody != nil {
			body, err := req.GetBody()
			if err != nil {
				return resp, nil
			}
			next.Body = body
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		t.mu.Lock()
		t.stats.Resent++
		t.mu.Unlock()
		req = next
	}
}

// acquire waits until no Retry-After is in force and the window has room,
// then takes a slot and returns the window's epoch.
func (t *Transport) acquire(ctx context.Context) (int, error) {
	for {
		t.mu.Lock()
		wait := t.notBefore.Sub(t.now())
		if wait <= 0 && t.inFlight < t.windowLocked() {
			t.inFlight++
			epoch := t.epoch
			t.mu.Unlock()
			return epoch, nil
		}
		freed := t.freed
		t.mu.Unlock()
		if wait > 0 {
			if err := t.sleep(ctx, wait); err != nil {
				return 0, err
			}
			continue
		}
		select {
		case <-freed:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}

// releaseLocked gives back a slot and wakes the requests waiting for one.
func (t *Transport) releaseLocked() {
	t.inFlight--
	close(t.freed)
	t.freed = make(chan struct{})
}

// succeeded releases the slot of an answered request; an answer other than
// 429 grows the window by one per window's worth of answers.
func (t *Transport) succeeded(answered bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if answered && t.window < float64(t.maxInFlight) {
		t.window = min(float64(t.maxInFlight), t.window+1/t.window)
	}
	t.releaseLocked()
}

// throttled releases the slot of a request answered 429, holds every
// request back for pause and, for the first 429 of the current epoch,
// halves the window from the requests that were in flight.
func (t *Transport) throttled(epoch int, pause time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.stats.Throttled++
	if until := t.now().Add(pause); until.After(t.notBefore) {
		t.notBefore = until
	}
	if epoch == t.epoch {
		t.window = max(1, float64(min(t.windowLocked(), t.inFlight))/2)
		t.epoch++
		t.stats.Decreases++
		t.stats.MinWindow = min(t.stats.MinWindow, t.windowLocked())
	}
	t.releaseLocked()
}

// retryAfter reads a Retry-After value: delay seconds or an HTTP date.
// Missing or unreadable, it is DefaultRetryAfter.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return DefaultRetryAfter
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if at, err := http.ParseTime(v); err == nil {
		return max(0, at.Sub(now))
	}
	return DefaultRetryAfter
}

// Sleep waits for d or until ctx is done, whichever comes first, and
// returns ctx.Err() in the second case. It is the one wait of the retry
// and back-off loops (the deploy lock, GitHub rate limits, 429 pacing).
func Sleep(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}
