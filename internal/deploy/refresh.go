package deploy

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"strconv"

	"github.com/databricks/databricks-sdk-go"
	"github.com/databricks/databricks-sdk-go/service/serving"
)

// The actions of a refresh: a resource changed or removed in the workspace
// since the last deploy.
const (
	Drifted Action = "drifted"
	Missing Action = "missing"
)

// Refresh compares the jobs and serving endpoints recorded in state with
// the workspace (one GET each) and lists in p.Drift what changed there since
// the last deploy: a job setting edited in the UI, a job or endpoint deleted
// by hand. Only settings the bundle sets are compared, so defaults the
// workspace fills in are not reported. Endpoints are checked for existence
// only. Apply with Options.Refresh puts drifted jobs back.
func (p *PlanResult) Refresh(ctx context.Context, w *databricks.WorkspaceClient) error {
	p.Drift = nil
	for _, r := range p.Resources {
		if r.ID == "" || r.Action == Create {
			continue
		}
		entry, ok := p.st.resources.State[addrOf(r)]
		if !ok {
			continue
		}
		switch r.Kind {
		case KindJob:
			id, err := strconv.ParseInt(r.ID, 10, 64)
			if err != nil {
				return fmt.Errorf("failed to parse the id %q of job %q in state: %w", r.ID, r.Key, err)
			}
			job, err := w.Jobs.GetByJobId(ctx, id)
			if isNotFound(err) {
				p.Drift = append(p.Drift, ResourceChange{Kind: r.Kind, Key: r.Key, Name: r.Name, ID: r.ID, Action: Missing})
				continue
			}
			if err != nil {
				return fmt.Errorf("failed to read job %q (id %s): %w", r.Key, r.ID, err)
			}
			remote := map[string]any{}
			if job.Settings != nil {
				if remote, err = normalise(job.Settings); err != nil {
					return fmt.Errorf("failed to read the settings of job %q: %w", r.Key, err)
				}
			}
			var fields []FieldChange
			diffPresent("", entry.State, remote, &fields)
			if len(fields) > 0 {
				p.Drift = append(p.Drift, ResourceChange{Kind: r.Kind, Key: r.Key, Name: r.Name, ID: r.ID, Action: Drifted, Fields: fields})
			}
		case KindServingEndpoint:
			_, err := w.ServingEndpoints.Get(ctx, serving.GetServingEndpointRequest{Name: r.ID})
			if isNotFound(err) {
				p.Drift = append(p.Drift, ResourceChange{Kind: r.Kind, Key: r.Key, Name: r.Name, ID: r.ID, Action: Missing})
				continue
			}
			if err != nil {
				return fmt.Errorf("failed to read serving endpoint %q: %w", r.ID, err)
			}
		}
	}
	return nil
}

func addrOf(r ResourceChange) string {
	if r.Kind == KindServingEndpoint {
		return endpointAddr(r.Key)
	}
	return jobAddr(r.Key)
}

// drifted returns the keys of resources of a kind whose settings Refresh
// found changed in the workspace.
func (p *PlanResult) drifted(kind string) map[string]bool {
	out := map[string]bool{}
	for _, r := range p.Drift {
		if r.Kind == kind && r.Action == Drifted {
			out[r.Key] = true
		}
	}
	return out
}

// recreateMissing turns every resource Refresh found deleted in the
// workspace into a create, forgetting its id, so the deploy makes it again.
func (p *PlanResult) recreateMissing() {
	for _, d := range p.Drift {
		if d.Action != Missing {
			continue
		}
		delete(p.st.resources.State, addrOf(d))
		delete(p.st.resources.State, permAddr(addrOf(d)))
		for i, r := range p.Resources {
			if r.Kind == d.Kind && r.Key == d.Key {
				p.Resources[i].Action, p.Resources[i].ID, p.Resources[i].Fields = Create, "", nil
			}
		}
	}
}

// diffPresent appends the differences between what was deployed (want)
// and what the workspace holds (got), looking only at the fields want has:
// the workspace adds defaults of its own that are not changes. Elements of
// keyed lists (tasks by task_key, …) present on either side are compared.
func diffPresent(prefix string, want, got any, out *[]FieldChange) {
	if reflect.DeepEqual(want, got) {
		return
	}
	if wm, ok := want.(map[string]any); ok {
		if gm, ok := got.(map[string]any); ok {
			keys := make([]string, 0, len(wm))
			for k := range wm {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				diffPresent(join(prefix, k), wm[k], gm[k], out)
			}
			return
		}
	}
	if wl, ok := want.([]any); ok {
		if gl, ok := got.([]any); ok {
			if key := commonListKey(wl, gl); key != "" {
				wk, gk := byKey(wl, key), byKey(gl, key)
				for _, k := range unionKeys(wk, gk) {
					path := fmt.Sprintf("%s[%s]", prefix, k)
					w, inW := wk[k]
					g, inG := gk[k]
					if inW && inG {
						diffPresent(path, w, g, out)
					} else {
						*out = append(*out, FieldChange{Path: path, Old: w, New: g})
					}
				}
				return
			}
			if len(wl) == len(gl) {
				for i := range wl {
					diffPresent(fmt.Sprintf("%s[%d]", prefix, i), wl[i], gl[i], out)
				}
				return
			}
		}
	}
	*out = append(*out, FieldChange{Path: prefix, Old: want, New: got})
}
