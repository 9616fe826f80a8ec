package emulator

import (
	"context"
	"encoding/json"
	"errors"
	"hash/fnv"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/brickci/brickci/internal/throttle"
)

// maxBodyBytes bounds every request body the emulator reads.
const maxBodyBytes = 64 << 20

// DefaultUserName is the user name of workspaces reached with a personal
// access token unless Options.UserName says otherwise.
const DefaultUserName = "user@example.com"

// Options configure a Server at construction.
type Options struct {
	// Tokens, when not empty, lists the only personal access tokens accepted;
	// any other bearer token gets 401. Tokens issued by the OAuth endpoints
	// are always accepted.
	Tokens []string
	// ClientSecrets, when not nil, maps the OAuth client ids accepted by the
	// client_credentials grant to their secrets.
	ClientSecrets map[string]string
	// UserName is the user behind personal access tokens (DefaultUserName
	// when empty).
	UserName string
	// Clock returns the current time; time.Now when nil. Run and serving
	// endpoint lifecycles are computed from it.
	Clock func() time.Time
	// Sleep waits for d, or until ctx (the request's) is done, which it
	// returns as an error; throttle.Sleep when nil. It implements injected
	// latency.
	Sleep func(ctx context.Context, d time.Duration) error
	// Config is the initial fault, latency and run configuration.
	Config Config
}

// Server is the emulated workspace service. It implements http.Handler and is
// safe for concurrent use.
type Server struct {
	opts     Options
	tokens   map[string]bool
	clock    func() time.Time
	sleep    func(context.Context, time.Duration) error
	api      *http.ServeMux
	control  *http.ServeMux
	mu       sync.Mutex
	cfg      Config
	rng      *rand.Rand
	spaces   map[string]*workspace
	issued   map[string]principal
	requests []Request
	nextTok  int64
	// seeds are applied to every workspace when it is created, keyedSeeds
	// to the workspace of their key.
	seeds      []Seed
	keyedSeeds map[string][]Seed
	// buckets hold each workspace's request budget under Config.RateLimit.
	buckets map[string]*bucket
	// inflight counts API requests being served (see WaitIdle).
	inflight atomic.Int64
}

// principal is who a bearer token authenticates as, and which workspace it
// reaches.
type principal struct {
	workspace string
	userName  string
	sp        bool
}

// New returns a Server that accepts any bearer token.
func New() *Server {
	return NewWithOptions(Options{})
}

// NewWithOptions returns a Server configured by opts.
func NewWithOptions(opts Options) *Server {
	s := &Server{
		opts:    opts,
		tokens:  map[string]bool{},
		clock:   opts.Clock,
		sleep:   opts.Sleep,
		api:     http.NewServeMux(),
		control: http.NewServeMux(),
	}
	for _, t := range opts.Tokens {
		s.tokens[t] = true
	}
	if s.opts.UserName == "" {
		s.opts.UserName = DefaultUserName
	}
	if s.clock == nil {
		s.clock = time.Now
	}
	if s.sleep == nil {
		s.sleep = throttle.Sleep
	}
	s.resetLocked()
	s.setConfigLocked(opts.Config)
	for _, rt := range s.routes() {
		rt := rt
		s.api.HandleFunc(rt.pattern, func(w http.ResponseWriter, r *http.Request) { s.serveAPI(w, r, rt) })
	}
	s.registerToken()
	s.api.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, errNotFoundEndpoint(r.Method, r.URL.Path))
	})
	s.registerControl()
	return s
}

// route binds a method and path pattern to a handler.
type route struct {
	pattern string
	// public routes need no bearer token (OAuth discovery and token).
	public  bool
	handler func(s *Server, c *call) (any, error)
}

// call is one authenticated request, handled with the server lock held.
type call struct {
	r    *http.Request
	body []byte
	ws   *workspace
	who  principal
	now  time.Time
	base string
}

// query returns the URL query parameter name.
func (c *call) query(name string) string {
	return c.r.URL.Query().Get(name)
}

// decode parses the JSON request body into v.
func (c *call) decode(v any) error {
	if len(strings.TrimSpace(string(c.body))) == 0 {
		return errMalformed("request body is empty, expected a json object")
	}
	if err := json.Unmarshal(c.body, v); err != nil {
		return errMalformed("failed to parse request body: %v", err)
	}
	return nil
}

// rawBody is a handler result written as-is instead of JSON.
type rawBody struct {
	contentType string
	data        []byte
}

// statusRecorder remembers the status written through it.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (w *statusRecorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusRecorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// ServeHTTP serves the emulated REST API and the control endpoints.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/__emulator/") {
		s.control.ServeHTTP(w, r)
		return
	}
	s.inflight.Add(1)
	defer s.inflight.Add(-1)
	rec := &statusRecorder{ResponseWriter: w}
	defer func() {
		status := rec.status
		if status == 0 {
			status = http.StatusOK
		}
		s.mu.Lock()
		s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Status: status})
		s.mu.Unlock()
	}()
	s.mu.Lock()
	latency := s.cfg.Latency
	s.mu.Unlock()
	if latency > 0 && s.sleep(r.Context(), latency) != nil {
		// The client went away; 499 is what proxies record for it.
		rec.WriteHeader(499)
		return
	}
	s.api.ServeHTTP(rec, r)
}

// WaitIdle waits until no API request is being served, or timeout passes,
// and reports whether the server is idle. A client that gives up on a
// request (its context is cancelled) returns at once, while the server may
// still be carrying the request out; tests that interrupt a deploy wait for
// that before they look at the workspace or deploy again, as a later CI run
// would find it.
func (s *Server) WaitIdle(timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for s.inflight.Load() > 0 {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(time.Millisecond)
	}
	return true
}

// serveAPI authenticates, decides on throttling and faults before anything
// is changed,
// reads the body and runs the handler under the server lock.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request, rt route) {
	body, apiErr := readBody(r)
	if apiErr != nil {
		writeError(w, apiErr)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := &call{r: r, body: body, now: s.clock(), base: "http://" + r.Host}
	if !rt.public {
		who, apiErr := s.authenticateLocked(r)
		if apiErr != nil {
			writeError(w, apiErr)
			return
		}
		c.who = who
		c.ws = s.workspaceLocked(who)
		if p := s.cfg.EchoAuthorization; p != "" && strings.HasPrefix(r.URL.Path, p) {
			writeError(w, errPermissionDenied("request with Authorization: %s is not allowed", r.Header.Get("Authorization")))
			return
		}
		if wait := s.throttleLocked(who.workspace, c.now); wait > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(wait))
			writeError(w, errRateLimited())
			return
		}
		if fault := s.faultLocked(); fault != nil {
			if fault.status == http.StatusTooManyRequests {
				w.Header().Set("Retry-After", strconv.Itoa(s.rng.IntN(2)))
			}
			writeError(w, fault)
			return
		}
	}
	out, err := rt.handler(s, c)
	if err != nil {
		var apiErr *apiError
		if errors.As(err, &apiErr) {
			writeError(w, apiErr)
			return
		}
		writeError(w, newError(http.StatusInternalServerError, "INTERNAL_ERROR", "%v", err))
		return
	}
	switch v := out.(type) {
	case rawBody:
		w.Header().Set("Content-Type", v.contentType)
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(v.data)
	case nil:
		writeJSON(w, http.StatusOK, struct{}{})
	default:
		writeJSON(w, http.StatusOK, v)
	}
}

func (s *Server) authenticateLocked(r *http.Request) (principal, *apiError) {
	h := r.Header.Get("Authorization")
	token, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || strings.TrimSpace(token) == "" {
		return principal{}, errUnauthenticated("no bearer token in the authorization header")
	}
	if p, ok := s.issued[token]; ok {
		return p, nil
	}
	if len(s.tokens) > 0 && !s.tokens[token] {
		return principal{}, errUnauthenticated("invalid access token %q", redact(token))
	}
	return principal{workspace: token, userName: s.opts.UserName}, nil
}

// redact keeps a token recognisable in messages without echoing it whole.
func redact(token string) string {
	if len(token) <= 4 {
		return "****"
	}
	return token[:4] + "****"
}

// faultLocked decides whether this request fails with an injected fault.
func (s *Server) faultLocked() *apiError {
	if s.cfg.FaultRate <= 0 || s.rng.Float64() >= s.cfg.FaultRate {
		return nil
	}
	if s.rng.IntN(2) == 0 {
		return errRateLimited()
	}
	return errUnavailable()
}

func (s *Server) workspaceLocked(who principal) *workspace {
	ws, ok := s.spaces[who.workspace]
	if !ok {
		now := s.clock()
		ws = newWorkspace(who, now)
		for _, seed := range slices.Concat(s.seeds, s.keyedSeeds[who.workspace]) {
			_ = ws.seed(seed, now)
		}
		delete(s.keyedSeeds, who.workspace)
		s.spaces[who.workspace] = ws
	}
	return ws
}

// peekWorkspace returns the workspace of key without creating it.
func (s *Server) peekWorkspace(key string) *workspace {
	return s.spaces[key]
}

// stableID derives a positive numeric id from a name, so that the same user
// gets the same id in every run.
func stableID(name string) int64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(name))
	return int64(h.Sum64()>>12) + 1
}

func millis(t time.Time) int64 { return t.UnixMilli() }
