package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	gh "github.com/google/go-github/v75/github"
)

// DefaultAPIURL is the REST API of github.com, used when no API URL is given.
const DefaultAPIURL = "https://api.github.com"

// ErrNoToken means no GitHub token was given. A nil *Client returns it from
// every method, so callers can hand PostOrSummarize a nil client when there
// is no token and still get the step-summary fallback.
var ErrNoToken = errors.New(`no GitHub token: set the "github_token" input or GITHUB_TOKEN`)

// Options configure a Client.
type Options struct {
	// APIURL is the REST API base, the value of GITHUB_API_URL
	// (https://api.github.com, or https://HOST/api/v3 on GitHub Enterprise
	// Server). Empty means DefaultAPIURL.
	APIURL string
	// Token authenticates every request: the "github_token" input or
	// GITHUB_TOKEN. It is only ever sent in the Authorization header.
	Token string
	// HTTPClient sends the requests; nil means a client with a 30 s timeout.
	HTTPClient *http.Client
	// Sleep waits between retries; nil means a timer that stops when ctx is
	// done. Tests inject one that records the waits.
	Sleep func(ctx context.Context, d time.Duration) error
	// Now is the clock used to read x-ratelimit-reset; nil means time.Now.
	Now func() time.Time
	// MaxRetryWait is the longest single wait a rate limit may ask for
	// before brickci gives up instead of waiting; zero means 90 s.
	MaxRetryWait time.Duration
	// Redact, when set, cleans every request body before it is sent, so a
	// credential echoed into a comment or a pull-request body never reaches
	// GitHub, where the runner's masking does not apply.
	Redact func([]byte) []byte
}

// OptionsFromEnv returns Options for the current run, read through getenv:
// the API URL from GITHUB_API_URL and the token from the "github_token"
// action input (INPUT_GITHUB_TOKEN), else GITHUB_TOKEN.
func OptionsFromEnv(getenv func(string) string) Options {
	token := strings.TrimSpace(getenv("INPUT_GITHUB_TOKEN"))
	if token == "" {
		token = strings.TrimSpace(getenv("GITHUB_TOKEN"))
	}
	return Options{APIURL: getenv("GITHUB_API_URL"), Token: token}
}

// Client talks to the GitHub REST API for one token.
type Client struct {
	gh *gh.Client
}

// New returns a Client. It returns ErrNoToken (and a nil Client) when
// opts.Token is empty, and an error naming the value when APIURL is not an
// http(s) URL.
func New(opts Options) (*Client, error) {
	if strings.TrimSpace(opts.Token) == "" {
		return nil, ErrNoToken
	}
	base, err := apiBase(opts.APIURL)
	if err != nil {
		return nil, err
	}
	hc := &http.Client{Timeout: 30 * time.Second}
	if opts.HTTPClient != nil {
		c := *opts.HTTPClient
		hc = &c
	}
	hc.Transport = newRetryTransport(hc.Transport, opts)
	if opts.Redact != nil {
		hc.Transport = &redactTransport{base: hc.Transport, redact: opts.Redact}
	}
	c := gh.NewClient(hc).WithAuthToken(opts.Token)
	c.BaseURL = base
	c.UserAgent = "brickci"
	return &Client{gh: c}, nil
}

// apiBase parses GITHUB_API_URL. go-github resolves paths against BaseURL,
// so it must end in a slash or the last segment (v3 on Enterprise) is lost.
func apiBase(raw string) (*url.URL, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		raw = DefaultAPIURL
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return nil, fmt.Errorf("invalid GitHub API URL %q: use %s or https://HOST/api/v3 for GitHub Enterprise Server", raw, DefaultAPIURL)
	}
	u.RawQuery, u.Fragment = "", ""
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	return u, nil
}

var repoPart = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

// splitRepo splits "owner/name" (GITHUB_REPOSITORY).
func splitRepo(repo string) (owner, name string, err error) {
	owner, name, ok := strings.Cut(repo, "/")
	if !ok || !repoPart.MatchString(owner) || !repoPart.MatchString(name) || name == "." || name == ".." {
		return "", "", fmt.Errorf("invalid repository %q: use \"owner/name\" as in GITHUB_REPOSITORY", repo)
	}
	return owner, name, nil
}

// ErrPermission is matched by every *PermissionError:
// errors.Is(err, ErrPermission) tells "the token may not do this" from other
// failures.
var ErrPermission = errors.New("the token lacks a permission")

// PermissionError means GitHub refused an operation because the token lacks
// a permission (403), or answered 404, which GitHub also uses for resources
// the token may not see.
type PermissionError struct {
	// Permission is what the token needs, as written in a workflow's
	// permissions block ("pull-requests: write", "contents: write") or, for
	// workflow files, "workflow" (a token scope, not a permission).
	Permission string
	// Status is the HTTP status GitHub answered (403 or 404); 0 for git.
	Status int
	// NotFound is set when the answer was 404: the resource may also not
	// exist.
	NotFound bool
	// Hint replaces the default advice when GitHub named a specific cause.
	Hint string
}

// Error names the missing permission and says what to do.
func (e *PermissionError) Error() string {
	msg := fmt.Sprintf("the token lacks %q", e.Permission)
	if e.Permission == "workflow" {
		msg = `the token lacks the "workflow" scope needed to push files under .github/workflows`
	}
	if e.NotFound {
		msg = "not found: the repository or pull request does not exist, or " + msg
	}
	hint := e.Hint
	if hint == "" {
		hint = "grant it in the job's permissions block"
		if e.Permission == "workflow" {
			hint = "the workflow's GITHUB_TOKEN can never have it; use a GitHub App token with \"workflows: write\" or a personal access token with the workflow scope"
		}
	}
	return msg + " (" + hint + ")"
}

// Is reports whether target is ErrPermission.
func (e *PermissionError) Is(target error) bool { return target == ErrPermission }

// actionsMayNotCreatePRs is GitHub's 403 message when the repository setting
// "Allow GitHub Actions to create and approve pull requests" is off.
const actionsMayNotCreatePRs = "not permitted to create or approve pull requests"

// apiError turns a go-github error into brickci's: a *PermissionError naming
// perm for 403/404, a plain message for an exhausted rate limit or a
// rejected token, and the original error otherwise. op completes "failed to".
func apiError(err error, op, perm string) error {
	var rle *gh.RateLimitError
	var abuse *gh.AbuseRateLimitError
	var er *gh.ErrorResponse
	hasER := errors.As(err, &er) && er.Response != nil
	switch {
	case errors.As(err, &rle), errors.As(err, &abuse),
		hasER && er.Response.StatusCode == http.StatusTooManyRequests,
		hasER && er.Response.StatusCode == http.StatusForbidden && strings.Contains(strings.ToLower(er.Message), "rate limit"):
		return fmt.Errorf("failed to %s: GitHub's rate limit is still exceeded after waiting; re-run the job later: %w", op, err)
	case hasER:
		switch er.Response.StatusCode {
		case http.StatusUnauthorized:
			return fmt.Errorf("failed to %s: GitHub rejected the token (401 %q); check the \"github_token\" input", op, er.Message)
		case http.StatusForbidden:
			pe := &PermissionError{Permission: perm, Status: http.StatusForbidden}
			if strings.Contains(strings.ToLower(er.Message), actionsMayNotCreatePRs) {
				pe.Hint = `also enable "Allow GitHub Actions to create and approve pull requests" in the repository's Actions settings`
			}
			return fmt.Errorf("failed to %s: %w", op, pe)
		case http.StatusNotFound:
			return fmt.Errorf("failed to %s: %w", op, &PermissionError{Permission: perm, Status: http.StatusNotFound, NotFound: true})
		}
	}
	return fmt.Errorf("failed to %s: %w", op, err)
}
