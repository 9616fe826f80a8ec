package workspace

import (
	"net/http/httptest"
	"testing"

	"github.com/brickci/brickci/internal/emulator"
	"github.com/brickci/brickci/internal/throttle"
)

// TestClientRateLimit checks that the client's request rate ceiling is
// brickci's default unless DATABRICKS_RATE_LIMIT sets one, and that the
// client sends its requests through the throttling transport.
func TestClientRateLimit(t *testing.T) {
	t.Parallel()
	ts := httptest.NewServer(emulator.New())
	t.Cleanup(ts.Close)
	for _, tc := range []struct {
		env  string
		want int
	}{
		{"", throttle.DefaultRateLimit},
		{"7", 7},
	} {
		env := map[string]string{"DATABRICKS_TOKEN": "t", "DATABRICKS_RATE_LIMIT": tc.env}
		e := Env{Mode: "deploy", Getenv: func(k string) string { return env[k] }, Host: ts.URL}
		w, err := e.Client("")
		if err != nil {
			t.Fatal(err)
		}
		if got := w.Config.RateLimitPerSecond; got != tc.want {
			t.Errorf("DATABRICKS_RATE_LIMIT=%q: rate limit %d, want %d", tc.env, got, tc.want)
		}
		if _, ok := w.Config.HTTPTransport.(*throttle.Transport); !ok {
			t.Errorf("the client's transport is %T, want *throttle.Transport", w.Config.HTTPTransport)
		}
	}
}
