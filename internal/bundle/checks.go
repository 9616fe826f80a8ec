package bundle

import (
	"maps"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/brickci/brickci/internal/diag"
)

// These checks go beyond what the Databricks CLI validates: they find, offline,
// problems that otherwise surface only when a deploy or a run fails.

// checkJobs checks the task graph, compute and cluster references of every job.
func (l *loader) checkJobs(res *yaml.Node, b *Bundle, target string) {
	sensitive := b.Mode == "production" || target == "staging" || target == "prod" || target == "production"
	each(res, "jobs", func(key, job *yaml.Node) {
		clusters := l.keyed(get(job, "job_clusters"), "job_cluster_key", "job cluster")
		envs := l.keyed(get(job, "environments"), "environment_key", "environment")
		l.keyed(get(job, "parameters"), "name", "job parameter")
		tasks := get(job, "tasks")
		if tasks == nil || tasks.Kind != yaml.SequenceNode {
			return
		}
		keys := map[string]*yaml.Node{}
		var order []string
		for _, t := range tasks.Content {
			if t.Kind != yaml.MappingNode {
				continue
			}
			k := get(t, "task_key")
			if isNull(k) {
				l.add(l.t.errAt("missing-task-key", t, "task in job %q has no task_key; every task needs a unique task_key", key.Value))
				continue
			}
			if prev, dup := keys[k.Value]; dup {
				l.add(l.t.errAt("duplicate-task-key", k, "task_key %q is used twice in job %q (first at line %d); task keys must be unique", k.Value, key.Value, prev.Line))
				continue
			}
			keys[k.Value] = k
			order = append(order, k.Value)
		}
		graph := map[string][]string{}
		for _, t := range tasks.Content {
			k := str(get(t, "task_key"))
			deps := get(t, "depends_on")
			if deps != nil && deps.Kind == yaml.SequenceNode {
				for _, d := range deps.Content {
					dk := get(d, "task_key")
					if isNull(dk) || hasRef(dk) {
						continue
					}
					if _, ok := keys[dk.Value]; !ok {
						l.add(l.t.errAt("unknown-dependency", dk, "task %q depends on %q, which is not a task of job %q%s", k, dk.Value, key.Value, diag.DidYouMean(dk.Value, order)))
						continue
					}
					if k != "" {
						graph[k] = append(graph[k], dk.Value)
					}
				}
			}
			l.checkTask(t, key.Value, clusters, envs, sensitive, b)
		}
		for _, cycle := range cycles(order, graph) {
			l.add(l.t.errAt("dependency-cycle", keys[cycle[0]], "tasks of job %q depend on each other in a cycle %s; remove one depends_on", key.Value, strings.Join(cycle, " -> ")))
		}
	})
}

// keyed reports duplicate keys in a list of mappings and returns the keys.
func (l *loader) keyed(list *yaml.Node, field, what string) map[string]bool {
	out := map[string]bool{}
	if list == nil || list.Kind != yaml.SequenceNode {
		return out
	}
	for _, e := range list.Content {
		k := get(e, field)
		if isNull(k) {
			continue
		}
		if out[k.Value] {
			l.add(l.t.errAt("duplicate-entry", k, "%s %s %q is defined twice; keep one", what, field, k.Value))
		}
		out[k.Value] = true
	}
	return out
}

// computeTasks are the task types that need a cluster or, on serverless, an
// environment. notebook_task runs on serverless compute without either.
var computeTasks = []string{"spark_python_task", "python_wheel_task", "spark_jar_task", "spark_submit_task", "dbt_task"}

func (l *loader) checkTask(t *yaml.Node, job string, clusters, envs map[string]bool, sensitive bool, b *Bundle) {
	if t == nil || t.Kind != yaml.MappingNode {
		return
	}
	key := str(get(t, "task_key"))
	if jk := get(t, "job_cluster_key"); !isNull(jk) && !hasRef(jk) && !clusters[jk.Value] {
		l.add(l.t.errAt("unknown-job-cluster", jk, "task %q uses job_cluster_key %q, which job %q does not define under job_clusters%s", key, jk.Value, job, diag.DidYouMean(jk.Value, slices.Sorted(maps.Keys(clusters)))))
	}
	if ek := get(t, "environment_key"); !isNull(ek) && !hasRef(ek) && !envs[ek.Value] {
		l.add(l.t.errAt("unknown-environment", ek, "task %q uses environment_key %q, which job %q does not define under environments%s", key, ek.Value, job, diag.DidYouMean(ek.Value, slices.Sorted(maps.Keys(envs)))))
	}
	ec := get(t, "existing_cluster_id")
	if !isNull(ec) {
		if sensitive {
			l.add(l.t.warnAt("existing-cluster", ec, "task %q runs on existing cluster %q in target %q; use a job cluster (job_cluster_key or new_cluster) or serverless so runs are isolated and reproducible", key, ec.Value, b.Target))
		}
		if !hasRef(ec) {
			b.WorkspaceRefs = append(b.WorkspaceRefs, WorkspaceRef{Kind: "cluster", ID: ec.Value, Location: l.t.loc(ec)})
		}
	}
	for _, tt := range []string{"sql_task", "notebook_task", "dbt_task"} {
		if w := get(get(t, tt), "warehouse_id"); !isNull(w) && !hasRef(w) {
			b.WorkspaceRefs = append(b.WorkspaceRefs, WorkspaceRef{Kind: "warehouse", ID: w.Value, Location: l.t.loc(w)})
		}
	}
	hasCompute := !isNull(ec) || !isNull(get(t, "new_cluster")) || !isNull(get(t, "job_cluster_key")) || !isNull(get(t, "environment_key"))
	for _, tt := range computeTasks {
		if k, v := getKV(t, tt); v != nil && !hasCompute {
			if tt == "dbt_task" && !isNull(get(v, "warehouse_id")) {
				continue
			}
			l.add(l.t.errAt("missing-compute", k, "task %q (%s) has no compute: set job_cluster_key, new_cluster or existing_cluster_id, or environment_key for serverless", key, tt))
		}
	}
	if k, st := getKV(t, "sql_task"); st != nil && isNull(get(st, "warehouse_id")) {
		l.add(l.t.errAt("missing-compute", k, "task %q (sql_task) has no warehouse_id; set the SQL warehouse to run on", key))
	}
	if fe := get(t, "for_each_task"); fe != nil {
		l.checkTask(get(fe, "task"), job, clusters, envs, sensitive, b)
	}
}

// cycles returns each dependency cycle once, as a path that starts and ends
// with the same task, in a deterministic order.
func cycles(order []string, graph map[string][]string) [][]string {
	const (
		white = iota
		grey
		black
	)
	color := map[string]int{}
	var stack []string
	var out [][]string
	seen := map[string]bool{}
	var visit func(n string)
	visit = func(n string) {
		color[n] = grey
		stack = append(stack, n)
		for _, m := range graph[n] {
			switch color[m] {
			case white:
				visit(m)
			case grey:
				i := len(stack) - 1
				for stack[i] != m {
					i--
				}
				cyc := append(append([]string(nil), stack[i:]...), m)
				set := append([]string(nil), stack[i:]...)
				sort.Strings(set)
				if k := strings.Join(set, "\x00"); !seen[k] {
					seen[k] = true
					out = append(out, cyc)
				}
			}
		}
		stack = stack[:len(stack)-1]
		color[n] = black
	}
	for _, n := range order {
		if color[n] == white {
			visit(n)
		}
	}
	return out
}

// checkServing checks serving endpoints: a name, and a version (or a
// reference that provides one) for every served model entity.
func (l *loader) checkServing(res *yaml.Node) {
	each(res, "model_serving_endpoints", func(key, ep *yaml.Node) {
		if isNull(get(ep, "name")) {
			l.add(l.t.errAt("missing-name", key, "serving endpoint %q has no name; set name", key.Value))
		}
		cfg := get(ep, "config")
		if list := get(cfg, "served_entities"); list != nil && list.Kind == yaml.SequenceNode {
			for _, e := range list.Content {
				if isNull(get(e, "entity_name")) || !isNull(get(e, "external_model")) {
					continue
				}
				if v := get(e, "entity_version"); isNull(v) || v.Value == "" {
					l.add(l.t.errAt("serving-entity-version", e, "served entity %q of endpoint %q has no entity_version; set the model version to serve, or a ${var...} or ${resources...} reference to it", str(get(e, "entity_name")), key.Value))
				}
			}
		}
		if list := get(cfg, "served_models"); list != nil && list.Kind == yaml.SequenceNode {
			for _, e := range list.Content {
				if v := get(e, "model_version"); isNull(v) || v.Value == "" {
					l.add(l.t.errAt("serving-entity-version", e, "served model %q of endpoint %q has no model_version; set the model version to serve, or a ${var...} or ${resources...} reference to it", str(get(e, "model_name")), key.Value))
				}
			}
		}
	})
}

// Ref is a name another configuration (the pipeline spec) expects the
// bundle to define, with where that configuration names it.
type Ref struct {
	// Kind is "target" or "job", or "no-build-python" when the
	// configuration prepares no Python for artifact builds (Name unused).
	Kind   string
	Name   string
	File   string
	Line   int
	Column int
}

// CheckPipelineRefs reports every ref that names a target or job the
// bundle does not define, at the ref's own position. Jobs are looked up in
// the bundle as resolved for its target; targets in all of its targets.
func CheckPipelineRefs(b *Bundle, refs []Ref) diag.List {
	var l diag.List
	for _, r := range refs {
		switch r.Kind {
		case "target":
			if !contains(b.Targets, r.Name) {
				l = append(l, diag.Errorf("pipeline-ref", r.File, r.Line, r.Column, "target %q is not defined in bundle %s; defined targets are %q%s", r.Name, b.RootFile, b.Targets, diag.DidYouMean(r.Name, b.Targets)))
			}
		case "job":
			if _, ok := b.Jobs[r.Name]; !ok {
				keys := slices.Sorted(maps.Keys(b.Jobs))
				l = append(l, diag.Errorf("pipeline-ref", r.File, r.Line, r.Column, "job %q is not defined in bundle %s (target %q); defined jobs are %q%s", r.Name, b.RootFile, b.Target, keys, diag.DidYouMean(r.Name, keys)))
			}
		case "no-build-python":
			for _, a := range b.Artifacts {
				if needsPython(a) {
					l = append(l, diag.Warnf("pipeline-build", r.File, r.Line, r.Column, "artifact %q of bundle %s is built with Python, but the pipeline spec has no build: block, so the generated plan, test and deploy jobs set up no Python build tools; add build: {python: \"3.11\"}", a.Name, b.RootFile))
					break
				}
			}
		default:
			l = append(l, diag.Errorf("pipeline-ref", r.File, r.Line, r.Column, "unknown reference kind %q, valid are \"target\", \"job\" and \"no-build-python\"", r.Kind))
		}
	}
	return l
}

// needsPython reports whether an artifact's build runs Python: a wheel, or
// a build command that starts with python or pip.
func needsPython(a Artifact) bool {
	if a.Type == "whl" {
		return true
	}
	first, _, _ := strings.Cut(strings.TrimSpace(a.Build), " ")
	first = filepath.Base(first)
	return strings.HasPrefix(first, "python") || strings.HasPrefix(first, "pip")
}
