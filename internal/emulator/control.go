package emulator

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"time"
)

// Outcome is how a task of a job run, or a pipeline update, ends.
type Outcome string

// Task outcomes.
const (
	// OutcomeSuccess ends the task with result SUCCESS (the default).
	OutcomeSuccess Outcome = "SUCCESS"
	// OutcomeFailed ends the task with result FAILED.
	OutcomeFailed Outcome = "FAILED"
	// OutcomeHang keeps the task running until the run is cancelled.
	OutcomeHang Outcome = "HANG"
)

// DefaultTaskDuration is how long a task runs, and a serving endpoint config
// update takes, unless Config.TaskDuration says otherwise.
const DefaultTaskDuration = 50 * time.Millisecond

// Config is the behaviour injected into the emulator.
type Config struct {
	// Latency delays every API request (not control requests).
	Latency time.Duration
	// FaultRate is the probability in [0, 1] that an authenticated API
	// request fails with 429 REQUEST_LIMIT_EXCEEDED or 503
	// TEMPORARILY_UNAVAILABLE before it changes anything.
	FaultRate float64
	// Seed seeds the fault generator, so a sequence of requests meets the
	// same faults every time.
	Seed uint64
	// TaskDuration is how long each task runs; DefaultTaskDuration when zero.
	TaskDuration time.Duration
	// Outcomes maps job task keys, and pipeline names for the updates of
	// their pipelines, to how they end; missing keys succeed.
	Outcomes map[string]Outcome
	// RateLimit, when positive, is the number of authenticated API requests
	// per second each workspace admits, as a token bucket holding one
	// second's worth. A request over it is answered 429
	// REQUEST_LIMIT_EXCEEDED with a Retry-After header (whole seconds until
	// the bucket refills) before it changes anything, as a throttled
	// workspace answers.
	RateLimit float64
	// EchoAuthorization, when set, makes every authenticated API request
	// whose path starts with it ("/" for all) fail with 403
	// PERMISSION_DENIED whose message quotes the request's Authorization
	// header, as some proxies and misconfigured gateways do. Tests use it
	// to prove that a credential echoed by a server never reaches
	// brickci's output.
	EchoAuthorization string
}

// Request is one API request the emulator answered.
type Request struct {
	Method string `json:"method"`
	Path   string `json:"path"`
	Status int    `json:"status"`
}

// configBody is the JSON of POST /__emulator/config; absent fields keep
// their current value.
type configBody struct {
	LatencyMS      *int64             `json:"latency_ms"`
	FaultRate      *float64           `json:"fault_rate"`
	Seed           *uint64            `json:"seed"`
	TaskDurationMS *int64             `json:"task_duration_ms"`
	Outcomes       map[string]Outcome `json:"outcomes"`
	RateLimit      *float64           `json:"rate_limit"`
	EchoAuth       *string            `json:"echo_authorization"`
}

// Configure replaces the injected behaviour, reseeds the fault generator and
// refills every workspace's request budget.
func (s *Server) Configure(cfg Config) error {
	if err := validateConfig(cfg); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setConfigLocked(cfg)
	return nil
}

func validateConfig(cfg Config) error {
	if cfg.FaultRate < 0 || cfg.FaultRate > 1 {
		return fmt.Errorf("failed to configure emulator: fault rate %v is not within [0, 1]", cfg.FaultRate)
	}
	if cfg.RateLimit < 0 || math.IsNaN(cfg.RateLimit) || math.IsInf(cfg.RateLimit, 0) {
		return fmt.Errorf("failed to configure emulator: rate limit %v must be a finite number of requests per second, 0 for none", cfg.RateLimit)
	}
	if cfg.Latency < 0 || cfg.TaskDuration < 0 {
		return fmt.Errorf("failed to configure emulator: latency %v and task duration %v must not be negative", cfg.Latency, cfg.TaskDuration)
	}
	for key, o := range cfg.Outcomes {
		if o != OutcomeSuccess && o != OutcomeFailed && o != OutcomeHang {
			return fmt.Errorf("failed to configure emulator: outcome %q of task %q is not one of %q", o, key,
				[]Outcome{OutcomeSuccess, OutcomeFailed, OutcomeHang})
		}
	}
	return nil
}

func (s *Server) setConfigLocked(cfg Config) {
	cfg.Outcomes = maps.Clone(cfg.Outcomes)
	s.cfg = cfg
	s.rng = rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15))
	s.buckets = map[string]*bucket{}
}

// CurrentConfig returns the injected behaviour in effect.
func (s *Server) CurrentConfig() Config {
	s.mu.Lock()
	defer s.mu.Unlock()
	cfg := s.cfg
	cfg.Outcomes = maps.Clone(cfg.Outcomes)
	return cfg
}

func (s *Server) taskDurationLocked() time.Duration {
	if s.cfg.TaskDuration > 0 {
		return s.cfg.TaskDuration
	}
	return DefaultTaskDuration
}

// Requests returns every API request answered since the last reset, in
// order of completion. Control requests are not included.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Reset forgets all workspaces, issued OAuth tokens, recorded requests and
// seeds made for every workspace; new workspaces again hold only the
// catalog main with its schema default.
// The injected configuration is kept and the fault generator is reseeded.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.resetLocked()
	s.setConfigLocked(s.cfg)
}

func (s *Server) resetLocked() {
	s.spaces = map[string]*workspace{}
	s.issued = map[string]principal{}
	s.requests = nil
	s.seeds, s.keyedSeeds = nil, map[string][]Seed{}
}

func (s *Server) registerControl() {
	s.control.HandleFunc("GET /__emulator/requests", func(w http.ResponseWriter, r *http.Request) {
		reqs := s.Requests()
		if reqs == nil {
			reqs = []Request{}
		}
		writeJSON(w, http.StatusOK, reqs)
	})
	s.control.HandleFunc("POST /__emulator/reset", func(w http.ResponseWriter, r *http.Request) {
		s.Reset()
		writeJSON(w, http.StatusOK, struct{}{})
	})
	s.control.HandleFunc("POST /__emulator/config", s.handleConfig)
	s.control.HandleFunc("POST /__emulator/seed", s.handleSeed)
	s.control.HandleFunc("GET /__emulator/github-oidc", s.handleGitHubOIDC)
	s.control.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, errNotFoundEndpoint(r.Method, r.URL.Path))
	})
}

func (s *Server) handleConfig(w http.ResponseWriter, r *http.Request) {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		writeError(w, errInvalidParameter("failed to read request body: %v", err))
		return
	}
	var body configBody
	if err := json.Unmarshal(data, &body); err != nil {
		writeError(w, errMalformed("failed to parse config: %v", err))
		return
	}
	cfg := s.CurrentConfig()
	if body.LatencyMS != nil {
		cfg.Latency = time.Duration(*body.LatencyMS) * time.Millisecond
	}
	if body.FaultRate != nil {
		cfg.FaultRate = *body.FaultRate
	}
	if body.Seed != nil {
		cfg.Seed = *body.Seed
	}
	if body.TaskDurationMS != nil {
		cfg.TaskDuration = time.Duration(*body.TaskDurationMS) * time.Millisecond
	}
	if body.Outcomes != nil {
		cfg.Outcomes = body.Outcomes
	}
	if body.RateLimit != nil {
		cfg.RateLimit = *body.RateLimit
	}
	if body.EchoAuth != nil {
		cfg.EchoAuthorization = *body.EchoAuth
	}
	if err := s.Configure(cfg); err != nil {
		writeError(w, errInvalidParameter("%v", err))
		return
	}
	writeJSON(w, http.StatusOK, configJSON(cfg))
}

// seedBody is the JSON of POST /__emulator/seed: the objects to seed and
// the workspace (its token or client id) to seed them in, every workspace
// when empty.
type seedBody struct {
	Seed
	Workspace string `json:"workspace"`
}

func (s *Server) handleSeed(w http.ResponseWriter, r *http.Request) {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		writeError(w, errInvalidParameter("failed to read request body: %v", err))
		return
	}
	var body seedBody
	if err := json.Unmarshal(data, &body); err != nil {
		writeError(w, errMalformed("failed to parse seed: %v", err))
		return
	}
	if err := s.Seed(body.Workspace, body.Seed); err != nil {
		writeError(w, errInvalidParameter("%v", err))
		return
	}
	writeJSON(w, http.StatusOK, struct{}{})
}

func configJSON(cfg Config) map[string]any {
	outcomes := cfg.Outcomes
	if outcomes == nil {
		outcomes = map[string]Outcome{}
	}
	return map[string]any{
		"latency_ms":         cfg.Latency.Milliseconds(),
		"fault_rate":         cfg.FaultRate,
		"seed":               cfg.Seed,
		"task_duration_ms":   cfg.TaskDuration.Milliseconds(),
		"outcomes":           outcomes,
		"rate_limit":         cfg.RateLimit,
		"echo_authorization": cfg.EchoAuthorization,
	}
}
