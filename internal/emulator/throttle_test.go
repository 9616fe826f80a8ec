package emulator_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/brickci/brickci/internal/emulator"
)

// TestRateLimitThrottles checks that a workspace admits RateLimit requests
// per second with a burst of one second's worth, answers the rest 429 with
// Retry-After before changing anything, refills with time, and keeps the
// budgets of two workspaces apart.
func TestRateLimitThrottles(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{now: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)}
	srv := emulator.NewWithOptions(emulator.Options{Clock: clock.Now})
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	mkdir := func(token, dir string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, hs.URL+"/api/2.0/workspace/mkdirs", strings.NewReader(`{"path": "`+dir+`"}`))
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("Retry-After")
	}
	// Configured through the control endpoint, as a test driving the
	// binary would.
	resp, err := http.Post(hs.URL+"/__emulator/config", "application/json", strings.NewReader(`{"rate_limit": 4}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := srv.CurrentConfig().RateLimit; got != 4 {
		t.Fatalf("rate limit after config = %v, want 4", got)
	}
	for i := range 4 {
		if code, _ := mkdir("a", "/Shared/burst"); code != http.StatusOK {
			t.Fatalf("request %d of the burst: status %d, want 200", i+1, code)
		}
	}
	code, retryAfter := mkdir("a", "/Shared/over")
	if code != http.StatusTooManyRequests || retryAfter != "1" {
		t.Errorf("fifth request: status %d Retry-After %q, want 429 and 1", code, retryAfter)
	}
	if _, ok := srv.Files("a")["/Shared/over"]; ok {
		t.Error("a throttled request created its directory")
	}
	if code, _ := mkdir("b", "/Shared/other"); code != http.StatusOK {
		t.Errorf("another workspace's first request: status %d, want 200", code)
	}
	clock.now = clock.now.Add(250 * time.Millisecond) // one token at 4 per second
	if code, _ := mkdir("a", "/Shared/later"); code != http.StatusOK {
		t.Errorf("request after a quarter second: status %d, want 200", code)
	}
	if code, _ := mkdir("a", "/Shared/later2"); code != http.StatusTooManyRequests {
		t.Errorf("second request after a quarter second: status %d, want 429", code)
	}
	var throttled int
	for _, r := range srv.Requests() {
		if r.Status == http.StatusTooManyRequests {
			throttled++
		}
	}
	if throttled != 2 {
		t.Errorf("%d requests recorded as 429, want 2", throttled)
	}
	if err := srv.Configure(emulator.Config{RateLimit: -1}); err == nil || !strings.Contains(err.Error(), "rate limit") {
		t.Errorf("negative rate limit: got %v, want an error naming the rate limit", err)
	}
}
