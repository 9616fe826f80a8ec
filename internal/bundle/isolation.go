package bundle

import (
	"fmt"
	"path"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// Isolation makes a load a test deployment (test --integration, and the
// destroy of one): schedules, triggers and continuous settings of every job
// are paused, so a test deployment never starts runs on its own even when
// its clean-up never happens. With a Name it is also a deployment of its
// own: every workspace path moves under a sub-directory of that name and
// every resource gets a name of its own (see isolate), so that two pull
// requests deploying the same target never share files, state or
// resources.
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

// isolate pauses the jobs' schedules and, with a name, makes the names of
// every resource the deployment's own: "[<name>] " before job, pipeline
// and workspace model names and the last element of an experiment's path,
// "-<name>" after serving endpoint names and "_<name>" after Unity Catalog
// names (schemas, volumes, registered models, an endpoint's inference
// table prefix). It runs before references between resources are
// resolved, so what refers to a renamed resource follows it. A quality
// monitor follows the inference table of an endpoint of the bundle; one
// on any other table would be the monitor of every deployment of the
// target (a table has one), so a test deployment leaves it out and says
// so. The paths were moved by workspaceDefaults before anything was
// derived from them.
func (l *loader) isolate(res *yaml.Node) {
	iso := l.opts.Isolate
	if iso == nil {
		return
	}
	each(res, "jobs", func(key, job *yaml.Node) {
		for _, k := range []string{"schedule", "trigger", "continuous"} {
			if s := get(job, k); s != nil && s.Kind == yaml.MappingNode {
				l.t.set(s, "pause_status", l.t.scalar("PAUSED", s))
			}
		}
	})
	if iso.Name == "" {
		return
	}
	tag := "[" + iso.Name + "] "
	ident := "_" + notIdentifier.ReplaceAllString(iso.Name, "_")
	suffix := "-" + strings.ReplaceAll(iso.Name, ".", "-")
	rename := func(n *yaml.Node, field string, fn func(string) string) {
		if v := get(n, field); v != nil && v.Kind == yaml.ScalarNode && !isNull(v) {
			v.Value, v.Tag = fn(v.Value), "!!str"
		}
	}
	for _, typ := range []string{"jobs", "pipelines", "models"} {
		each(res, typ, func(_, n *yaml.Node) { rename(n, "name", func(s string) string { return tag + s }) })
	}
	each(res, "experiments", func(_, n *yaml.Node) {
		rename(n, "name", func(s string) string { dir, base := path.Split(s); return dir + tag + base })
	})
	for _, typ := range []string{"schemas", "volumes", "registered_models"} {
		each(res, typ, func(_, n *yaml.Node) { rename(n, "name", func(s string) string { return s + ident }) })
	}
	payloads := map[string]string{} // an endpoint's inference table, before and after
	each(res, "model_serving_endpoints", func(_, n *yaml.Node) {
		before := payloadTable(n)
		rename(n, "name", func(s string) string { return s[:min(len(s), 63-len(suffix))] + suffix })
		rename(get(get(n, "config"), "auto_capture_config"), "table_name_prefix", func(s string) string { return s + ident })
		if before != "" {
			payloads[before] = payloadTable(n)
		}
	})
	if m := get(res, "quality_monitors"); m != nil && m.Kind == yaml.MappingNode {
		kept := m.Content[:0:0]
		for i := 0; i+1 < len(m.Content); i += 2 {
			key, n := m.Content[i], m.Content[i+1]
			table := str(get(n, "table_name"))
			if to, ok := payloads[table]; ok {
				rename(n, "table_name", func(string) string { return to })
				kept = append(kept, key, n)
				continue
			}
			l.add(l.t.warnAt("isolated-monitor", key, "quality monitor %q is left out of the test deployment %q: it watches %s, which every deployment of the target shares, and a table has one monitor", key.Value, iso.Name, table))
		}
		m.Content = kept
	}
}

// payloadTable is the inference table a serving endpoint's settings make,
// or "" (see the deploy engine's endpoints).
func payloadTable(ep *yaml.Node) string {
	ac := get(get(ep, "config"), "auto_capture_config")
	c, s := str(get(ac, "catalog_name")), str(get(ac, "schema_name"))
	if ac == nil || c == "" || s == "" || str(get(ac, "enabled")) == "false" {
		return ""
	}
	prefix := str(get(ac, "table_name_prefix"))
	if prefix == "" {
		prefix = str(get(ep, "name"))
	}
	return strings.ToLower(c + "." + s + "." + prefix + "_payload")
}
