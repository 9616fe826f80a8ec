package bundle

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
	"gopkg.in/yaml.v3"

	"github.com/brickci/brickci/internal/diag"
	"github.com/brickci/brickci/internal/gitinfo"
	"github.com/brickci/brickci/internal/yamllimit"
)

// LoadOptions says which bundle to load, for which target and with what
// outside values.
type LoadOptions struct {
	// Dir is the bundle root, the directory holding databricks.yml. Findings
	// name files as Dir joined with their path inside the bundle.
	Dir string
	// Target is the target to resolve; empty selects the target marked
	// `default: true`, else the only target, else the implicit "default".
	Target string
	// Vars are variable values given on the command line (--var name=value).
	Vars map[string]string
	// Getenv reads BUNDLE_VAR_<name> variables; nil reads nothing.
	Getenv func(string) string
	// CurrentUser is the identity to resolve for; nil resolves offline, with
	// ${workspace.current_user.*} left in place (unless Resolve gives one).
	CurrentUser *User
	// Lookups resolves a variable's `lookup` (kind such as "cluster" or
	// "warehouse", and the name) to an id. Nil leaves lookups unresolved and
	// reports each as an info finding (unless Resolve gives one).
	Lookups LookupFunc
	// Resolve, when set, is called once the target's overrides are merged,
	// with the target's workspace host and profile as written, and before
	// anything is interpolated: it supplies the current user and the lookups
	// from the workspace that block names (internal/workspace does). A nil
	// user or lookup keeps CurrentUser or Lookups. An error from it is
	// returned by Load as it is.
	Resolve func(ws Workspace) (*User, LookupFunc, error)
	// Strict reports unknown fields as errors rather than warnings.
	Strict bool
	// Checkout reads the git checkout holding a directory, for
	// ${bundle.git.*} (gitinfo.Read); nil reads none, so only bundle.git in
	// databricks.yml and the GitHub Actions context (through Getenv) count.
	Checkout func(dir string) (gitinfo.Checkout, error)
	// Isolate, when set, makes the load a test deployment of its own (see
	// Isolation).
	Isolate *Isolation
	// ArtifactsBuilt says the artifacts' builds have run: a path an
	// artifact produces that matches no file is then an error instead of
	// an info saying that it will be built.
	ArtifactsBuilt bool
}

// LookupFunc resolves a variable's lookup (kind such as "cluster" and the
// object's name) to the object's id.
type LookupFunc func(kind, name string) (string, error)

// Load reads the bundle in opts.Dir and resolves it for one target.
//
// It returns an error only when the bundle cannot be read at all: no
// databricks.yml, or a file that cannot be read. Everything about the
// content — malformed YAML, unknown fields, a missing include, an unknown
// target, an undefined variable, a reference cycle — is a finding with its
// position. The bundle is nil when findings make resolving impossible
// (malformed YAML in the root file, an unknown target). Callers exit 2 on
// an error and 1 when findings reach the fail level.
func Load(opts LoadOptions) (*Bundle, diag.List, error) {
	if opts.Getenv == nil {
		opts.Getenv = func(string) string { return "" }
	}
	if err := opts.Isolate.check(); err != nil {
		return nil, nil, err
	}
	rootFile, err := findRoot(opts.Dir)
	if err != nil {
		return nil, nil, err
	}
	l := &loader{opts: opts, t: newTree(), rootFile: rootFile}
	b, err := l.load()
	if err != nil {
		return nil, nil, err
	}
	if opts.Strict {
		for i, f := range l.diags {
			if f.Rule == "unknown-field" && f.Severity == diag.Warning {
				l.diags[i].Severity = diag.Error
			}
		}
	}
	l.diags.Sort()
	return b, dedupe(l.diags), nil
}

// findRoot returns the path of databricks.yml or databricks.yaml in dir.
func findRoot(dir string) (string, error) {
	var found []string
	for _, name := range []string{"databricks.yml", "databricks.yaml"} {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			found = append(found, p)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("failed to read bundle root %q: %w", p, err)
		}
	}
	switch len(found) {
	case 0:
		return "", fmt.Errorf("no databricks.yml in %q: pass --bundle with the directory that holds it", dir)
	case 1:
		return found[0], nil
	}
	return "", fmt.Errorf("both %q and %q exist: keep one", found[0], found[1])
}

type loader struct {
	opts      LoadOptions
	t         *tree
	rootFile  string
	diags     diag.List
	artifacts []Artifact
}

func (l *loader) add(fs ...diag.Finding) { l.diags = append(l.diags, fs...) }

// read parses one bundle file and checks it against the bundle schema.
func (l *loader) read(path string) (*yaml.Node, error) {
	data, err := yamllimit.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("failed to read %q: %w", path, err)
	}
	n, ds := l.t.parse(path, data)
	l.add(ds...)
	if n == nil {
		return nil, nil
	}
	l.add(l.t.check(n, reflect.TypeOf(rootConfig{}), "")...)
	return n, nil
}

func (l *loader) load() (*Bundle, error) {
	root, err := l.read(l.rootFile)
	if err != nil || root == nil {
		return nil, err
	}
	if err := l.includes(root); err != nil {
		return nil, err
	}
	targets := get(root, "targets")
	if targets == nil {
		targets = get(root, "environments")
	}
	name, tnode, ok := l.selectTarget(root, targets)
	if !ok {
		return nil, nil
	}
	b := &Bundle{Dir: l.opts.Dir, RootFile: l.rootFile, Target: name}
	if targets != nil && targets.Kind == yaml.MappingNode {
		for i := 0; i < len(targets.Content); i += 2 {
			b.Targets = append(b.Targets, targets.Content[i].Value)
		}
	}
	targetKey, _ := getKV(targets, name)
	targetVars := l.applyTarget(root, tnode)
	b.Mode = str(get(tnode, "mode"))
	del(root, "targets")
	del(root, "environments")

	bundleNode := get(root, "bundle")
	if bundleNode == nil || bundleNode.Kind != yaml.MappingNode {
		bundleNode = l.t.mapping(root)
		l.t.set(root, "bundle", bundleNode)
	}
	if isNull(get(bundleNode, "name")) {
		l.add(diag.Errorf("missing-name", l.rootFile, root.Line, root.Column, "the bundle has no name: set bundle.name"))
	}
	l.t.set(bundleNode, "target", l.t.scalar(name, bundleNode))
	// bundle.environment is the CLI's older name for the target.
	l.t.set(bundleNode, "environment", l.t.scalar(name, bundleNode))
	git, gitMissing := l.resolveGit(bundleNode)
	l.setGit(bundleNode, git)

	if l.opts.Resolve != nil {
		ws := get(root, "workspace")
		u, lookups, err := l.opts.Resolve(Workspace{Host: str(get(ws, "host")), Profile: str(get(ws, "profile"))})
		if err != nil {
			return nil, err
		}
		if u != nil {
			l.opts.CurrentUser = u
		}
		if lookups != nil {
			l.opts.Lookups = lookups
		}
	}
	user := l.currentUser()
	b.CurrentUser = user
	explicitRoot := l.workspaceDefaults(root, user)

	vars := l.variables(root, targetVars)
	r := newResolver(l.t, root, vars)
	r.lookup = l.opts.Lookups
	r.deferUser = user.Placeholder
	r.gitMissing = gitMissing
	for i := 0; i+1 < len(root.Content); i += 2 {
		switch root.Content[i].Value {
		case "variables", "include":
			continue
		}
		r.resolve(root.Content[i+1])
	}
	b.Variables = map[string]any{}
	for _, name := range r.varNames() {
		v := vars[name]
		r.lookupValue(v)
		switch {
		case v.deferred:
			b.Variables[name] = "${var." + name + "}"
		case v.value != nil:
			r.enter(v.value, "var."+name, v.value)
			b.Variables[name] = plainValue(v.value)
		}
	}
	l.add(r.diags...)
	prefixWorkspace(get(root, "workspace"))

	b.Name = str(get(bundleNode, "name"))
	b.Git = readGit(bundleNode)
	ws := get(root, "workspace")
	b.Workspace = Workspace{
		Host:         str(get(ws, "host")),
		Profile:      str(get(ws, "profile")),
		RootPath:     str(get(ws, "root_path")),
		FilePath:     str(get(ws, "file_path")),
		StatePath:    str(get(ws, "state_path")),
		ArtifactPath: str(get(ws, "artifact_path")),
		ResourcePath: str(get(ws, "resource_path")),
	}
	if ra := get(root, "run_as"); ra != nil && !isNull(ra) {
		b.RunAs = &RunAs{UserName: str(get(ra, "user_name")), ServicePrincipalName: str(get(ra, "service_principal_name"))}
		if (b.RunAs.UserName == "") == (b.RunAs.ServicePrincipalName == "") {
			l.add(l.t.errAt("run-as", ra, "run_as must set exactly one of user_name and service_principal_name"))
		}
	}
	b.Sync = l.syncConfig(get(root, "sync"))

	res := get(root, "resources")
	l.checkResources(res)
	l.applyPresets(root, b, tnode)
	l.isolate(res)
	if b.Mode == "production" {
		l.checkProduction(b, targetKey, explicitRoot, res)
	}
	rr := newResolver(l.t, root, vars)
	rr.resourcesOnly = true
	rr.resolve(res)
	l.add(rr.diags...)
	l.artifacts = l.readArtifacts(root)
	b.Artifacts = l.artifacts
	l.artifactInfos(root)
	l.translatePaths(res, b)
	l.checkJobs(res, b, name)
	l.checkServing(res)
	l.build(root, res, b)
	return b, nil
}

// includes reads every file named by the root's include globs and merges it
// into root.
func (l *loader) includes(root *yaml.Node) error {
	inc := get(root, "include")
	if inc == nil || inc.Kind != yaml.SequenceNode {
		return nil
	}
	seen := map[string]bool{filepath.Clean(l.rootFile): true}
	for _, e := range inc.Content {
		if e.Kind != yaml.ScalarNode || e.Value == "" {
			continue
		}
		pattern := filepath.Join(l.opts.Dir, filepath.FromSlash(e.Value))
		matches, err := doublestar.FilepathGlob(pattern, doublestar.WithFilesOnly())
		if err != nil {
			l.add(l.t.errAt("include", e, "include %q is not a valid glob: %v", e.Value, err))
			continue
		}
		if len(matches) == 0 && !strings.ContainsAny(e.Value, "*?[{") {
			l.add(l.t.errAt("include-missing", e, "include %q names a file that does not exist; fix the path or remove the entry", e.Value))
			continue
		}
		sort.Strings(matches)
		for _, m := range matches {
			if seen[filepath.Clean(m)] {
				continue
			}
			seen[filepath.Clean(m)] = true
			if !inside(l.opts.Dir, m) {
				l.add(l.t.errAt("path-outside-bundle", e, "include %q reads %q, which is outside the bundle directory%s; move the file into the bundle", e.Value, filepath.ToSlash(m), viaLink(m)))
				continue
			}
			if ext := strings.ToLower(filepath.Ext(m)); ext != ".yml" && ext != ".yaml" {
				l.add(l.t.errAt("include", e, "include %q matches %q, which is not a YAML file; narrow the pattern", e.Value, filepath.ToSlash(m)))
				continue
			}
			n, err := l.read(m)
			if err != nil {
				return err
			}
			if n != nil {
				l.mergeInclude(root, n)
			}
		}
	}
	return nil
}

// mergeInclude merges an included file into the root: resources and
// variables may be defined only once; targets and other blocks merge.
func (l *loader) mergeInclude(root, inc *yaml.Node) {
	for i := 0; i+1 < len(inc.Content); i += 2 {
		k, v := inc.Content[i], inc.Content[i+1]
		switch k.Value {
		case "include":
			l.add(l.t.warnAt("include", k, "include is only read from databricks.yml; move these entries there"))
			continue
		case "bundle":
			if get(v, "name") != nil && get(get(root, "bundle"), "name") != nil {
				nk, _ := getKV(v, "name")
				l.add(l.t.errAt("duplicate-resource", nk, "bundle.name is already set in %s; set it once", l.rootFile))
				continue
			}
		case "resources":
			if v.Kind != yaml.MappingNode {
				continue
			}
			dst := get(root, "resources")
			if dst == nil || dst.Kind != yaml.MappingNode {
				dst = l.t.mapping(k)
				l.t.set(root, "resources", dst)
			}
			for j := 0; j+1 < len(v.Content); j += 2 {
				typ, entries := v.Content[j], v.Content[j+1]
				have := get(dst, typ.Value)
				if have == nil || have.Kind != yaml.MappingNode || entries.Kind != yaml.MappingNode {
					if have == nil {
						dst.Content = append(dst.Content, typ, entries)
					}
					continue
				}
				for m := 0; m+1 < len(entries.Content); m += 2 {
					key := entries.Content[m]
					if prev, _ := getKV(have, key.Value); prev != nil {
						l.add(l.t.errAt("duplicate-resource", key, "resources.%s.%s is already defined at %s; give it another key", typ.Value, key.Value, l.t.loc(prev)))
						continue
					}
					have.Content = append(have.Content, key, entries.Content[m+1])
				}
			}
			continue
		case "variables":
			dst := get(root, "variables")
			if dst == nil || dst.Kind != yaml.MappingNode || v.Kind != yaml.MappingNode {
				if dst == nil {
					root.Content = append(root.Content, k, v)
				}
				continue
			}
			for j := 0; j+1 < len(v.Content); j += 2 {
				if prev, _ := getKV(dst, v.Content[j].Value); prev != nil {
					l.add(l.t.errAt("duplicate-variable", v.Content[j], "variable %q is already declared at %s; declare it once", v.Content[j].Value, l.t.loc(prev)))
					continue
				}
				dst.Content = append(dst.Content, v.Content[j], v.Content[j+1])
			}
			continue
		}
		have := get(root, k.Value)
		if have == nil {
			root.Content = append(root.Content, k, v)
			continue
		}
		l.t.set(root, k.Value, l.merge(have, v, []string{k.Value}))
	}
}

// selectTarget picks the target to resolve.
func (l *loader) selectTarget(root, targets *yaml.Node) (string, *yaml.Node, bool) {
	var names, defaults []string
	if targets != nil && targets.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(targets.Content); i += 2 {
			names = append(names, targets.Content[i].Value)
			if b, ok := boolOf(orNull(get(targets.Content[i+1], "default"))); ok && b {
				defaults = append(defaults, targets.Content[i].Value)
			}
		}
	}
	pos := root
	if k, _ := getKV(root, "targets"); k != nil {
		pos = k
	} else if k, _ := getKV(root, "environments"); k != nil {
		pos = k
	}
	posFile := l.t.fileOf(pos)
	if posFile == "" {
		posFile = l.rootFile
	}
	want := l.opts.Target
	if want == "" {
		switch {
		case len(defaults) == 1:
			want = defaults[0]
		case len(defaults) > 1:
			l.add(diag.Errorf("target", posFile, pos.Line, pos.Column, "targets %q are all marked default: true; mark only one", defaults))
			return "", nil, false
		case len(names) == 1:
			want = names[0]
		case len(names) == 0:
			return "default", nil, true
		default:
			l.add(diag.Errorf("target", posFile, pos.Line, pos.Column, "no target selected: pass -t with one of %q or mark one target default: true", names))
			return "", nil, false
		}
	}
	if len(names) == 0 && want == "default" {
		return want, nil, true
	}
	t := get(targets, want)
	if t == nil {
		l.add(diag.Errorf("unknown-target", posFile, pos.Line, pos.Column, "target %q is not defined; defined targets are %q", want, names))
		return "", nil, false
	}
	if t.Kind != yaml.MappingNode {
		t = nil
	}
	return want, t, true
}

func orNull(n *yaml.Node) *yaml.Node {
	if n == nil {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null"}
	}
	return n
}

// applyTarget merges the target's overrides into root and returns the
// target's variable values.
func (l *loader) applyTarget(root, target *yaml.Node) *yaml.Node {
	if target == nil {
		return nil
	}
	var vars *yaml.Node
	for i := 0; i+1 < len(target.Content); i += 2 {
		k, v := target.Content[i], target.Content[i+1]
		switch k.Value {
		case "default", "mode", "compute_id", "cluster_id":
		case "variables":
			vars = v
		case "run_as":
			l.t.set(root, "run_as", v)
		case "git":
			b := get(root, "bundle")
			if b == nil {
				b = l.t.mapping(k)
				l.t.set(root, "bundle", b)
			}
			l.t.set(b, "git", l.merge(get(b, "git"), v, []string{"bundle", "git"}))
		default:
			l.t.set(root, k.Value, l.merge(get(root, k.Value), v, []string{k.Value}))
		}
	}
	return vars
}

// keyedLists names the lists whose entries a target override merges by a
// key field rather than appending, as Databricks does.
var keyedLists = map[string]string{
	"tasks":        "task_key",
	"job_clusters": "job_cluster_key",
	"parameters":   "name",
	"environments": "environment_key",
}

// merge merges src over dst: mappings merge key by key, lists append (or
// merge by key for job tasks, clusters, parameters and environments),
// scalars are replaced.
func (l *loader) merge(dst, src *yaml.Node, path []string) *yaml.Node {
	if isNull(src) {
		if dst == nil {
			return src
		}
		return dst
	}
	if dst == nil || isNull(dst) {
		return src
	}
	switch {
	case dst.Kind == yaml.MappingNode && src.Kind == yaml.MappingNode:
		for i := 0; i+1 < len(src.Content); i += 2 {
			k := src.Content[i]
			if have := get(dst, k.Value); have != nil {
				l.t.set(dst, k.Value, l.merge(have, src.Content[i+1], append(path, k.Value)))
			} else {
				dst.Content = append(dst.Content, k, src.Content[i+1])
			}
		}
		return dst
	case dst.Kind == yaml.SequenceNode && src.Kind == yaml.SequenceNode:
		key := ""
		if len(path) == 4 && path[0] == "resources" && path[1] == "jobs" {
			key = keyedLists[path[3]]
		}
		for _, e := range src.Content {
			if key != "" {
				if id := str(get(e, key)); id != "" {
					if m := findKeyed(dst, key, id); m != nil {
						l.merge(m, e, append(path, id))
						continue
					}
				}
			}
			dst.Content = append(dst.Content, e)
		}
		return dst
	}
	return src
}

func findKeyed(list *yaml.Node, key, id string) *yaml.Node {
	for _, e := range list.Content {
		if str(get(e, key)) == id {
			return e
		}
	}
	return nil
}

// currentUser returns the user to resolve for, or the offline placeholder.
func (l *loader) currentUser() User {
	if l.opts.CurrentUser != nil {
		return *l.opts.CurrentUser
	}
	return User{UserName: "${workspace.current_user.userName}", ShortName: "${workspace.current_user.short_name}", Placeholder: true}
}

// workspaceDefaults fills workspace.root_path, file_path, state_path,
// artifact_path and resource_path when unset, and exposes current_user. It
// reports whether root_path was set explicitly.
func (l *loader) workspaceDefaults(root *yaml.Node, u User) bool {
	ws := get(root, "workspace")
	if ws == nil || ws.Kind != yaml.MappingNode {
		ws = l.t.mapping(root)
		l.t.set(root, "workspace", ws)
	}
	explicit := !isNull(get(ws, "root_path"))
	defaults := [][2]string{
		{"root_path", "/Workspace/Users/${workspace.current_user.userName}/.bundle/${bundle.name}/${bundle.target}"},
		{"file_path", "${workspace.root_path}/files"},
		{"state_path", "${workspace.root_path}/state"},
		{"artifact_path", "${workspace.root_path}/artifacts"},
		{"resource_path", "${workspace.root_path}/resources"},
	}
	for _, d := range defaults {
		if v := get(ws, d[0]); isNull(v) {
			l.t.set(ws, d[0], l.t.scalar(d[1], root))
		} else if strings.HasPrefix(v.Value, "~/") {
			v.Value = "/Workspace/Users/${workspace.current_user.userName}/" + v.Value[2:]
		}
	}
	if iso := l.opts.Isolate; iso != nil && iso.Name != "" {
		for _, d := range defaults {
			if v := get(ws, d[0]); v != nil && v.Kind == yaml.ScalarNode && !strings.Contains(v.Value, "${workspace.root_path}") {
				v.Value = strings.TrimRight(v.Value, "/") + "/" + iso.Name
			}
		}
	}
	if !u.Placeholder {
		cu := l.t.mapping(root)
		l.t.set(cu, "userName", l.t.scalar(u.UserName, root))
		l.t.set(cu, "short_name", l.t.scalar(u.ShortName, root))
		l.t.set(ws, "current_user", cu)
	}
	return explicit
}

// prefixWorkspace makes /Users/... and /Shared/... paths start with
// /Workspace, as Databricks does for the bundle's workspace paths.
func prefixWorkspace(ws *yaml.Node) {
	for _, k := range []string{"root_path", "file_path", "state_path", "artifact_path", "resource_path"} {
		if v := get(ws, k); v != nil && (strings.HasPrefix(v.Value, "/Users/") || strings.HasPrefix(v.Value, "/Shared/")) {
			v.Value = "/Workspace" + v.Value
		}
	}
}

// variables collects declared variables and picks each one's value by
// precedence: --var, then BUNDLE_VAR_<name>, then the target's value or
// lookup, then the declaration's default or lookup.
func (l *loader) variables(root, targetVars *yaml.Node) map[string]*variable {
	vars := map[string]*variable{}
	decls := get(root, "variables")
	if decls != nil && decls.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(decls.Content); i += 2 {
			k, spec := decls.Content[i], decls.Content[i+1]
			v := &variable{name: k.Value, decl: k}
			if spec.Kind == yaml.MappingNode {
				v.complex = str(get(spec, "type")) == "complex"
				v.value = get(spec, "default")
				v.lookup = get(spec, "lookup")
			}
			if isNull(v.value) {
				v.value = nil
			}
			vars[k.Value] = v
		}
	}
	if targetVars != nil && targetVars.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(targetVars.Content); i += 2 {
			k, tv := targetVars.Content[i], targetVars.Content[i+1]
			v := vars[k.Value]
			if v == nil {
				l.add(l.t.errAt("undefined-variable", k, "variable %q is set in the target but not declared; declare it under variables", k.Value))
				continue
			}
			switch {
			case tv.Kind == yaml.MappingNode && !(v.complex && !onlyKeys(tv, "default", "lookup", "description", "type")):
				if d := get(tv, "default"); d != nil {
					v.value, v.lookup = d, nil
				}
				if lk := get(tv, "lookup"); lk != nil {
					v.value, v.lookup = nil, lk
				}
			case !isNull(tv):
				v.value, v.lookup = tv, nil
			}
		}
	}
	names := make([]string, 0, len(l.opts.Vars))
	for n := range l.opts.Vars {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		v := vars[n]
		if v == nil {
			l.add(diag.Errorf("undefined-variable", l.rootFile, 0, 0, "--var %s: variable %q is not declared; declare it under variables%s", n, n, suggest(n, slices.Sorted(maps.Keys(vars)))))
			continue
		}
		l.outside(v, l.opts.Vars[n], "--var")
	}
	for _, n := range slices.Sorted(maps.Keys(vars)) {
		v := vars[n]
		if _, flagged := l.opts.Vars[n]; flagged {
			continue
		}
		if s := l.opts.Getenv("BUNDLE_VAR_" + n); s != "" {
			l.outside(v, s, "BUNDLE_VAR_"+n)
		}
	}
	for _, n := range slices.Sorted(maps.Keys(vars)) {
		v := vars[n]
		if v.value != nil && !v.complex && (v.value.Kind == yaml.MappingNode || v.value.Kind == yaml.SequenceNode) {
			// The Databricks CLI takes complex values in YAML without the
			// annotation (only --var and variable files need it).
			l.add(l.t.warnAt("variable-type", v.value, "variable %q has a complex value; add type: complex to its declaration", n))
		}
		if v.lookup != nil && (v.lookup.Kind != yaml.MappingNode || len(v.lookup.Content) != 2) {
			l.add(l.t.errAt("variable-type", v.lookup, "variable %q: lookup must name exactly one kind, for example lookup: {cluster: \"name\"}", n))
			v.lookup = nil
		}
	}
	return vars
}

// outside sets a variable from --var or the environment.
func (l *loader) outside(v *variable, value, from string) {
	if v.complex {
		l.add(l.t.errAt("variable-type", v.decl, "variable %q is complex and cannot be set with %s; set it in the target instead", v.name, from))
		return
	}
	v.value, v.lookup = l.t.scalar(value, v.decl), nil
}

func onlyKeys(m *yaml.Node, keys ...string) bool {
	for i := 0; i < len(m.Content); i += 2 {
		found := false
		for _, k := range keys {
			found = found || m.Content[i].Value == k
		}
		if !found {
			return false
		}
	}
	return true
}

// strings2 returns a list of strings from a sequence node.
func strings2(n *yaml.Node) []string {
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	var out []string
	for _, e := range n.Content {
		if s := str(e); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// dedupe drops findings identical to the previous one in a sorted list.
func dedupe(l diag.List) diag.List {
	var out diag.List
	for i, f := range l {
		if i > 0 && f == l[i-1] {
			continue
		}
		out = append(out, f)
	}
	return out
}

// syncConfig resolves the sync block: each sync.paths entry is relative to
// the file that sets it, and the sync root becomes the closest directory
// holding the bundle root and every entry.
func (l *loader) syncConfig(s *yaml.Node) Sync {
	dir := filepath.Clean(l.opts.Dir)
	type entry struct {
		abs  string
		node *yaml.Node
	}
	var entries []entry
	if p := get(s, "paths"); p != nil && p.Kind == yaml.SequenceNode {
		for _, e := range p.Content {
			if str(e) == "" {
				continue
			}
			file := l.t.fileOf(e)
			if file == "" {
				file = l.rootFile
			}
			abs := filepath.Clean(filepath.Join(filepath.Dir(file), filepath.FromSlash(e.Value)))
			if filepath.IsAbs(e.Value) {
				l.add(l.t.errAt("sync-path", e, "sync path %q must be relative to the file that names it", e.Value))
				continue
			}
			if _, err := os.Stat(abs); err != nil {
				l.add(l.t.warnAt("sync-path", e, "sync path %q does not exist (relative to %s); nothing is uploaded from it", e.Value, filepath.ToSlash(filepath.Dir(file))))
				continue
			}
			entries = append(entries, entry{abs, e})
		}
	}
	if len(entries) == 0 {
		entries = []entry{{abs: dir}}
	}
	root := dir
	for _, e := range entries {
		for !within(root, e.abs) && !fsRoot(root) {
			// Join rather than Dir: Dir(".") is ".", Join(".", "..") is "..".
			root = filepath.Join(root, "..")
		}
	}
	out := Sync{Root: root}
	for _, e := range entries {
		rel, err := filepath.Rel(root, e.abs)
		if err != nil || !within(root, e.abs) {
			l.add(l.t.errAt("sync-path", e.node, "sync path %q cannot be placed under a common directory with the bundle", e.node.Value))
			continue
		}
		out.Paths = append(out.Paths, filepath.ToSlash(rel))
	}
	prefix, _ := filepath.Rel(root, dir)
	for _, pat := range strings2(get(s, "include")) {
		out.Include = append(out.Include, underPrefix(filepath.ToSlash(prefix), pat))
	}
	for _, pat := range strings2(get(s, "exclude")) {
		out.Exclude = append(out.Exclude, underPrefix(filepath.ToSlash(prefix), pat))
	}
	return out
}

// within reports whether path is dir or below it.
func within(dir, path string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// inside reports whether path is within dir both as written and once every
// symbolic link in either is resolved, so a link cannot reach outside. A
// path that cannot be resolved (a dangling link) is not inside.
func inside(dir, path string) bool {
	if !within(dir, path) {
		return false
	}
	realDir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return false
	}
	realPath, err := filepath.EvalSymlinks(path)
	if err != nil {
		return false
	}
	return within(realDir, realPath)
}

// viaLink says where a symbolic link leads, for messages: "" when path
// holds no link.
func viaLink(path string) string {
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return " (a symbolic link that does not resolve)"
	}
	abs, _ := filepath.Abs(path)
	if realAbs, _ := filepath.Abs(real); realAbs != abs {
		return " (through a symbolic link to " + filepath.ToSlash(real) + ")"
	}
	return ""
}

// underPrefix makes a gitignore pattern written relative to the bundle root
// relative to the sync root, prefix being the bundle root below it.
func underPrefix(prefix, pattern string) string {
	if prefix == "." || prefix == "" {
		return pattern
	}
	neg := strings.HasPrefix(pattern, "!")
	pattern = strings.TrimPrefix(pattern, "!")
	p := path.Join(prefix, strings.TrimPrefix(pattern, "/"))
	if strings.HasSuffix(pattern, "/") {
		p += "/"
	}
	if neg {
		p = "!" + p
	}
	return p
}

// fsRoot reports whether dir is the root of the file system.
func fsRoot(dir string) bool {
	abs, err := filepath.Abs(dir)
	return err != nil || filepath.Dir(abs) == abs
}
