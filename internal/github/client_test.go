package github

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestNewOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		opts     Options
		wantBase string
		wantErr  string
	}{
		{"default", Options{Token: "t"}, "https://api.github.com/", ""},
		{"enterprise keeps api/v3", Options{Token: "t", APIURL: "https://ghe.example.com/api/v3"}, "https://ghe.example.com/api/v3/", ""},
		{"trailing slash kept", Options{Token: "t", APIURL: "https://ghe.example.com/api/v3/"}, "https://ghe.example.com/api/v3/", ""},
		{"no token", Options{APIURL: "https://api.github.com"}, "", ErrNoToken.Error()},
		{"blank token", Options{Token: "  "}, "", ErrNoToken.Error()},
		{"not a url", Options{Token: "t", APIURL: "ghe.example.com"}, "", `invalid GitHub API URL "ghe.example.com": use https://api.github.com or https://HOST/api/v3 for GitHub Enterprise Server`},
		{"credentials in url", Options{Token: "t", APIURL: "https://u:p@ghe.example.com"}, "", `invalid GitHub API URL "https://u:p@ghe.example.com": use https://api.github.com or https://HOST/api/v3 for GitHub Enterprise Server`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := New(tt.opts)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if c != nil {
					t.Error("got a client with an error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := c.gh.BaseURL.String(); got != tt.wantBase {
				t.Errorf("base = %q, want %q", got, tt.wantBase)
			}
		})
	}
}

func TestRetries(t *testing.T) {
	t.Parallel()
	secondary := map[string]string{"message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
		"documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}
	// The client's clock reads 1_700_000_000.
	tests := []struct {
		name      string
		faults    []fault
		wantWaits []time.Duration
		wantErr   string // substring; "" means success
	}{
		{
			name:      "secondary limit with retry-after",
			faults:    []fault{{route: routeCreateComment, status: 403, header: map[string]string{"Retry-After": "7"}, body: secondary, times: 1}},
			wantWaits: []time.Duration{7 * time.Second},
		},
		{
			name:      "secondary limit named only in the body",
			faults:    []fault{{route: routeCreateComment, status: 403, body: secondary, times: 1}},
			wantWaits: []time.Duration{time.Minute},
		},
		{
			name: "429 then primary limit with reset",
			faults: []fault{
				{route: routeListComments, status: 429, header: map[string]string{"Retry-After": "2"}, body: secondary, times: 1},
				{route: routeCreateComment, status: 403, header: map[string]string{"X-Ratelimit-Remaining": "0", "X-Ratelimit-Reset": "1700000030"}, body: map[string]string{"message": "API rate limit exceeded"}, times: 1},
			},
			wantWaits: []time.Duration{2 * time.Second, 31 * time.Second},
		},
		{
			name:      "5xx on a read retried twice",
			faults:    []fault{{route: routeListComments, status: 502, body: map[string]string{"message": "Server Error"}, times: 2}},
			wantWaits: []time.Duration{time.Second, 2 * time.Second},
		},
		{
			name:      "5xx on a read gives up after two retries",
			faults:    []fault{{route: routeListComments, status: 503, body: map[string]string{"message": "Unavailable"}, times: 3}},
			wantWaits: []time.Duration{time.Second, 2 * time.Second},
			wantErr:   "503 Unavailable",
		},
		{
			name:    "5xx on a create is not repeated",
			faults:  []fault{{route: routeCreateComment, status: 500, body: map[string]string{"message": "Server Error"}, times: 1}},
			wantErr: "500 Server Error",
		},
		{
			name:      "rate limit gives up after three retries",
			faults:    []fault{{route: routeCreateComment, status: 429, header: map[string]string{"Retry-After": "1"}, body: secondary, times: 4}},
			wantWaits: []time.Duration{time.Second, time.Second, time.Second},
			wantErr:   "rate limit is still exceeded",
		},
		{
			name:    "a wait longer than the maximum is not taken",
			faults:  []fault{{route: routeCreateComment, status: 403, header: map[string]string{"X-Ratelimit-Remaining": "0", "X-Ratelimit-Reset": "1700003600"}, body: map[string]string{"message": "API rate limit exceeded"}, times: 1}},
			wantErr: "rate limit is still exceeded",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t)
			for _, ft := range tt.faults {
				f.addFault(ft)
			}
			c, waits := f.client(t)
			_, _, err := c.UpsertComment(context.Background(), testRepo, 5, "plan", "body")
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("err = %v, want success", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
			case tt.wantErr != "" && errors.Is(err, ErrPermission):
				t.Errorf("err = %v is a permission error, want another failure", err)
			}
			if diff := cmp.Diff(tt.wantWaits, *waits); diff != "" {
				t.Errorf("waits (-want +got):\n%s", diff)
			}
			if tt.wantErr == "" && len(f.commentsOf(5)) != 1 {
				t.Errorf("comments = %q, want exactly one", f.commentsOf(5))
			}
		})
	}
}

func TestRetryStopsWhenContextEnds(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.addFault(fault{route: routeListComments, status: 429, header: map[string]string{"Retry-After": "5"}, body: map[string]string{"message": "slow down"}, times: 1})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c, err := New(Options{APIURL: f.srv.URL + "/api/v3", Token: testToken, HTTPClient: f.srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, _, err := c.UpsertComment(ctx, testRepo, 1, "plan", "x"); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if time.Since(start) > 4*time.Second {
		t.Error("waited although the context was done")
	}
}

func TestAPIErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		status   int
		message  string
		wantPerm bool
		want     string
	}{
		{"forbidden", 403, "Resource not accessible by integration", true,
			`failed to create the plan comment on pull request #1: the token lacks "pull-requests: write" (grant it in the job's permissions block)`},
		{"not found", 404, "Not Found", true,
			`failed to create the plan comment on pull request #1: not found: the repository or pull request does not exist, or the token lacks "pull-requests: write" (grant it in the job's permissions block)`},
		{"bad credentials", 401, "Bad credentials", false,
			`failed to create the plan comment on pull request #1: GitHub rejected the token (401 "Bad credentials"); check the "github_token" input`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t)
			f.addFault(fault{route: routeCreateComment, status: tt.status, body: map[string]string{"message": tt.message}, times: 1})
			c, _ := f.client(t)
			_, _, err := c.UpsertComment(context.Background(), testRepo, 1, "plan", "x")
			if err == nil {
				t.Fatal("no error")
			}
			if got := errors.Is(err, ErrPermission); got != tt.wantPerm {
				t.Errorf("errors.Is(err, ErrPermission) = %v, want %v", got, tt.wantPerm)
			}
			if diff := cmp.Diff(tt.want, err.Error()); diff != "" {
				t.Errorf("message (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPermissionErrorMessages(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  *PermissionError
		want string
	}{
		{&PermissionError{Permission: "contents: write"}, `the token lacks "contents: write" (grant it in the job's permissions block)`},
		{&PermissionError{Permission: "workflow"}, `the token lacks the "workflow" scope needed to push files under .github/workflows (the workflow's GITHUB_TOKEN can never have it; use a GitHub App token with "workflows: write" or a personal access token with the workflow scope)`},
		{&PermissionError{Permission: "pull-requests: write", Hint: "do x"}, `the token lacks "pull-requests: write" (do x)`},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, tt.err.Error()); diff != "" {
			t.Errorf("message (-want +got):\n%s", diff)
		}
		if !errors.Is(tt.err, ErrPermission) {
			t.Errorf("%v is not ErrPermission", tt.err)
		}
	}
}

func TestNoTokenSentElsewhere(t *testing.T) {
	t.Parallel()
	var got []string
	srv := newFake(t)
	c, err := New(Options{APIURL: srv.srv.URL + "/api/v3", Token: testToken, HTTPClient: &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		got = append(got, r.URL.String())
		return srv.srv.Client().Transport.RoundTrip(r)
	})}})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.UpsertComment(context.Background(), testRepo, 1, "plan", "x"); err != nil {
		t.Fatal(err)
	}
	for _, u := range got {
		if strings.Contains(u, testToken) {
			t.Errorf("token in URL %q", u)
		}
	}
	if len(got) != 2 {
		t.Errorf("requests = %q, want a list and a create", got)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestOptionsFromEnv(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  map[string]string
		want Options
	}{
		{"input wins", map[string]string{"INPUT_GITHUB_TOKEN": "in", "GITHUB_TOKEN": "env", "GITHUB_API_URL": "https://ghe.example.com/api/v3"},
			Options{APIURL: "https://ghe.example.com/api/v3", Token: "in"}},
		{"env fallback", map[string]string{"INPUT_GITHUB_TOKEN": " ", "GITHUB_TOKEN": "env"}, Options{Token: "env"}},
		{"nothing", map[string]string{}, Options{}},
	}
	for _, tt := range tests {
		got := OptionsFromEnv(func(k string) string { return tt.env[k] })
		if got.APIURL != tt.want.APIURL || got.Token != tt.want.Token {
			t.Errorf("%s: got %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

func TestRetryNeedsRewindableBody(t *testing.T) {
	t.Parallel()
	calls := 0
	rt := newRetryTransport(roundTripFunc(func(r *http.Request) (*http.Response, error) {
		calls++
		return &http.Response{StatusCode: 429, Header: http.Header{"Retry-After": {"1"}}, Body: http.NoBody, Request: r}, nil
	}), Options{Sleep: func(context.Context, time.Duration) error { return nil }})
	req, err := http.NewRequest(http.MethodPost, "https://api.github.com/x", strings.NewReader("body"))
	if err != nil {
		t.Fatal(err)
	}
	req.GetBody = nil // a body that cannot be read twice
	resp, err := rt.RoundTrip(req)
	if err != nil || resp.StatusCode != 429 || calls != 1 {
		t.Errorf("status %v err %v calls %d; want the 429 returned without a retry", resp, err, calls)
	}
}
