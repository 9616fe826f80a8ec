package deploy

import (
	"strings"
)

// fieldDefault is one value the Databricks CLI gives a resource setting the
// bundle leaves unset. Path is relative to the resource; "[*]" stands for
// every element of a list. The value is set only where the parent of the
// last key exists and the key itself is absent, as the CLI's SetDefault
// does: a schedule without pause_status gets "UNPAUSED", a job without a
// schedule gets no schedule.
type fieldDefault struct {
	Path  string
	Value any
}

// cliDefaults are the defaults the Databricks CLI (bundle/config/mutator/
// resourcemutator, applyInitializeMutators) sets on every resource of a type
// before deploying, by resource group. Deploying the same values means that
// a deploy by either tool is a no-change deploy for the other. Defaults the
// CLI derives from the workspace (the parent_path of dashboards, alerts and
// Genie spaces) are not listed: they depend on workspace.resource_path.
// docs/comparison.md lists the same table.
var cliDefaults = map[string][]fieldDefault{
	"jobs": {
		{"name", "Untitled"},
		{"max_concurrent_runs", 1},
		{"schedule.pause_status", "UNPAUSED"},
		{"trigger.pause_status", "UNPAUSED"},
		{"continuous.pause_status", "UNPAUSED"},
		{"queue", map[string]any{"enabled": true}},
		{"job_clusters[*].new_cluster.workload_type.clients.notebooks", true},
		{"job_clusters[*].new_cluster.workload_type.clients.jobs", true},
	},
	"pipelines": {
		{"edition", "ADVANCED"},
		{"channel", "CURRENT"},
	},
	"volumes": {
		{"volume_type", "MANAGED"},
	},
	"dashboards": {
		{"embed_credentials", false},
	},
	"sql_warehouses": {
		{"auto_stop_mins", 120},
		{"enable_photon", true},
		{"max_num_clusters", 1},
		{"spot_instance_policy", "COST_OPTIMIZED"},
	},
	"apps": {
		{"description", ""},
	},
	"clusters": {
		{"autotermination_minutes", 60},
		{"workload_type.clients.notebooks", true},
		{"workload_type.clients.jobs", true},
	},
}

// applyDefaults sets the CLI's defaults of a resource group on cfg, a
// decoded JSON object it modifies in place, where the bundle leaves them
// unset.
func applyDefaults(group string, cfg map[string]any) {
	for _, d := range cliDefaults[group] {
		setDefault(cfg, strings.Split(d.Path, "."), d.Value)
	}
}

// setDefault walks keys from v and sets the last one to value when its
// parent exists and does not hold it. A key ending in "[*]" names a list
// whose every element is walked.
func setDefault(v any, keys []string, value any) {
	m, ok := v.(map[string]any)
	if !ok {
		return
	}
	key := keys[0]
	if len(keys) == 1 {
		if _, set := m[key]; !set {
			m[key] = copyDefault(value)
		}
		return
	}
	if list, ok := strings.CutSuffix(key, "[*]"); ok {
		elems, _ := m[list].([]any)
		for _, e := range elems {
			setDefault(e, keys[1:], value)
		}
		return
	}
	setDefault(m[key], keys[1:], value)
}

// copyDefault returns a fresh copy of a map default, so that resources
// never share (and later modify) one map.
func copyDefault(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	out := make(map[string]any, len(m))
	for k, c := range m {
		out[k] = copyDefault(c)
	}
	return out
}
