package run

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/brickci/brickci/internal/diag"
)

// The kinds of resources run can run, as the bundle's resources groups
// name them.
const (
	KindJob      = "jobs"
	KindPipeline = "pipelines"
)

// Defined is what a bundle defines that can be run.
type Defined struct {
	// Bundle is the bundle's name, for messages.
	Bundle string
	// Jobs and Pipelines are the resource keys.
	Jobs, Pipelines []string
}

// Ref is a job or a pipeline named by the caller.
type Ref struct {
	Kind string // KindJob or KindPipeline
	Key  string
}

// Resolve finds what each name means: a job key, a pipeline key, or one of
// them qualified as jobs.KEY or pipelines.KEY. A key the bundle defines as
// both a job and a pipeline must be qualified. The errors are the caller's
// mistakes and say what to name instead.
func Resolve(names []string, d Defined) ([]Ref, error) {
	var refs []Ref
	for _, n := range names {
		ref, err := d.resolve(n)
		if err != nil {
			return nil, err
		}
		refs = append(refs, ref)
	}
	return refs, nil
}

func (d Defined) resolve(name string) (Ref, error) {
	if key, ok := strings.CutPrefix(name, KindJob+"."); ok {
		if !slices.Contains(d.Jobs, key) {
			return Ref{}, fmt.Errorf("job %q is not defined in bundle %q%s", key, d.Bundle, hint(key, "jobs", d.Jobs))
		}
		return Ref{KindJob, key}, nil
	}
	if key, ok := strings.CutPrefix(name, KindPipeline+"."); ok {
		if !slices.Contains(d.Pipelines, key) {
			return Ref{}, fmt.Errorf("pipeline %q is not defined in bundle %q%s", key, d.Bundle, hint(key, "pipelines", d.Pipelines))
		}
		return Ref{KindPipeline, key}, nil
	}
	job, pipeline := slices.Contains(d.Jobs, name), slices.Contains(d.Pipelines, name)
	switch {
	case job && pipeline:
		return Ref{}, fmt.Errorf("%q is both a job and a pipeline of bundle %q; name it %s.%s or %s.%s", name, d.Bundle, KindJob, name, KindPipeline, name)
	case job:
		return Ref{KindJob, name}, nil
	case pipeline:
		return Ref{KindPipeline, name}, nil
	case len(d.Pipelines) == 0:
		return Ref{}, fmt.Errorf("job %q is not defined in bundle %q%s", name, d.Bundle, hint(name, "jobs", d.Jobs))
	}
	if h := diag.DidYouMean(name, slices.Concat(d.Jobs, d.Pipelines)); h != "" {
		return Ref{}, fmt.Errorf("job or pipeline %q is not defined in bundle %q%s", name, d.Bundle, h)
	}
	jobs := "it defines no jobs"
	if len(d.Jobs) > 0 {
		jobs = "its jobs are " + strings.Join(d.Jobs, ", ")
	}
	return Ref{}, fmt.Errorf("job or pipeline %q is not defined in bundle %q; %s and its pipelines are %s", name, d.Bundle, jobs, strings.Join(d.Pipelines, ", "))
}

// hint suggests the closest key, or lists them all.
func hint(key, group string, keys []string) string {
	if h := diag.DidYouMean(key, keys); h != "" {
		return h
	}
	if len(keys) == 0 {
		return "; it defines no " + group
	}
	return "; its " + group + " are " + strings.Join(keys, ", ")
}

// Bind looks up the id a deployment recorded for each ref (jobIDs and
// pipelineIDs by resource key). A resource the target's state does not
// record is an error asking to deploy the target first.
func Bind(refs []Ref, jobIDs map[string]int64, pipelineIDs map[string]string, target string) ([]Resource, error) {
	var list []Resource
	for _, ref := range refs {
		if ref.Kind == KindPipeline {
			id, ok := pipelineIDs[ref.Key]
			if !ok {
				return nil, fmt.Errorf("pipeline %q is not deployed to target %q; deploy the target first", ref.Key, target)
			}
			list = append(list, Pipeline{Key: ref.Key, ID: id})
			continue
		}
		id, ok := jobIDs[ref.Key]
		if !ok {
			return nil, fmt.Errorf("job %q is not deployed to target %q; deploy the target first", ref.Key, target)
		}
		list = append(list, Job{Key: ref.Key, ID: id})
	}
	return list, nil
}

// Outputs are the step outputs of started runs and updates, each a JSON
// object by resource key: run_ids and run_urls for jobs, update_ids and
// update_urls for pipelines.
func Outputs(results []Result) map[string]string {
	runIDs, runURLs := map[string]int64{}, map[string]string{}
	updateIDs, updateURLs := map[string]string{}, map[string]string{}
	for _, r := range results {
		switch {
		case r.IsPipeline() && r.UpdateID != "":
			updateIDs[r.Key()], updateURLs[r.Key()] = r.UpdateID, r.URL
		case !r.IsPipeline() && r.RunID != 0:
			runIDs[r.Key()], runURLs[r.Key()] = r.RunID, r.URL
		}
	}
	out := map[string]string{}
	for k, v := range map[string]any{"run_ids": runIDs, "run_urls": runURLs, "update_ids": updateIDs, "update_urls": updateURLs} {
		data, _ := json.Marshal(v) // maps of strings and numbers always marshal
		out[k] = string(data)
	}
	return out
}

// NotSucceeded says how many of the runs and updates did not succeed, e.g.
// "1 of 2 job runs did not succeed".
func NotSucceeded(results []Result) string {
	failed, jobs, pipelines := 0, 0, 0
	for _, r := range results {
		if !r.Succeeded() {
			failed++
		}
		if r.IsPipeline() {
			pipelines++
		} else {
			jobs++
		}
	}
	what := "job runs"
	switch {
	case jobs == 0:
		what = "pipeline updates"
	case pipelines > 0:
		what = "job runs and pipeline updates"
	}
	return fmt.Sprintf("%d of %d %s did not succeed", failed, len(results), what)
}
