package main

import (
	"crypto/tls"
	"fmt"
	"strings"

	"github.com/brickci/brickci/internal/throttle"
	"github.com/databricks/databricks-sdk-go"
	"github.com/databricks/databricks-sdk-go/config"
)

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

// hasCredentials reports whether any Databricks credential is configured,
// which decides whether checks that need a workspace run at all.
func hasCredentials(inv *invocation, wf workspaceFlags) bool {
	if *wf.profile != "" {
		return true
	}
	for _, k := range []string{"DATABRICKS_TOKEN", "DATABRICKS_CLIENT_ID", "DATABRICKS_AUTH_TYPE", "DATABRICKS_CONFIG_PROFILE", "ARM_CLIENT_ID"} {
		if inv.getenv(k) != "" {
			return true
		}
	}
	return false
}

// resolveHost applies the contract's precedence: --host, then the target's
// workspace.host, then DATABRICKS_HOST. When an explicit --host differs from
// the bundle's, it says so once on stderr.
func resolveHost(inv *invocation, wf workspaceFlags, bundleHost string) string {
	flagHost := strings.TrimRight(*wf.host, "/")
	bundleHost = strings.TrimRight(bundleHost, "/")
	switch {
	case flagHost != "":
		if bundleHost != "" && bundleHost != flagHost {
			inv.note("brickci %s: using host %s from --host instead of the target's %s", inv.mode, flagHost, bundleHost)
		}
		return flagHost
	case bundleHost != "":
		return bundleHost
	default:
		return strings.TrimRight(inv.getenv("DATABRICKS_HOST"), "/")
	}
}

// workspaceClient returns an SDK client for the resolved host, with
// credentials from Databricks unified auth read through the invocation's
// environment (and ~/.databrickscfg for --profile).
func workspaceClient(inv *invocation, wf workspaceFlags, bundleHost string) (*databricks.WorkspaceClient, error) {
	host := resolveHost(inv, wf, bundleHost)
	if host == "" {
		return nil, fmt.Errorf("no workspace host: set --host, the target's workspace.host or DATABRICKS_HOST")
	}
	base := sdkTransport()
	cfg := &databricks.Config{
		Host:    host,
		Profile: *wf.profile,
		Loaders: []config.Loader{envLoader{inv.getenv}, config.ConfigFile, defaultRateLimit{}},
		// The workspace's 429s pace the client (see internal/throttle), and
		// every credential the SDK sends or is issued is registered, whatever
		// the auth type, before a request leaves.
		HTTPTransport: inv.secrets.Transport(throttle.New(base, 0)),
	}
	w, err := databricks.NewWorkspaceClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("failed to configure the workspace client for %s: %w", host, err)
	}
	registerConfigSecrets(inv, w.Config)
	// The SDK applies insecure_skip_verify only to a transport of its own.
	if w.Config.InsecureSkipVerify {
		base.TLSClientConfig = &tls.Config{InsecureSkipVerify: true}
	}
	return w, nil
}
