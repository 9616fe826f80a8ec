package workspace

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/databricks/databricks-sdk-go"
	"github.com/databricks/databricks-sdk-go/config"

	"github.com/brickci/brickci/internal/redact"
	"github.com/brickci/brickci/internal/throttle"
)

// Env is what the package needs of the invocation: its environment, its
// workspace flags, the credential registry and a way to say one note.
type Env struct {
	// Getenv reads the invocation's environment (never the process's
	// directly).
	Getenv func(string) string
	// Host and Profile are --host and --profile; empty when not given.
	Host, Profile string
	// Secrets is the one credential registry; the credentials of every
	// client built are added to it, and every request goes through it.
	Secrets *redact.Set
	// Note says one line to the user (nil says nothing); Mode names the
	// mode in it.
	Note func(format string, args ...any)
	Mode string
}

func (e Env) note(format string, args ...any) {
	if e.Note != nil {
		e.Note(format, args...)
	}
}

// envLoader fills unset SDK config attributes from the invocation's getenv
// instead of the process environment, so tests can hand Main a map and the
// real environment cannot leak in.
type envLoader struct{ getenv func(string) string }

func (envLoader) Name() string { return "environment" }

func (l envLoader) Configure(cfg *config.Config) error {
	for _, attr := range config.ConfigAttributes {
		if !attr.IsZero(cfg) {
			continue
		}
		for _, name := range attr.EnvVars {
			if v := l.getenv(name); v != "" {
				if err := attr.SetS(cfg, v); err != nil {
					return fmt.Errorf("failed to read %s: %w", name, err)
				}
				break
			}
		}
	}
	return nil
}

// defaultRateLimit gives the client brickci's request rate ceiling when
// neither DATABRICKS_RATE_LIMIT nor the profile's rate_limit set one; the
// SDK's own default (15 per second) would pace parallel uploads far below
// what a workspace admits.
type defaultRateLimit struct{}

func (defaultRateLimit) Name() string { return "brickci defaults" }

func (defaultRateLimit) Configure(cfg *config.Config) error {
	if cfg.RateLimitPerSecond == 0 {
		cfg.RateLimitPerSecond = throttle.DefaultRateLimit
	}
	return nil
}

// HasCredentials reports whether any Databricks credential is configured,
// which decides whether checks that need a workspace run at all.
func (e Env) HasCredentials() bool {
	if e.Profile != "" {
		return true
	}
	for _, k := range []string{"DATABRICKS_TOKEN", "DATABRICKS_CLIENT_ID", "DATABRICKS_AUTH_TYPE", "DATABRICKS_CONFIG_PROFILE", "ARM_CLIENT_ID"} {
		if e.Getenv(k) != "" {
			return true
		}
	}
	return false
}

// ResolveHost applies the contract's precedence: --host, then the target's
// workspace.host, then DATABRICKS_HOST. When an explicit --host differs from
// the bundle's, it says so in a note.
func (e Env) ResolveHost(bundleHost string) string {
	flagHost := strings.TrimRight(e.Host, "/")
	bundleHost = strings.TrimRight(bundleHost, "/")
	switch {
	case flagHost != "":
		if bundleHost != "" && bundleHost != flagHost {
			e.note("brickci %s: using host %s from --host instead of the target's %s", e.Mode, flagHost, bundleHost)
		}
		return flagHost
	case bundleHost != "":
		return bundleHost
	default:
		return strings.TrimRight(e.Getenv("DATABRICKS_HOST"), "/")
	}
}

// ConfigError is the error Client returns when no client can be configured
// (no host, bad credentials settings): a bad invocation rather than a
// failure of the workspace.
type ConfigError struct{ Err error }

// Error returns the message of the underlying error.
func (e *ConfigError) Error() string { return e.Err.Error() }

// Unwrap returns the underlying error.
func (e *ConfigError) Unwrap() error { return e.Err }

// Client returns an SDK client for the resolved host, with credentials from
// Databricks unified auth read through the invocation's environment (and
// ~/.databrickscfg for --profile). Its errors are *ConfigError.
func (e Env) Client(bundleHost string) (*databricks.WorkspaceClient, error) {
	host := e.ResolveHost(bundleHost)
	if host == "" {
		return nil, &ConfigError{fmt.Errorf("no workspace host: set --host, the target's workspace.host or DATABRICKS_HOST")}
	}
	base := sdkTransport()
	cfg := &databricks.Config{
		Host:    host,
		Profile: e.Profile,
		Loaders: []config.Loader{envLoader{e.Getenv}, config.ConfigFile, defaultRateLimit{}},
		// The workspace's 429s pace the client (see internal/throttle), and
		// every credential the SDK sends or is issued is registered, whatever
		// the auth type, before a request leaves.
		HTTPTransport: e.Secrets.Transport(throttle.New(base, 0)),
	}
	w, err := databricks.NewWorkspaceClient(cfg)
	if err != nil {
		return nil, &ConfigError{fmt.Errorf("failed to configure the workspace client for %s: %w", host, err)}
	}
	e.registerConfigSecrets(w.Config)
	// The SDK applies insecure_skip_verify only to a transport of its own.
	if w.Config.InsecureSkipVerify {
		base.TLSClientConfig = &tls.Config{InsecureSkipVerify: true}
	}
	return w, nil
}

// registerConfigSecrets registers the credentials of a resolved SDK
// configuration, which may have come from a ~/.databrickscfg profile.
func (e Env) registerConfigSecrets(cfg *config.Config) {
	e.Secrets.Add(cfg.Token, cfg.ClientSecret, cfg.AzureClientSecret, cfg.Password)
}

// sdkTransport is the SDK's own default transport (which it uses only when
// none is given), with room for as many idle connections per host as
// parallel uploads use.
func sdkTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 64
	t.IdleConnTimeout = 180 * time.Second
	return t
}
