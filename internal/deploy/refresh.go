package deploy

import (
	"context"
	"fmt"
	"maps"
	"reflect"
	"sort"

	"github.com/brickci/brickci/internal/bundle"
	"github.com/databricks/databricks-sdk-go"
)

// The actions of a refresh: a resource changed or removed in the workspace
// since the last deploy.
const (
	Drifted Action = "drifted"
	Missing Action = "missing"
)

// Refresh compares the resources recorded in state with the workspace
// (one GET each) and lists in p.Drift what changed there since the last
// deploy: a job setting edited in the UI, a resource deleted by hand. Only
// settings the bundle sets are compared, so defaults the workspace fills
// in are not reported; for types whose read returns no settings (serving
// endpoints) only existence is checked. The Unity Catalog grants of the
// principals the bundle names are compared too. Apply with
// Options.Refresh puts drifted resources back.
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
		t := typeOfKind(r.Kind)
		remote, err := t.read(ctx, w, r.ID)
		if isNotFound(err) {
			p.Drift = append(p.Drift, ResourceChange{Kind: r.Kind, Key: r.Key, Name: r.Name, ID: r.ID, Action: Missing})
			continue
		}
		if err != nil {
			return fmt.Errorf("failed to read %s: %w", t.label(r.Key, r.ID), err)
		}
		var fields []FieldChange
		if remote != nil {
			if a, ok := t.(remoteAligner); ok {
				a.alignRemote(entry.State, remote)
			}
			diffPresent("", entry.State, remote, &fields)
		}
		if gt, ok := t.(grantType); ok {
			f, err := p.refreshGrants(ctx, w, addrOf(r), gt.securable(), r.ID)
			if err != nil {
				return fmt.Errorf("failed to read the grants of %s: %w", t.label(r.Key, r.ID), err)
			}
			fields = append(fields, f...)
		}
		if len(fields) > 0 {
			p.Drift = append(p.Drift, ResourceChange{Kind: r.Kind, Key: r.Key, Name: r.Name, ID: r.ID, Action: Drifted, Fields: fields})
		}
	}
	return nil
}

// refreshGrants reads the grants on the Unity Catalog object at a and
// returns, as the field "grants", how the privileges of the principals
// recorded in state differ from those the workspace holds; grants to other
// principals are not the deployment's. A difference is recorded in the
// plan's state as what the workspace holds, so that a deploy with
// --refresh adds and removes exactly what puts the bundle's grants back.
func (p *PlanResult) refreshGrants(ctx context.Context, w *databricks.WorkspaceClient, a, securable, fullName string) ([]FieldChange, error) {
	ge, ok := p.st.resources.State[grantAddr(a)]
	if !ok {
		return nil, nil
	}
	recorded := recordedGrants(ge.State)
	got, err := w.Grants.GetBySecurableTypeAndFullName(ctx, securable, fullName)
	if err != nil {
		return nil, err
	}
	var held []bundle.Grant
	for _, pa := range got.PrivilegeAssignments {
		if _, ok := recorded[pa.Principal]; !ok {
			continue
		}
		g := bundle.Grant{Principal: pa.Principal}
		for _, v := range pa.Privileges {
			g.Privileges = append(g.Privileges, string(v))
		}
		held = append(held, g)
	}
	old, now := normalisedAny(ge.State[permsKey]), normalisedAny(grantsEmbed(held))
	if reflect.DeepEqual(old, now) {
		return nil, nil
	}
	ge.State = maps.Clone(ge.State)
	ge.State[permsKey] = now
	p.st.resources.State[grantAddr(a)] = ge
	return []FieldChange{{Path: "grants", Old: old, New: now}}, nil
}

// A remoteAligner rewrites the settings read back from the workspace where
// they spell what was deployed another way (a path without its /Workspace
// prefix), before Refresh compares them.
type remoteAligner interface {
	alignRemote(deployed, remote map[string]any)
}

// driftedAddrs returns the addresses of the resources whose settings
// Refresh found changed in the workspace.
func (p *PlanResult) driftedAddrs() map[string]bool {
	out := map[string]bool{}
	for _, r := range p.Drift {
		if r.Action == Drifted {
			out[addrOf(r)] = true
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
		delete(p.st.resources.State, grantAddr(addrOf(d)))
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
