package spec

import (
	"fmt"
	"path"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/brickci/brickci/internal/yamlpos"
)

var (
	topKeys = []string{"project", "bundle", "branches", "action", "runner", "targets", "tests", "release", "paths", "timeout-minutes", "generate", "lint", "build", "skip-unsupported", "depends-on", "projects"}
	// projectOnlyKeys describe one project: at the top of a spec without
	// projects:, or in each entry of projects:.
	projectOnlyKeys = []string{"project", "bundle", "tests", "release", "paths", "depends-on", "build", "skip-unsupported"}
	// projectKeys are the keys of an entry of projects:.
	projectKeys = append([]string{"targets", "timeout-minutes"}, projectOnlyKeys...)
	// repositoryKeys are set once, at the top: they shape the repository's
	// own workflows (lint, deploy-cicd) or hold for every project alike.
	repositoryKeys = []string{"branches", "action", "runner", "generate", "lint", "projects"}
	// repositoryTimeouts are the timeouts of the repository's own workflows.
	repositoryTimeouts = []string{"lint", "generate"}
	branchKeys         = []string{"default", "release"}
	targetKeys         = []string{"environment", "plan-environment", "plan", "auth", "host"}
	authKeys           = []string{"type", "token-secret", "client-id", "client-id-secret", "client-secret-secret", "tenant-id-secret", "audience"}
	testsKeys          = []string{"unit", "integration"}
	unitKeys           = []string{"python", "requirements", "command", "junit"}
	integrationKeys    = []string{"target", "jobs", "cleanup"}
	releaseKeys        = []string{"run"}
	timeoutKeys        = []string{"lint", "ci", "unit", "integration", "deploy", "run", "generate"}
	generateKeys       = []string{"token-secret"}
	lintKeys           = []string{"code-scanning"}
	buildKeys          = []string{"python", "packages"}
	authTypes          = []string{string(AuthPAT), string(AuthOAuthM2M), string(AuthAzureSP), string(AuthGitHubOIDC)}
)

// inherited is what a project of projects: takes from the top level
// unless it sets its own.
type inherited struct {
	targets []Target
	// targetsKey is the top level's targets key, nil without one.
	targetsKey *yaml.Node
	timeouts   Timeouts
}

func (p *parser) spec(root *yaml.Node, s *Spec) {
	m := p.fields(root, "the pipeline spec", topKeys)
	if m == nil {
		return
	}
	s.Branches = Branches{Default: "main", Release: "release"}
	if f, ok := m["branches"]; ok {
		p.branches(f, &s.Branches)
	}

	if v, at := p.required(m, "action", "the brickci action reference", root); v != "" {
		s.Action = v
		if a := deref(m["action"].val); a != nil {
			s.ActionVersion = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(a.LineComment), "#"))
		}
		p.actionRef(v, s.ActionVersion, at)
	}

	s.Runner = "ubuntu-latest"
	if f, ok := m["runner"]; ok {
		if v := p.str(f, "runner"); v != "" {
			s.Runner = v
		}
	}
	s.Timeouts = DefaultTimeouts
	if f, ok := m["timeout-minutes"]; ok {
		p.timeouts(f, &s.Timeouts, false)
	}
	s.Generate.Line, s.Generate.Column = root.Line, root.Column
	if len(root.Content) > 0 {
		s.Generate.Line, s.Generate.Column = root.Content[0].Line, root.Content[0].Column
	}
	if f, ok := m["generate"]; ok {
		s.Generate.Line, s.Generate.Column = f.key.Line, f.key.Column
		if gm := p.fields(f.val, "generate", generateKeys); gm != nil {
			if tf, ok := gm["token-secret"]; ok {
				s.Generate.TokenSecret = p.secret(tf, "generate.token-secret")
			}
		}
	}
	if f, ok := m["lint"]; ok {
		if lm := p.fields(f.val, "lint", lintKeys); lm != nil {
			if cf, ok := lm["code-scanning"]; ok {
				s.Lint.CodeScanning = p.boolean(cf, "lint.code-scanning")
			}
		}
	}

	pf, multi := m["projects"]
	if !multi {
		pr := Project{Timeouts: s.Timeouts}
		p.project(m, root, nil, &pr)
		s.Projects = []Project{pr}
		s.Project, s.Bundle, s.BundleLine, s.BundleColumn = pr.Name, pr.Bundle, pr.BundleLine, pr.BundleColumn
		s.Targets, s.Tests, s.Release, s.Paths, s.DependsOn = pr.Targets, pr.Tests, pr.Release, pr.Paths, pr.DependsOn
		s.Build, s.SkipUnsupported = pr.Build, pr.SkipUnsupported
		return
	}
	s.MultiProject = true
	for _, k := range projectOnlyKeys {
		if f, ok := m[k]; ok {
			p.errorf(RuleScope, f.key, "%s is set per project in a spec with projects:; move it into the entries of projects: that need it", k)
		}
	}
	inh := &inherited{timeouts: s.Timeouts}
	if f, ok := m["targets"]; ok {
		inh.targets, _ = p.targetList(f)
		inh.targetsKey = f.key
	}
	p.projects(pf, s, inh)
}

// projects reads the entries of projects: and checks them against each
// other: unique names, bundle directories that do not nest.
func (p *parser) projects(f field, s *Spec, inh *inherited) {
	v := deref(f.val)
	if v == nil || v.Kind != yaml.SequenceNode {
		p.errorf(RuleType, pos(f), "projects must be a list of mappings, each with project: and bundle:, got %s", yamlpos.Describe(v))
		return
	}
	if len(v.Content) == 0 {
		p.errorf(RuleProject, f.key, "projects is empty; list at least one project, or remove projects: and write the project's keys at the top")
		return
	}
	names := map[string]int{}
	for i, e := range v.Content {
		what := fmt.Sprintf("entry %d of projects", i+1)
		m := p.fieldsElsewhere(e, what, projectKeys, repositoryKeys)
		if m == nil {
			continue
		}
		at := orNode(deref(e), v)
		for _, k := range repositoryKeys {
			if kf, ok := m[k]; ok {
				p.errorf(RuleScope, kf.key, "%s is repository-wide and set once at the top of the spec, not in a project; move it there", k)
			}
		}
		pr := Project{Timeouts: inh.timeouts}
		p.project(m, at, inh, &pr)
		if tf, ok := m["timeout-minutes"]; ok {
			p.timeouts(tf, &pr.Timeouts, true)
		}
		if pr.Name != "" {
			if line, dup := names[pr.Name]; dup {
				p.errorf(RuleProject, &yaml.Node{Line: pr.Line, Column: pr.Column}, "project %q is already defined at line %d; give each project a name of its own", pr.Name, line)
			} else {
				names[pr.Name] = pr.Line
			}
		}
		s.Projects = append(s.Projects, pr)
	}
	p.nesting(s.Projects)
}

// nesting reports bundle directories that are the same as, or inside,
// another project's: a change there would run both projects' workflows,
// and each bundle's files would be deployed by the other.
func (p *parser) nesting(projects []Project) {
	for j := range projects {
		b := &projects[j]
		for i := range projects[:j] {
			a := &projects[i]
			if a.Name == "" || b.Name == "" {
				continue
			}
			at := &yaml.Node{Line: b.BundleLine, Column: b.BundleColumn}
			if b.BundleLine == 0 {
				at = &yaml.Node{Line: b.Line, Column: b.Column}
			}
			msg := ""
			switch {
			case a.Bundle == b.Bundle:
				msg = fmt.Sprintf("project %q uses bundle directory %q, as project %q does; give each project a directory of its own", b.Name, b.Bundle, a.Name)
			case within(b.Bundle, a.Bundle):
				msg = fmt.Sprintf("bundle directory %q of project %q is inside %q of project %q; bundles must not nest: give each project a directory of its own", b.Bundle, b.Name, a.Bundle, a.Name)
			case within(a.Bundle, b.Bundle):
				msg = fmt.Sprintf("bundle directory %q of project %q holds %q of project %q; bundles must not nest: give each project a directory of its own", b.Bundle, b.Name, a.Bundle, a.Name)
			}
			// One finding per project: the first it collides with.
			if msg != "" {
				p.errorf(RuleBundle, at, "%s", msg)
				break
			}
		}
	}
}

// project reads the keys of one project from m: the top level of a spec
// without projects: (inh nil), or one entry of projects:. at is where
// findings about missing keys point. Timeouts are the caller's: the top
// level's are read once.
func (p *parser) project(m map[string]field, at *yaml.Node, inh *inherited, pr *Project) {
	pr.Line, pr.Column = at.Line, at.Column
	if v, vat := p.required(m, "project", "the project name", at); v != "" && !projectRe.MatchString(v) {
		p.errorf(RuleProject, vat, "project name %q may only hold letters, digits, '.', '_' and '-' and must start with a letter or digit", v)
	} else {
		pr.Name = v
		if vat != nil {
			pr.Line, pr.Column = vat.Line, vat.Column
		}
	}

	pr.Bundle = "."
	if f, ok := m["bundle"]; ok {
		bat := pos(f)
		pr.BundleLine, pr.BundleColumn = bat.Line, bat.Column
		if v := p.str(f, "bundle"); v != "" {
			clean := path.Clean(strings.ReplaceAll(v, "\\", "/"))
			switch {
			case path.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, "../"):
				p.errorf(RuleBundle, bat, "bundle directory %q must be relative to the repository root and stay inside it", v)
			default:
				pr.Bundle = clean
			}
		}
	}

	tf, hasTargets := m["targets"]
	var seen map[string]int
	if hasTargets {
		pr.Targets, seen = p.targetList(tf)
	}
	switch {
	case inh == nil && !hasTargets:
		p.errorf(RuleTargetMissing, at, "targets are missing; define at least %q", RequiredTargets)
	case inh == nil:
		for _, req := range RequiredTargets {
			if _, ok := seen[req]; !ok {
				p.errorf(RuleTargetMissing, tf.key, "target %q is missing; the %s deploy needs it", req, req)
			}
		}
	default:
		pr.Targets = mergeTargets(inh.targets, pr.Targets)
		where := at
		if hasTargets {
			where = tf.key
		} else if inh.targetsKey == nil {
			p.errorf(RuleTargetMissing, at, "project %q has no targets; define at least %q under targets: at the top of the spec or in the project", pr.Name, RequiredTargets)
			break
		}
		for _, req := range RequiredTargets {
			if _, ok := pr.Target(req); !ok {
				p.errorf(RuleTargetMissing, where, "project %q has no target %q; the %s deploy needs it: define it under targets: at the top of the spec or in the project", pr.Name, req, req)
			}
		}
	}

	if f, ok := m["tests"]; ok {
		p.tests(f, pr)
	}
	if f, ok := m["release"]; ok {
		if rm := p.fields(f.val, "release", releaseKeys); rm != nil {
			if rf, ok := rm["run"]; ok {
				pr.Release.Run = p.jobs(rf, "release.run")
			}
		}
	}
	if f, ok := m["paths"]; ok {
		for _, r := range p.list(f, "paths") {
			if strings.TrimSpace(r.Name) == "" || strings.HasPrefix(r.Name, "/") {
				p.errorf(RuleValue, &yaml.Node{Line: r.Line, Column: r.Column}, "path filter %q must be a non-empty pattern relative to the repository root", r.Name)
				continue
			}
			pr.Paths = append(pr.Paths, r.Name)
		}
	}
	if f, ok := m["depends-on"]; ok {
		p.dependsOn(f, pr)
	}
	if f, ok := m["build"]; ok {
		p.build(f, pr)
	}
	if f, ok := m["skip-unsupported"]; ok {
		p.skipUnsupported(f, pr)
	}
	if hasTargets || (inh != nil && inh.targetsKey != nil) {
		p.crossCheck(pr)
	}
}

// mergeTargets returns the top level's targets with a project's own in
// place of those of the same name, then the project's other targets. A
// project's target replaces the top level's whole, auth included.
func mergeTargets(top, own []Target) []Target {
	out := make([]Target, 0, len(top)+len(own))
	used := map[string]bool{}
	for _, t := range top {
		for _, o := range own {
			if o.Name == t.Name {
				t = o
				break
			}
		}
		used[t.Name] = true
		out = append(out, t)
	}
	for _, o := range own {
		if !used[o.Name] {
			out = append(out, o)
		}
	}
	return out
}

// dependsOn reads depends-on: shared directories of the repository whose
// changes run the project's bundle workflows. They are directories, not
// patterns (those go under paths), so that a reader can see what a
// project depends on; whether they exist is Check's to say.
func (p *parser) dependsOn(f field, pr *Project) {
	seen := map[string]bool{}
	for _, r := range p.list(f, "depends-on") {
		at := &yaml.Node{Line: r.Line, Column: r.Column}
		clean := path.Clean(strings.ReplaceAll(r.Name, "\\", "/"))
		switch {
		case strings.TrimSpace(r.Name) == "":
			p.errorf(RuleDependsOn, at, "depends-on entry is empty; name a directory relative to the repository root, such as libs/common")
		case path.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, "../"):
			p.errorf(RuleDependsOn, at, "depends-on directory %q must be relative to the repository root and stay inside it", r.Name)
		case clean == ".":
			p.errorf(RuleDependsOn, at, "depends-on directory %q is the whole repository; name the shared directory, such as libs/common", r.Name)
		case strings.ContainsAny(clean, "*?[]{}!"):
			p.errorf(RuleDependsOn, at, "depends-on entry %q is a pattern; name a directory, and put patterns under paths", r.Name)
		case seen[clean]:
			p.errorf(RuleDependsOn, at, "directory %q is listed twice in depends-on; remove one", r.Name)
		default:
			seen[clean] = true
			pr.DependsOn = append(pr.DependsOn, JobRef{Name: clean, Line: r.Line, Column: r.Column})
		}
	}
}

func (p *parser) branches(f field, b *Branches) {
	m := p.fields(f.val, "branches", branchKeys)
	if m == nil {
		return
	}
	read := func(key string, dst *string) {
		bf, ok := m[key]
		if !ok {
			return
		}
		v := p.str(bf, "branches."+key)
		if v == "" {
			if isScalar(bf.val) {
				p.errorf(RuleBranch, pos(bf), "branches.%s is empty; name a branch", key)
			}
			return
		}
		if why := badRef(v); why != "" {
			p.errorf(RuleBranch, pos(bf), "branch name %q is not a valid git branch: %s", v, why)
			return
		}
		*dst = v
	}
	read("default", &b.Default)
	read("release", &b.Release)
	if b.Default == b.Release {
		at := f.key
		if rf, ok := m["release"]; ok {
			at = pos(rf)
		}
		p.errorf(RuleBranch, at, "default and release branches are both %q; the release branch must differ", b.Default)
	}
}

// badRef applies git check-ref-format's rules to a branch name and says
// what is wrong, or returns "".
func badRef(name string) string {
	switch {
	case name == "@":
		return `"@" alone is not allowed`
	case strings.HasPrefix(name, "-"):
		return "it must not start with '-'"
	case strings.HasPrefix(name, "/") || strings.HasSuffix(name, "/"):
		return "it must not start or end with '/'"
	case strings.Contains(name, "//"):
		return "it must not contain '//'"
	case strings.Contains(name, ".."):
		return "it must not contain '..'"
	case strings.Contains(name, "@{"):
		return "it must not contain '@{'"
	case strings.HasSuffix(name, "."):
		return "it must not end with '.'"
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f || strings.ContainsRune(" ~^:?*[\\", r) {
			return fmt.Sprintf("it must not contain %q", r)
		}
	}
	for _, c := range strings.Split(name, "/") {
		if strings.HasPrefix(c, ".") {
			return fmt.Sprintf("component %q must not start with '.'", c)
		}
		if strings.HasSuffix(c, ".lock") {
			return fmt.Sprintf("component %q must not end with \".lock\"", c)
		}
	}
	return ""
}

func (p *parser) actionRef(v, version string, at *yaml.Node) {
	if v == "." || strings.HasPrefix(v, "./") {
		if strings.Contains(v, "..") {
			p.errorf(RuleActionRef, at, "local action %q must stay inside the repository", v)
		}
		return
	}
	repo, ref, ok := strings.Cut(v, "@")
	if !ok || !repoRe.MatchString(repo) || ref == "" {
		p.errorf(RuleActionRef, at, "action reference %q must be \"./\" for the action in this repository or \"owner/repo@<40-hex commit sha>\"", v)
		return
	}
	switch {
	case shaRe.MatchString(ref):
		if version == "" {
			p.warnf(RuleActionRef, at, "action %q is pinned by sha without a version comment; add one such as \"# v1.2.3\"", v)
		}
	case versionRe.MatchString(ref):
		p.warnf(RuleActionRef, at, "action %q is pinned by the tag %q, which can move; pin the 40-hex commit sha and keep the tag as a comment", v, ref)
	default:
		p.errorf(RuleActionRef, at, "action %q is pinned by %q, which is neither a commit sha nor a version tag; pin the 40-hex commit sha", v, ref)
	}
}

func (p *parser) secret(f field, what string) string {
	v := p.str(f, what)
	if v == "" {
		if isScalar(f.val) && deref(f.val).Value == "" {
			p.errorf(RuleSecretName, pos(f), "%s is empty; name a GitHub secret", what)
		}
		return ""
	}
	switch {
	case !secretRe.MatchString(v):
		p.errorf(RuleSecretName, pos(f), "secret name %q is invalid; GitHub secret names hold only letters, digits and '_' and do not start with a digit", v)
		return ""
	case strings.HasPrefix(strings.ToUpper(v), "GITHUB_"):
		p.errorf(RuleSecretName, pos(f), "secret name %q is invalid; GitHub secret names must not start with \"GITHUB_\"", v)
		return ""
	}
	return v
}

// targetList reads a targets mapping and returns its targets in order and
// the line of each name. Whether staging and prod are there is for the
// caller to say: a project may take them from the top level.
func (p *parser) targetList(f field) ([]Target, map[string]int) {
	seen := map[string]int{}
	n := deref(f.val)
	if n == nil || n.Kind != yaml.MappingNode {
		p.errorf(RuleType, pos(f), "targets must be a mapping of target name to settings, got %s", yamlpos.Describe(n))
		return nil, seen
	}
	var out []Target
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := deref(n.Content[i])
		if k == nil || k.Kind != yaml.ScalarNode || k.Value == "" {
			p.errorf(RuleType, n.Content[i], "target names must be strings, got %s", yamlpos.Describe(k))
			continue
		}
		if k.Tag == "!!merge" {
			p.errorf(RuleType, k, "merge keys are not supported directly under targets; write each target out")
			continue
		}
		name := k.Value
		if line, dup := seen[name]; dup {
			p.errorf(RuleTargetDuplicate, k, "target %q is already defined at line %d; remove one of them", name, line)
			continue
		}
		seen[name] = k.Line
		if !nameRe.MatchString(name) {
			p.errorf(RuleValue, k, "target name %q may only hold letters, digits, '_' and '-'", name)
			continue
		}
		t := Target{Name: name, Line: k.Line, Column: k.Column, Environment: name, Plan: true}
		p.target(field{key: k, val: n.Content[i+1]}, &t)
		if t.PlanEnvironment == "" {
			t.PlanEnvironment = t.Environment + PlanEnvironmentSuffix
		}
		out = append(out, t)
	}
	return out, seen
}

func (p *parser) target(f field, t *Target) {
	what := fmt.Sprintf("target %q", t.Name)
	m := p.fields(f.val, what, targetKeys)
	if m == nil {
		return
	}
	for key, dst := range map[string]*string{"environment": &t.Environment, "plan-environment": &t.PlanEnvironment} {
		ef, ok := m[key]
		if !ok {
			continue
		}
		if v := p.str(ef, what+" "+key); v != "" {
			if strings.ContainsAny(v, "${}") || strings.TrimSpace(v) != v {
				p.errorf(RuleValue, pos(ef), "%s %q of %s must be a plain GitHub environment name", key, v, what)
			} else {
				*dst = v
			}
		}
	}
	if pf, ok := m["plan"]; ok {
		t.Plan = p.boolean(pf, what+" plan")
		if ef, set := m["plan-environment"]; set && !t.Plan && isBool(pf.val) {
			p.warnf(RuleValue, ef.key, "plan-environment of %s has no effect with plan: false; remove one of them", what)
		}
	}
	if hf, ok := m["host"]; ok {
		if v := p.str(hf, what+" host"); v != "" {
			if !strings.HasPrefix(v, "https://") || strings.ContainsAny(v, " \t") {
				p.errorf(RuleValue, pos(hf), "host %q of %s must be an https:// workspace URL", v, what)
			} else {
				t.Host = v
			}
		}
	}
	af, ok := m["auth"]
	if !ok {
		p.errorf(RuleRequired, f.key, "%s has no auth; add auth: with a type of %q", what, authTypes)
		return
	}
	p.auth(af, what, &t.Auth)
}

func (p *parser) auth(f field, what string, a *Auth) {
	m := p.fields(f.val, what+" auth", authKeys)
	if m == nil {
		return
	}
	tf, ok := m["type"]
	if !ok {
		p.errorf(RuleRequired, f.key, "%s auth has no type; set type: to one of %q", what, authTypes)
		return
	}
	typ := p.str(tf, what+" auth type")
	if typ == "" {
		return
	}
	if !contains(authTypes, typ) {
		hint := ""
		if dm := didYouMean(typ, authTypes); strings.HasPrefix(dm, "; did you mean") {
			hint = dm
		}
		p.errorf(RuleAuth, pos(tf), "unknown auth type %q for %s; valid are %q%s", typ, what, authTypes, hint)
		return
	}
	a.Type = AuthType(typ)
	var allowed []string
	switch a.Type {
	case AuthPAT:
		allowed = []string{"token-secret"}
	case AuthOAuthM2M:
		allowed = []string{"client-id", "client-id-secret", "client-secret-secret"}
	case AuthAzureSP:
		allowed = []string{"client-id-secret", "client-secret-secret", "tenant-id-secret"}
	case AuthGitHubOIDC:
		allowed = []string{"client-id", "audience"}
	}
	for _, k := range authKeys[1:] {
		kf, ok := m[k]
		if !ok {
			continue
		}
		if !contains(allowed, k) {
			p.errorf(RuleAuth, kf.key, "key %q does not apply to auth type %q of %s; remove it (%s takes %q)", k, typ, what, typ, allowed)
			continue
		}
		switch k {
		case "token-secret":
			a.TokenSecret = p.secret(kf, what+" token-secret")
		case "client-id-secret":
			a.ClientIDSecret = p.secret(kf, what+" client-id-secret")
		case "client-secret-secret":
			a.ClientSecretSecret = p.secret(kf, what+" client-secret-secret")
		case "tenant-id-secret":
			a.TenantIDSecret = p.secret(kf, what+" tenant-id-secret")
		case "client-id":
			a.ClientID = p.expr(kf, what+" client-id")
		case "audience":
			a.Audience = p.expr(kf, what+" audience")
		}
	}
	need := func(key string) {
		if _, ok := m[key]; !ok {
			p.errorf(RuleRequired, f.key, "%s auth type %q needs %s", what, typ, key)
		}
	}
	switch a.Type {
	case AuthPAT:
		need("token-secret")
	case AuthOAuthM2M:
		_, id := m["client-id"]
		_, idSecret := m["client-id-secret"]
		switch {
		case id && idSecret:
			p.errorf(RuleAuth, m["client-id"].key, "%s sets both client-id and client-id-secret; keep one", what)
		case !id && !idSecret:
			p.errorf(RuleRequired, f.key, "%s auth type %q needs client-id-secret or client-id", what, typ)
		}
		need("client-secret-secret")
	case AuthAzureSP:
		need("client-id-secret")
		need("client-secret-secret")
		need("tenant-id-secret")
	case AuthGitHubOIDC:
		need("client-id")
	}
}

// expr reads a literal value or a single ${{ }} expression.
func (p *parser) expr(f field, what string) string {
	v := p.str(f, what)
	if v == "" {
		if isScalar(f.val) && deref(f.val).Value == "" {
			p.errorf(RuleRequired, pos(f), "%s is empty; set a value or an expression such as \"${{ vars.CLIENT_ID }}\"", what)
		}
		return ""
	}
	if strings.Contains(v, "${{") && (!strings.HasPrefix(v, "${{") || !strings.HasSuffix(v, "}}") || strings.Count(v, "${{") != 1) {
		p.errorf(RuleValue, pos(f), "%s %q must be a literal or one whole expression such as \"${{ vars.CLIENT_ID }}\"", what, v)
		return ""
	}
	if strings.Contains(v, "\n") {
		p.errorf(RuleValue, pos(f), "%s must be a single line", what)
		return ""
	}
	return v
}

func (p *parser) tests(f field, s *Project) {
	m := p.fields(f.val, "tests", testsKeys)
	if m == nil {
		return
	}
	if uf, ok := m["unit"]; ok {
		if um := p.fields(uf.val, "tests.unit", unitKeys); um != nil {
			u := &UnitTests{Python: "3.11"}
			if pf, ok := um["python"]; ok {
				u.Python = p.python(pf, "tests.unit.python")
			}
			if rf, ok := um["requirements"]; ok {
				u.Requirements = p.str(rf, "tests.unit.requirements")
			}
			if cf, ok := um["command"]; ok {
				if v := p.str(cf, "tests.unit.command"); v != "" {
					u.Command = v
				}
			}
			if jf, ok := um["junit"]; ok {
				u.JUnit = p.str(jf, "tests.unit.junit")
			}
			s.Tests.Unit = u
		}
	}
	if inf, ok := m["integration"]; ok {
		if im := p.fields(inf.val, "tests.integration", integrationKeys); im != nil {
			in := &Integration{Target: "test", Cleanup: true}
			if tf, ok := im["target"]; ok {
				if v := p.str(tf, "tests.integration.target"); v != "" {
					in.Target = v
					at := pos(tf)
					in.TargetLine, in.TargetColumn = at.Line, at.Column
				}
			} else {
				in.TargetLine, in.TargetColumn = inf.key.Line, inf.key.Column
			}
			if jf, ok := im["jobs"]; ok {
				in.Jobs = p.jobs(jf, "tests.integration.jobs")
			}
			if len(in.Jobs) == 0 {
				p.errorf(RuleRequired, inf.key, "tests.integration has no jobs; list the bundle jobs to run under jobs:")
			}
			if cf, ok := im["cleanup"]; ok {
				in.Cleanup = p.boolean(cf, "tests.integration.cleanup")
			}
			s.Tests.Integration = in
		}
	}
}

func (p *parser) python(f field, what string) string {
	v := deref(f.val)
	if v != nil && v.Kind == yaml.ScalarNode && (v.Tag == "!!float" || v.Tag == "!!int") {
		p.errorf(RuleType, v, "python version %s is read by YAML as a number (3.10 becomes 3.1); quote it: python: \"%s\"", v.Value, v.Value)
		return ""
	}
	s := p.str(f, what)
	if s == "" {
		return "3.11"
	}
	return s
}

func (p *parser) jobs(f field, what string) []JobRef {
	var out []JobRef
	seen := map[string]bool{}
	for _, j := range p.list(f, what) {
		at := &yaml.Node{Line: j.Line, Column: j.Column}
		switch {
		case !nameRe.MatchString(j.Name):
			p.errorf(RuleJob, at, "job key %q in %s may only hold letters, digits, '_' and '-'", j.Name, what)
		case seen[j.Name]:
			p.errorf(RuleJob, at, "job %q is listed twice in %s; remove one", j.Name, what)
		default:
			seen[j.Name] = true
			out = append(out, j)
		}
	}
	return out
}

// timeouts reads timeout-minutes into t. In a project (inProject) the
// timeouts of the repository's own workflows are errors: they are set once,
// at the top.
func (p *parser) timeouts(f field, t *Timeouts, inProject bool) {
	m := p.fields(f.val, "timeout-minutes", timeoutKeys)
	if m == nil {
		return
	}
	if inProject {
		for _, k := range repositoryTimeouts {
			if kf, ok := m[k]; ok {
				p.errorf(RuleScope, kf.key, "timeout-minutes.%s is repository-wide and set once at the top of the spec, not in a project; move it there", k)
				delete(m, k)
			}
		}
	}
	set := func(key string, dst *int) {
		if tf, ok := m[key]; ok {
			if n := p.minutes(tf, "timeout-minutes."+key); n > 0 {
				*dst = n
			}
		}
	}
	set("lint", &t.Lint)
	set("ci", &t.CI)
	set("unit", &t.Unit)
	set("integration", &t.Integration)
	set("deploy", &t.Deploy)
	set("run", &t.Run)
	set("generate", &t.Generate)
}

// crossCheck reports references to targets the project does not define.
func (p *parser) crossCheck(s *Project) {
	if in := s.Tests.Integration; in != nil {
		if _, ok := s.Target(in.Target); !ok {
			p.errorf(RuleTargetMissing, &yaml.Node{Line: in.TargetLine, Column: in.TargetColumn}, "integration target %q is not defined under targets; add it or pick one of %q", in.Target, s.TargetNames())
		}
	}
}
