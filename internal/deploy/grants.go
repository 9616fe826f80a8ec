package deploy

import (
	"context"
	"maps"
	"reflect"
	"slices"

	"github.com/brickci/brickci/internal/bundle"
	"github.com/databricks/databricks-sdk-go/service/catalog"
)

// Grants of a Unity Catalog resource are recorded at
// resources.<group>.<key>.grants, as the Databricks CLI records them:
// {"__id__": "<securable type>/<full name>", "state": {"securable_type",
// "full_name", "__embed__": [{"principal", "privileges"}]}}. A deploy
// changes only the privileges of the principals the bundle names (and of
// those it named before): grants given in the workspace to anyone else
// are left as they are.

// grantsEntry is the state entry of grants on the resource at a.
func grantsEntry(a, securable, fullName string, grants []bundle.Grant) ResourceEntry {
	return ResourceEntry{
		ID:        securable + "/" + fullName,
		State:     map[string]any{"securable_type": securable, "full_name": fullName, permsKey: grantsEmbed(grants)},
		DependsOn: []DependsOn{{Node: a, Label: "${" + a + ".id}"}},
	}
}

// grantsEmbed is the normalised list of grants: by principal, with the
// privileges of each sorted and merged.
func grantsEmbed(grants []bundle.Grant) []any {
	byPrincipal := grantsByPrincipal(grants)
	out := make([]any, 0, len(byPrincipal))
	for _, p := range slices.Sorted(maps.Keys(byPrincipal)) {
		privs := make([]any, 0, len(byPrincipal[p]))
		for _, v := range byPrincipal[p] {
			privs = append(privs, v)
		}
		out = append(out, map[string]any{"principal": p, "privileges": privs})
	}
	return out
}

func grantsByPrincipal(grants []bundle.Grant) map[string][]string {
	out := map[string][]string{}
	for _, g := range grants {
		out[g.Principal] = append(out[g.Principal], g.Privileges...)
	}
	for p, l := range out {
		slices.Sort(l)
		out[p] = slices.Compact(l)
	}
	return out
}

// recordedGrants reads the privileges by principal back from a state.
func recordedGrants(state map[string]any) map[string][]string {
	out := map[string][]string{}
	list, _ := state[permsKey].([]any)
	for _, e := range list {
		m, _ := e.(map[string]any)
		p, _ := m["principal"].(string)
		privs, _ := m["privileges"].([]any)
		for _, v := range privs {
			if s, ok := v.(string); ok {
				out[p] = append(out[p], s)
			}
		}
	}
	return out
}

// planGrants compares the bundle's grants on the resource at a with those
// recorded; a change is the field "grants".
func planGrants(st *remoteState, a string, grants []bundle.Grant) (FieldChange, bool) {
	old, had := st.resources.State[grantAddr(a)]
	if !had && len(grants) == 0 {
		return FieldChange{}, false
	}
	var oldEmbed, newEmbed any
	if had {
		oldEmbed = normalisedAny(old.State[permsKey])
	}
	if len(grants) > 0 {
		newEmbed = normalisedAny(grantsEmbed(grants))
	}
	if reflect.DeepEqual(oldEmbed, newEmbed) {
		return FieldChange{}, false
	}
	return FieldChange{Path: "grants", Old: oldEmbed, New: newEmbed}, true
}

// normalisedAny is v as decoded JSON, so that values built here compare
// with values read from state.
func normalisedAny(v any) any {
	m, err := normalise(map[string]any{"v": v})
	if err != nil {
		return v
	}
	return m["v"]
}

// applyGrants brings the grants on a Unity Catalog resource to the
// bundle's with one update of its permissions, when they differ from
// those recorded.
func (d *deployer) applyGrants(ctx context.Context, a, securable, fullName string, grants []bundle.Grant) error {
	ga := grantAddr(a)
	d.mu.Lock()
	old, had := d.st.resources.State[ga]
	d.mu.Unlock()
	if len(grants) == 0 && !had {
		return nil
	}
	want := grantsEntry(a, securable, fullName, grants)
	norm, err := normalise(want.State)
	if err != nil {
		return err
	}
	if had && old.ID == want.ID && reflect.DeepEqual(old.State, norm) {
		return nil
	}
	// Grants follow a renamed object: what was recorded for its old name
	// is what it holds.
	recorded := recordedGrants(old.State)
	desired := grantsByPrincipal(grants)
	var changes []catalog.PermissionsChange
	for _, p := range slices.Sorted(maps.Keys(mergeKeys(recorded, desired))) {
		c := catalog.PermissionsChange{Principal: p}
		for _, v := range desired[p] {
			c.Add = append(c.Add, catalog.Privilege(v))
		}
		for _, v := range recorded[p] {
			if !slices.Contains(desired[p], v) {
				c.Remove = append(c.Remove, catalog.Privilege(v))
			}
		}
		if len(c.Add)+len(c.Remove) > 0 {
			changes = append(changes, c)
		}
	}
	if len(changes) > 0 {
		if _, err := d.w.Grants.Update(ctx, catalog.UpdatePermissions{SecurableType: securable, FullName: fullName, Changes: changes}); err != nil {
			return err
		}
	}
	d.mu.Lock()
	if len(grants) == 0 {
		delete(d.st.resources.State, ga)
	} else {
		want.State = norm
		d.st.resources.State[ga] = want
	}
	d.mu.Unlock()
	return d.saveResources(ctx)
}

func mergeKeys(a, b map[string][]string) map[string]bool {
	out := map[string]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}
