package bundle

import (
	"fmt"
	"regexp"
	"strings"
)

// Isolation makes a load a test deployment (test --integration, and the
// destroy of one): schedules, triggers and continuous settings of every job
// are paused, so a test deployment never starts runs on its own even when
// its clean-up never happens. With a Name it is also a deployment of its
// own: every workspace path moves under a sub-directory of that name, job
// names get a "[<name>] " prefix and serving endpoint names a "-<name>"
// suffix, so that two pull requests deploying the same target never share
// files, state, jobs or endpoints.
type Isolation struct {
	// Name is the sub-directory, for example "pr-42" or "run-1234"; empty
	// pauses schedules but keeps the target's own paths and names.
	Name string
}

// isolationRe limits an isolation name to one short path segment: it also
// suffixes serving endpoint names, which hold at most 63 characters.
var isolationRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$`)

// IsolationError is the error Load returns when the isolation name is not
// one short path segment.
type IsolationError struct {
	// Name is the rejected name.
	Name string
}

// Error names the value and the rule; the caller says where it came from.
func (e *IsolationError) Error() string {
	return fmt.Sprintf("%q must be one path segment of at most 40 letters, digits, '.', '_' and '-'", e.Name)
}

// check reports a name that cannot isolate a deployment.
func (iso *Isolation) check() error {
	if iso == nil || iso.Name == "" || isolationRe.MatchString(iso.Name) {
		return nil
	}
	return &IsolationError{Name: iso.Name}
}

// apply pauses the jobs' schedules and, with a name, makes job and serving
// endpoint names the deployment's own. The paths were moved by
// workspaceDefaults before anything was derived from them.
func (iso *Isolation) apply(b *Bundle) {
	if iso == nil {
		return
	}
	for _, j := range b.Jobs {
		for _, key := range []string{"schedule", "trigger", "continuous"} {
			if m, ok := j.Config[key].(map[string]any); ok {
				m["pause_status"] = "PAUSED"
			}
		}
	}
	if iso.Name == "" {
		return
	}
	for _, j := range b.Jobs {
		if name, ok := j.Config["name"].(string); ok {
			j.Config["name"] = "[" + iso.Name + "] " + name
		}
	}
	suffix := "-" + strings.ReplaceAll(iso.Name, ".", "-")
	for _, e := range b.ServingEndpoints {
		if name, ok := e.Config["name"].(string); ok {
			// Endpoint names are at most 63 characters.
			e.Config["name"] = name[:min(len(name), 63-len(suffix))] + suffix
		}
	}
}
