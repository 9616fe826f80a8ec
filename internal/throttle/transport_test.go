package throttle

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"
)

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		value string
		want  time.Duration
	}{
		{"", DefaultRetryAfter},
		{"0", 0},
		{"3", 3 * time.Second},
		{"Tue, 01 Dec 2026 10:00:05 GMT", 5 * time.Second},
		{"Tue, 01 Dec 2026 09:59:00 GMT", 0},
		{"soon", DefaultRetryAfter},
		{"-2", DefaultRetryAfter},
	} {
		if got := retryAfter(tc.value, now); got != tc.want {
			t.Errorf("retryAfter(%q) = %s, want %s", tc.value, got, tc.want)
		}
	}
}

// scripted is a RoundTripper whose answers a test decides: each request
// waits for a status on answers and records its body; it tracks how many
// resent requests (bodies seen before) were in flight at most.
type scripted struct {
	answers    chan int
	retryAfter string
	mu         sync.Mutex
	inFlight   int
	maxFlight  int
	bodies     []string
	arrived    chan struct{}
}

func newScripted(retryAfter string) *scripted {
	return &scripted{answers: make(chan int), arrived: make(chan struct{}, 100), retryAfter: retryAfter}
}

func (s *scripted) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
		req.Body.Close()
	}
	s.mu.Lock()
	resent := slices.Contains(s.bodies, string(body))
	if resent {
		s.inFlight++
		s.maxFlight = max(s.maxFlight, s.inFlight)
	}
	s.bodies = append(s.bodies, string(body))
	s.mu.Unlock()
	s.arrived <- struct{}{}
	status := <-s.answers
	if resent {
		s.mu.Lock()
		s.inFlight--
		s.mu.Unlock()
	}
	h := http.Header{}
	if status == http.StatusTooManyRequests && s.retryAfter != "" {
		h.Set("Retry-After", s.retryAfter)
	}
	return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(bytes.NewReader(nil)), Request: req}, nil
}

// TestWindowHalvesOnceAndResends sends four requests at once through a
// window of 16, answers all four 429 and checks that the window halves once,
// from the four in flight, that the requests are resent with their bodies
// after the Retry-After, at most two at a time, and that they succeed.
func TestWindowHalvesOnceAndResends(t *testing.T) {
	t.Parallel()
	next := newScripted("2")
	tr := New(next, 16)
	// The clock moves only when a request pauses, by the pause.
	start := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	var clockMu sync.Mutex
	clock := start
	var slept []time.Duration
	tr.now = func() time.Time {
		clockMu.Lock()
		defer clockMu.Unlock()
		return clock
	}
	tr.sleep = func(ctx context.Context, d time.Duration) error {
		clockMu.Lock()
		defer clockMu.Unlock()
		slept = append(slept, d)
		clock = clock.Add(d)
		return nil
	}

	const n = 4
	var wg sync.WaitGroup
	statuses := make([]int, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodPost, "http://workspace/api", bytes.NewReader([]byte{'a' + byte(i)}))
			resp, err := tr.RoundTrip(req)
			if err != nil {
				t.Error(err)
				return
			}
			statuses[i] = resp.StatusCode
		}()
	}
	for range n {
		<-next.arrived
	}
	for range n {
		next.answers <- http.StatusTooManyRequests
	}
	for range n {
		<-next.arrived
		next.answers <- http.StatusOK
	}
	wg.Wait()

	for i, s := range statuses {
		if s != http.StatusOK {
			t.Errorf("request %d ended with status %d, want 200", i, s)
		}
	}
	st := tr.Stats()
	if st.Throttled != n || st.Resent != n || st.Decreases != 1 || st.MinWindow != 2 {
		t.Errorf("stats = %+v, want %d throttled, %d resent, 1 decrease to a window of 2", st, n, n)
	}
	if next.maxFlight > 2 {
		t.Errorf("%d resent requests were in flight at once, want at most the window of 2", next.maxFlight)
	}
	if got := map[string]int{}; true {
		for _, b := range next.bodies {
			got[b]++
		}
		for _, b := range []string{"a", "b", "c", "d"} {
			if got[b] != 2 {
				t.Errorf("body %q sent %d times, want 2 (the first attempt and the resend)", b, got[b])
			}
		}
	}
	clockMu.Lock()
	defer clockMu.Unlock()
	if len(slept) == 0 || slept[0] != 2*time.Second {
		t.Errorf("paused %v, want the Retry-After of 2s first", slept)
	}
}

// TestWindowGrowsBackOnSuccess checks additive increase: after a 429 took a
// window of 8 down to 1, each window's worth of successful answers adds
// one, up to the maximum.
func TestWindowGrowsBackOnSuccess(t *testing.T) {
	t.Parallel()
	tr := New(http.NewFileTransport(http.Dir(t.TempDir())), 8)
	tr.throttled(tr.epoch, 0)
	tr.inFlight = 1 // throttled released a slot this test never took
	if w := tr.Window(); w != 1 {
		t.Fatalf("window after a 429 with one request in flight = %d, want 1", w)
	}
	tr.inFlight = 0
	var got []int
	for range 40 {
		tr.inFlight++
		tr.succeeded(true)
		got = append(got, tr.Window())
	}
	// 1 → 2 after one answer, → 3 after two more, → 4 after three more.
	if got[0] != 2 || got[2] != 2 || got[3] != 3 || got[6] != 4 || got[len(got)-1] != 8 {
		t.Errorf("windows after successive answers = %v; want 2 after one, 3 after four, 4 after seven, capped at 8", got)
	}
}

// TestNotReplayableIsReturned checks that a 429 on a request whose body
// cannot be sent again goes back to the caller (the SDK retries it).
func TestNotReplayableIsReturned(t *testing.T) {
	t.Parallel()
	next := newScripted("0")
	tr := New(next, 4)
	done := make(chan int)
	go func() {
		req, _ := http.NewRequest(http.MethodPost, "http://workspace/api", io.NopCloser(bytes.NewReader([]byte("x"))))
		req.GetBody = nil
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Error(err)
			done <- 0
			return
		}
		done <- resp.StatusCode
	}()
	<-next.arrived
	next.answers <- http.StatusTooManyRequests
	if got := <-done; got != http.StatusTooManyRequests {
		t.Errorf("status %d, want the 429 returned", got)
	}
	if st := tr.Stats(); st.Resent != 0 || st.Throttled != 1 {
		t.Errorf("stats = %+v, want one 429 and no resend", st)
	}
}

// TestCancelWhilePaused checks that a request waiting out a Retry-After
// ends when its context does.
func TestCancelWhilePaused(t *testing.T) {
	t.Parallel()
	tr := New(newScripted(""), 4)
	tr.notBefore = time.Now().Add(time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://workspace/api", nil)
	if _, err := tr.RoundTrip(req); err != context.Canceled {
		t.Errorf("got %v, want context.Canceled", err)
	}
}
