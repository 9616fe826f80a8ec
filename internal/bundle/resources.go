package bundle

import (
	"maps"
	"path"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"

	"github.com/databricks/databricks-sdk-go/service/jobs"
	"github.com/databricks/databricks-sdk-go/service/serving"
	"gopkg.in/yaml.v3"

	"github.com/brickci/brickci/internal/diag"
	"github.com/brickci/brickci/internal/yamlpos"
)

// each calls fn for every entry of one resource type, in file order.
func each(res *yaml.Node, typ string, fn func(key, n *yaml.Node)) {
	m := get(res, typ)
	if m == nil || m.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i+1].Kind == yaml.MappingNode {
			fn(m.Content[i], m.Content[i+1])
		}
	}
}

// checkResources checks every resource against its API type.
func (l *loader) checkResources(res *yaml.Node) {
	if isNull(res) {
		return
	}
	if res.Kind != yaml.MappingNode {
		l.add(l.t.errAt("type", res, "resources must be a mapping of resource types, not %s", yamlpos.Describe(res)))
		return
	}
	for i := 0; i+1 < len(res.Content); i += 2 {
		k, v := res.Content[i], res.Content[i+1]
		typ, known := resourceTypes[k.Value]
		if !known {
			l.add(l.t.errAt("unknown-field", k, "unknown resource type %q%s", k.Value, diag.DidYouMean(k.Value, slices.Sorted(maps.Keys(resourceTypes)))))
			continue
		}
		if isNull(v) {
			continue
		}
		if v.Kind != yaml.MappingNode {
			l.add(l.t.errAt("type", v, "resources.%s must be a mapping of resource keys, not %s", k.Value, yamlpos.Describe(v)))
			continue
		}
		for j := 0; j+1 < len(v.Content); j += 2 {
			key, entry := v.Content[j], v.Content[j+1]
			if entry.Kind != yaml.MappingNode {
				l.add(l.t.errAt("type", entry, "resources.%s.%s must be a mapping, not %s", k.Value, key.Value, yamlpos.Describe(entry)))
				continue
			}
			if typ != nil {
				l.add(l.t.check(entry, typ, "resources."+k.Value+"."+key.Value)...)
			}
		}
	}
}

// presets are the transformations a target applies to its resources.
type presets struct {
	namePrefix     string
	servingPrefix  string
	pauseStatus    string
	maxConcurrent  int64
	tags           map[string]string
	pipelineDevel  bool
	hasNamePrefix  bool
	hasPauseStatus bool
}

var notIdentifier = regexp.MustCompile(`[^a-zA-Z0-9_]`)

// applyPresets applies the presets block and, for mode: development, the
// presets Databricks documents for development targets
// (https://docs.databricks.com/aws/en/dev-tools/bundles/deployment-modes):
//   - resource names get the prefix "[dev <short_name>] " (serving endpoint,
//     registered model and schema names, which allow only letters, digits,
//   - and _, get "dev_<short_name>_"; an experiment's on its last path
//     element; volumes none);
//   - jobs, experiments and models get the tag dev: <short_name>;
//   - quality monitors lose their schedule (they cannot be paused);
//   - schedules, triggers and continuous runs whose pause_status is not set
//     explicitly are PAUSED;
//   - jobs that do not set max_concurrent_runs may run 4 at a time;
//   - pipelines are marked development: true.
//
// Settings in the target's presets block win over these defaults.
func (l *loader) applyPresets(root *yaml.Node, b *Bundle, target *yaml.Node) {
	p := presets{tags: map[string]string{}}
	short := b.CurrentUser.ShortName
	if b.Mode == "development" {
		p.namePrefix, p.hasNamePrefix = "[dev "+short+"] ", true
		p.servingPrefix = "dev_" + short + "_"
		if !b.CurrentUser.Placeholder {
			p.servingPrefix = notIdentifier.ReplaceAllString(p.servingPrefix, "_")
		}
		p.pauseStatus, p.hasPauseStatus = string(jobs.PauseStatusPaused), true
		p.maxConcurrent = 4
		p.tags["dev"] = short
		p.pipelineDevel = true
	}
	ps := get(root, "presets")
	if v := get(ps, "name_prefix"); !isNull(v) {
		p.namePrefix, p.hasNamePrefix = v.Value, true
		p.servingPrefix = notIdentifier.ReplaceAllString(v.Value, "_")
	}
	if v := get(ps, "trigger_pause_status"); !isNull(v) {
		p.pauseStatus, p.hasPauseStatus = v.Value, true
	}
	if v := get(ps, "jobs_max_concurrent_runs"); !isNull(v) {
		if n, ok := intOf(v); ok {
			p.maxConcurrent = n
		}
	}
	if v := get(ps, "pipelines_development"); !isNull(v) {
		p.pipelineDevel, _ = boolOf(v)
	}
	if tags := get(ps, "tags"); tags != nil && tags.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(tags.Content); i += 2 {
			p.tags[tags.Content[i].Value] = str(tags.Content[i+1])
		}
	}
	res := get(root, "resources")
	each(res, "jobs", func(key, job *yaml.Node) {
		name := get(job, "name")
		if isNull(name) {
			// A job without a name is named after its key, as Databricks does.
			name = l.t.scalar(key.Value, key)
			l.t.set(job, "name", name)
		}
		if p.hasNamePrefix && p.namePrefix != "" {
			name.Value, name.Tag = p.namePrefix+name.Value, "!!str"
		}
		if len(p.tags) > 0 {
			tags := get(job, "tags")
			if tags == nil || tags.Kind != yaml.MappingNode {
				tags = l.t.mapping(key)
				l.t.set(job, "tags", tags)
			}
			for _, k := range slices.Sorted(maps.Keys(p.tags)) {
				if get(tags, k) == nil {
					l.t.set(tags, k, l.t.scalar(p.tags[k], key))
				}
			}
		}
		if p.maxConcurrent > 0 {
			if v := get(job, "max_concurrent_runs"); isNull(v) || v.Value == "0" {
				n := l.t.scalar(strconv.FormatInt(p.maxConcurrent, 10), key)
				n.Tag = "!!int"
				l.t.set(job, "max_concurrent_runs", n)
			}
		}
		if p.hasPauseStatus {
			for _, k := range []string{"schedule", "trigger", "continuous"} {
				if s := get(job, k); s != nil && s.Kind == yaml.MappingNode && isNull(get(s, "pause_status")) {
					l.t.set(s, "pause_status", l.t.scalar(p.pauseStatus, s))
				}
			}
		}
	})
	each(res, "model_serving_endpoints", func(key, ep *yaml.Node) {
		if name := get(ep, "name"); !isNull(name) && p.hasNamePrefix && p.servingPrefix != "" {
			name.Value, name.Tag = p.servingPrefix+name.Value, "!!str"
		}
	})
	// Unity Catalog names allow no spaces or brackets: they get the
	// prefix serving endpoints get.
	for _, typ := range []string{"registered_models", "schemas"} {
		each(res, typ, func(key, n *yaml.Node) {
			if name := get(n, "name"); !isNull(name) && p.hasNamePrefix && p.servingPrefix != "" {
				name.Value, name.Tag = p.servingPrefix+name.Value, "!!str"
			}
		})
	}
	each(res, "experiments", func(key, e *yaml.Node) {
		// An experiment's name is a workspace path: the prefix goes on
		// its last element.
		if name := get(e, "name"); !isNull(name) && p.hasNamePrefix && p.namePrefix != "" {
			dir, base := path.Split(name.Value)
			name.Value, name.Tag = dir+p.namePrefix+base, "!!str"
		}
		l.addTagList(e, key, p.tags)
	})
	each(res, "models", func(key, m *yaml.Node) {
		if name := get(m, "name"); !isNull(name) && p.hasNamePrefix && p.namePrefix != "" {
			name.Value, name.Tag = p.namePrefix+name.Value, "!!str"
		}
		l.addTagList(m, key, p.tags)
	})
	if p.hasPauseStatus && p.pauseStatus == string(jobs.PauseStatusPaused) {
		// Monitors cannot be paused: a paused target drops their
		// schedules, unless one says UNPAUSED explicitly, as the
		// Databricks CLI does.
		each(res, "quality_monitors", func(key, q *yaml.Node) {
			if s := get(q, "schedule"); s != nil && str(get(s, "pause_status")) != "UNPAUSED" {
				q.Content = without(q, "schedule").Content
			}
		})
	}
	each(res, "pipelines", func(key, pl *yaml.Node) {
		if name := get(pl, "name"); !isNull(name) && p.hasNamePrefix && p.namePrefix != "" {
			name.Value, name.Tag = p.namePrefix+name.Value, "!!str"
		}
		if p.pipelineDevel && b.Mode == "development" && isNull(get(pl, "development")) {
			n := l.t.scalar("true", key)
			n.Tag = "!!bool"
			l.t.set(pl, "development", n)
		}
	})
}

// checkProduction enforces what Databricks requires of mode: production.
func (l *loader) checkProduction(b *Bundle, targetKey *yaml.Node, explicitRoot bool, res *yaml.Node) {
	sp := b.CurrentUser.IsServicePrincipal || (b.RunAs != nil && b.RunAs.ServicePrincipalName != "")
	if !explicitRoot && !sp && targetKey != nil {
		l.add(l.t.errAt("production-root-path", targetKey,
			"target %q has mode: production but no workspace.root_path; set one so only one copy is deployed, for example /Workspace/Users/${workspace.current_user.userName}/.bundle/${bundle.name}/${bundle.target}, or run as a service principal", b.Target))
	}
	each(res, "pipelines", func(key, pl *yaml.Node) {
		if v := get(pl, "development"); v != nil {
			if on, _ := boolOf(v); on {
				l.add(l.t.errAt("production-development", v, "pipeline %q sets development: true in production target %q; remove it", key.Value, b.Target))
			}
		}
	})
}

// build fills the model from the resolved resources.
func (l *loader) build(root, res *yaml.Node, b *Bundle) {
	top := l.permissions(get(root, "permissions"), bundleLevels, "bundle")
	b.Jobs = map[string]*Job{}
	b.ServingEndpoints = map[string]*ServingEndpoint{}
	jobType := reflect.TypeOf(jobs.JobSettings{})
	servingType := reflect.TypeOf(serving.CreateServingEndpoint{})
	each(res, "jobs", func(key, n *yaml.Node) {
		j := &Job{Key: key.Value, Location: l.t.loc(key), Config: map[string]any{}}
		if m, ok := toValue(without(n, "permissions"), jobType).(map[string]any); ok {
			j.Config = m
		}
		j.Permissions = withTop(l.permissions(get(n, "permissions"), jobLevels, "job"), top, map[string]string{"CAN_RUN": "CAN_MANAGE_RUN"})
		b.Jobs[key.Value] = j
	})
	each(res, "model_serving_endpoints", func(key, n *yaml.Node) {
		e := &ServingEndpoint{Key: key.Value, Location: l.t.loc(key), Config: map[string]any{}}
		if m, ok := toValue(without(n, "permissions"), servingType).(map[string]any); ok {
			e.Config = m
		}
		e.Permissions = withTop(l.permissions(get(n, "permissions"), servingLevels, "serving endpoint"), top, map[string]string{"CAN_RUN": "CAN_QUERY"})
		b.ServingEndpoints[key.Value] = e
	})
	if res != nil && res.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(res.Content); i += 2 {
			typ := res.Content[i].Value
			each(res, typ, func(key, n *yaml.Node) {
				r := Resource{Type: typ, Key: key.Value, Name: str(get(n, "name")), Location: l.t.loc(key)}
				if typ == "quality_monitors" {
					r.Name = str(get(n, "table_name")) // a monitor is known by its table
				}
				switch typ {
				case "jobs":
					r.Config, r.Permissions = b.Jobs[key.Value].Config, b.Jobs[key.Value].Permissions
				case "model_serving_endpoints":
					r.Config, r.Permissions = b.ServingEndpoints[key.Value].Config, b.ServingEndpoints[key.Value].Permissions
				default:
					r.Config = map[string]any{}
					if m, ok := toValue(without(n, "permissions", "grants", "lifecycle"), resourceTypes[typ]).(map[string]any); ok {
						r.Config = m
					}
					if lv, ok := objectLevels[typ]; ok {
						r.Permissions = withTop(l.permissions(get(n, "permissions"), lv.levels, lv.what), top, lv.fromTop)
					}
					r.Grants = l.grants(get(n, "grants"))
				}
				b.Resources = append(b.Resources, r)
			})
		}
	}
	sort.Slice(b.Resources, func(i, j int) bool {
		if b.Resources[i].Type != b.Resources[j].Type {
			return b.Resources[i].Type < b.Resources[j].Type
		}
		return b.Resources[i].Key < b.Resources[j].Key
	})
}

// addTagList adds the preset tags to a resource whose tags are a list of
// key/value entries (experiments, models), unless it sets the key itself.
func (l *loader) addTagList(n, key *yaml.Node, tags map[string]string) {
	if len(tags) == 0 {
		return
	}
	list := get(n, "tags")
	if list == nil || list.Kind != yaml.SequenceNode {
		list = &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Line: key.Line, Column: key.Column}
		l.t.set(n, "tags", list)
	}
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		if slices.ContainsFunc(list.Content, func(e *yaml.Node) bool { return str(get(e, "key")) == k }) {
			continue
		}
		e := l.t.mapping(key)
		l.t.set(e, "key", l.t.scalar(k, key))
		l.t.set(e, "value", l.t.scalar(tags[k], key))
		list.Content = append(list.Content, e)
	}
}

// without returns a shallow copy of mapping n without keys.
func without(n *yaml.Node, keys ...string) *yaml.Node {
	c := *n
	c.Content = nil
	for i := 0; i+1 < len(n.Content); i += 2 {
		if !slices.Contains(keys, n.Content[i].Value) {
			c.Content = append(c.Content, n.Content[i], n.Content[i+1])
		}
	}
	return &c
}

// grants reads a grants list; its shape is checked with the resource's.
func (l *loader) grants(n *yaml.Node) []Grant {
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	var out []Grant
	for _, e := range n.Content {
		if e.Kind != yaml.MappingNode {
			continue
		}
		g := Grant{Principal: str(get(e, "principal")), Location: l.t.loc(e)}
		if ps := get(e, "privileges"); ps != nil && ps.Kind == yaml.SequenceNode {
			for _, p := range ps.Content {
				g.Privileges = append(g.Privileges, p.Value)
			}
		}
		if g.Principal == "" {
			l.add(l.t.errAt("grant-principal", e, "grant names no principal; set principal to a user, group or service principal"))
		}
		out = append(out, g)
	}
	return out
}

// permissions reads and checks a permissions list: each entry needs a known
// level and exactly one principal.
func (l *loader) permissions(n *yaml.Node, levels []string, what string) []Permission {
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	var out []Permission
	for _, e := range n.Content {
		if e.Kind != yaml.MappingNode {
			continue
		}
		p := Permission{
			Level:                str(get(e, "level")),
			UserName:             str(get(e, "user_name")),
			GroupName:            str(get(e, "group_name")),
			ServicePrincipalName: str(get(e, "service_principal_name")),
			Location:             l.t.loc(e),
		}
		lv := get(e, "level")
		switch {
		case lv == nil:
			l.add(l.t.errAt("permission-level", e, "permission has no level; set level to one of %s", quoteList(levels)))
		case !hasRef(lv) && !contains(levels, p.Level):
			l.add(l.t.errAt("permission-level", lv, "permission level %q is not valid for a %s, valid are %s%s", p.Level, what, quoteList(levels), diag.DidYouMean(p.Level, levels)))
		}
		count := 0
		for _, s := range []string{p.UserName, p.GroupName, p.ServicePrincipalName} {
			if s != "" {
				count++
			}
		}
		switch {
		case count == 0:
			l.add(l.t.errAt("permission-principal", e, "permission %q names no principal; set one of user_name, group_name or service_principal_name", p.Level))
		case count > 1:
			l.add(l.t.errAt("permission-principal", e, "permission %q names more than one principal; set only one of user_name, group_name or service_principal_name", p.Level))
		}
		out = append(out, p)
	}
	return out
}

// withTop adds the bundle's top-level permissions to a resource's own,
// mapping their levels, unless the principal already has one. A level
// levelMap maps to "" has no counterpart on the resource and is left out.
func withTop(own, top []Permission, levelMap map[string]string) []Permission {
	has := map[string]bool{}
	for _, p := range own {
		has[p.UserName+"\x00"+p.GroupName+"\x00"+p.ServicePrincipalName] = true
	}
	for _, p := range top {
		if has[p.UserName+"\x00"+p.GroupName+"\x00"+p.ServicePrincipalName] {
			continue
		}
		if m, ok := levelMap[p.Level]; ok {
			if m == "" {
				continue
			}
			p.Level = m
		}
		own = append(own, p)
	}
	return own
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
