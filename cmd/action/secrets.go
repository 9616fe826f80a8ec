package main

import (
	"strings"

	"github.com/brickci/brickci/internal/gha"
	"github.com/brickci/brickci/internal/github"
)

// secretInputs are the action inputs whose values are always credentials.
var secretInputs = []string{"github_token", "databricks_token", "databricks_client_secret"}

// secretEnv are the environment variables whose values are always
// credentials.
var secretEnv = []string{
	"DATABRICKS_TOKEN", "DATABRICKS_CLIENT_SECRET", "DATABRICKS_PASSWORD",
	"ARM_CLIENT_SECRET", "GITHUB_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
	"ACTIONS_RUNTIME_TOKEN",
}

// registerSecrets installs the runner mask as the registry's hook (inside
// Actions) and registers every credential the environment holds. Main
// calls it before a mode can print anything; the workspace client
// registers the rest (profile values, issued tokens) when it learns them.
func registerSecrets(inv *invocation) {
	if inv.onActions {
		inv.secrets.OnAdd(gha.New(inv.getenv, inv.stdout).AddMask)
	}
	for _, name := range secretInputs {
		inv.secrets.Add(inv.getenv("INPUT_" + strings.ToUpper(name)))
	}
	for _, k := range secretEnv {
		inv.secrets.Add(inv.getenv(k))
	}
}

// githubOptions are the GitHub client options for this run: from the
// environment, with request bodies cleaned by the credential registry.
func githubOptions(inv *invocation) github.Options {
	opts := github.OptionsFromEnv(inv.getenv)
	opts.Redact = inv.secrets.RedactBytes
	return opts
}
