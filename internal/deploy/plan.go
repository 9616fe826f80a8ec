package deploy

import (
	"context"
	"fmt"
	"maps"
	"path"
	"reflect"
	"runtime"
	"slices"
	"sort"
	"strings"

	"github.com/brickci/brickci/internal/bundle"
	"github.com/databricks/databricks-sdk-go/service/iam"
)

// Action is what a deploy does to a resource or file.
type Action string

// The actions of a plan.
const (
	Create    Action = "create"
	Update    Action = "update"
	Delete    Action = "delete"
	Unchanged Action = "unchanged"
)

// Resource kinds in a plan.
const (
	KindJob             = "job"
	KindServingEndpoint = "serving_endpoint"
)

// ResourceChange is the plan for one resource.
type ResourceChange struct {
	Kind   string `json:"kind"`
	Key    string `json:"key"`
	Name   string `json:"name,omitempty"`
	Action Action `json:"action"`
	// ID is the resource's id in state (empty for a create).
	ID string `json:"id,omitempty"`
	// Fields are the setting differences of an update; a change of the
	// access control list appears as the path "permissions", one of the
	// Unity Catalog grants as "grants".
	Fields []FieldChange `json:"fields,omitempty"`
	// Replace is true when the update deletes the resource and creates it
	// again: a field its API cannot update changed.
	Replace bool `json:"replace,omitempty"`
}

// FileChanges lists the files a deploy uploads or deletes, by path relative
// to the bundle root.
type FileChanges struct {
	Added     []string `json:"added"`
	Changed   []string `json:"changed"`
	Deleted   []string `json:"deleted"`
	Unchanged int      `json:"unchanged"`
}

// PlanResult is what a deploy would change.
type PlanResult struct {
	Bundle string `json:"bundle"`
	Target string `json:"target"`
	// FirstDeploy is true when the target has no state yet.
	FirstDeploy bool             `json:"first_deploy"`
	Resources   []ResourceChange `json:"resources"`
	Files       FileChanges      `json:"files"`
	// Artifacts are the built files to upload to the artifact path.
	Artifacts ArtifactChanges `json:"artifacts,omitzero"`
	// Drift lists what changed in the workspace since the last deploy; it
	// is filled by Refresh only.
	Drift []ResourceChange `json:"drift,omitempty"`

	st        *remoteState
	files     []localFile
	artifacts []artifactFile
	graph     *graph
	deployer  string
}

// Changed reports whether applying the plan changes anything.
func (p *PlanResult) Changed() bool {
	if len(p.Files.Added)+len(p.Files.Changed)+len(p.Files.Deleted) > 0 {
		return true
	}
	if len(p.Artifacts.Upload)+len(p.Artifacts.Deleted) > 0 {
		return true
	}
	for _, r := range p.Resources {
		if r.Action != Unchanged {
			return true
		}
	}
	return len(p.Drift) > 0
}

// computePlan compares the desired state of b with the remote state.
func computePlan(b *bundle.Bundle, files []localFile, st *remoteState, deployer string) (*PlanResult, error) {
	g, err := newGraph(b)
	if err != nil {
		return nil, err
	}
	p := &PlanResult{Bundle: b.Name, Target: b.Target, FirstDeploy: !st.exists, st: st, files: files, graph: g, deployer: deployer}
	p.Files = planFiles(files, st.deployment.Files)

	ids := map[string]string{}
	for _, a := range g.order {
		if e, ok := st.resources.State[a]; ok && e.ID != "" {
			ids[a] = e.ID
		}
	}
	// Building a job's settings goes through the SDK's types, which is
	// slow enough for a hundred jobs to matter: build them on every core.
	norms := make([]map[string]any, len(g.order))
	err = forEachParallel(context.Background(), runtime.GOMAXPROCS(0), indexes(len(g.order)), func(_ context.Context, i int) error {
		t, _, _ := splitAddr(g.order[i])
		_, norm, err := t.desired(b, g.res[g.order[i]], ids)
		norms[i] = norm
		return err
	})
	if err != nil {
		return nil, err
	}
	// Unity Catalog objects replaced by this plan: deleting them deletes
	// what they hold. And those renamed, old name to new: renaming them
	// moves what they hold.
	var replacedNames []string
	renamedNames := map[string]string{}
	for i, a := range g.order {
		t, key, _ := splitAddr(a)
		r, norm := g.res[a], norms[i]
		rc := ResourceChange{Kind: t.kind(), Key: key, Name: t.name(norm), ID: ids[a]}
		var desiredACL []iam.AccessControlRequest
		objectID := ""
		if at, ok := t.(aclType); ok {
			desiredACL = acl(r.Permissions, deployer, at.ownerLevel())
			objectID = at.objectID(ids[a], st.resources.State[permAddr(a)].ID, nil)
		}
		rc.Action, rc.Fields = planResource(st, a, norm, desiredACL, objectID)
		if _, ok := t.(grantType); ok && rc.Action != Create {
			if f, changed := planGrants(st, a, r.Grants); changed {
				rc.Action, rc.Fields = Update, append(rc.Fields, f)
			}
		}
		// Where the resource is once the objects holding it are renamed.
		at := rc.ID
		if _, ok := t.(caseless); ok {
			at = movedWith(renamedNames, rc.ID)
		}
		if rc.Action == Update && t.replaces(at, st.resources.State[a].State, norm) {
			rc.Replace = true
			if _, ok := t.(idIsName); ok && !sameID(t, at, rc.Name) {
				// The name is the resource's identity: a rename replaces it.
				rc.Fields = append([]FieldChange{{Path: "name", Old: rc.ID, New: rc.Name}}, rc.Fields...)
			}
		}
		if _, ok := t.(caseless); ok && rc.Action == Update && !rc.Replace && !sameName(at, rc.Name) {
			renamedNames[rc.ID] = rc.Name
		}
		if _, ok := t.(caseless); ok && rc.ID != "" {
			if in := holder(replacedNames, rc.ID); in != "" && !rc.Replace {
				// Its schema (or catalog) is deleted and created again, and
				// it with it; the graph orders it after the holder.
				rc.Action, rc.Replace = Update, true
				rc.Fields = append(rc.Fields, FieldChange{Path: "schema", Old: in, New: in + " (replaced)"})
			}
			if rc.Replace {
				replacedNames = append(replacedNames, rc.ID)
			}
		}
		p.Resources = append(p.Resources, rc)
	}
	for _, a := range slices.Sorted(maps.Keys(st.resources.State)) {
		t, key, ok := splitAddr(a)
		if !ok || g.res[a] != nil {
			continue
		}
		e := st.resources.State[a]
		name := t.name(e.State)
		if name == "" {
			name = e.ID
		}
		p.Resources = append(p.Resources, ResourceChange{Kind: t.kind(), Key: key, Name: name, Action: Delete, ID: e.ID})
	}
	arts, err := localArtifacts(b)
	if err != nil {
		return nil, err
	}
	planArtifacts(p, b, arts, st.deployment.Artifacts)
	return p, nil
}

// An idIsName type's id is its name (a serving endpoint, a Unity Catalog
// object's full name): a new name is a new resource.
type idIsName interface{ idIsName() }

// holder returns the name among names that holds the Unity Catalog object
// full (its catalog or schema), or "".
func holder(names []string, full string) string {
	for _, n := range names {
		if len(full) > len(n) && full[len(n)] == '.' && sameName(full[:len(n)], n) {
			return n
		}
	}
	return ""
}

// movedWith returns where the Unity Catalog object full is once the
// objects renamed (old name to new) are: a volume of a renamed schema is
// in the schema of the new name.
func movedWith(renamed map[string]string, full string) string {
	for old, n := range renamed {
		if h := holder([]string{old}, full); h != "" {
			return n + full[len(h):]
		}
	}
	return full
}

// A caseless type's id is a Unity Catalog name, which compares regardless
// of case.
type caseless interface{ caseless() }

// sameID reports whether a resource recorded as id is the one named name.
func sameID(t resourceType, id, name string) bool {
	if _, ok := t.(caseless); ok {
		return sameName(id, name)
	}
	return id == name
}

// planResource decides the action for one resource from its recorded state.
func planResource(st *remoteState, addr string, norm map[string]any, desiredACL []iam.AccessControlRequest, objectID string) (Action, []FieldChange) {
	e, ok := st.resources.State[addr]
	if !ok || e.ID == "" {
		return Create, nil
	}
	var fields []FieldChange
	diffValues("", e.State, norm, &fields)
	var oldPerms, newPerms any
	if perm, ok := st.resources.State[permAddr(addr)]; ok {
		oldPerms = perm.State[permsKey]
	}
	if desiredACL != nil {
		newPerms = aclState(objectID, desiredACL)[permsKey]
	}
	if oldPerms != nil || newPerms != nil {
		if !reflect.DeepEqual(oldPerms, newPerms) {
			fields = append(fields, FieldChange{Path: "permissions", Old: oldPerms, New: newPerms})
		}
	}
	if len(fields) == 0 {
		return Unchanged, nil
	}
	return Update, fields
}

// planFiles compares local files with the snapshot in deployment.json.
func planFiles(files []localFile, snapshot []StateFile) FileChanges {
	fc := FileChanges{Added: []string{}, Changed: []string{}, Deleted: []string{}}
	old := make(map[string]StateFile, len(snapshot))
	for _, f := range snapshot {
		old[f.LocalPath] = f
	}
	seen := make(map[string]bool, len(files))
	for _, f := range files {
		seen[f.Rel] = true
		o, ok := old[f.Rel]
		switch {
		case !ok:
			fc.Added = append(fc.Added, f.Rel)
		case o.SHA256 != f.Hash || o.Remote != f.Remote || o.IsNotebook != f.Notebook:
			fc.Changed = append(fc.Changed, f.Rel)
		default:
			fc.Unchanged++
		}
	}
	for _, f := range snapshot {
		if !seen[f.LocalPath] {
			fc.Deleted = append(fc.Deleted, f.LocalPath)
		}
	}
	sort.Strings(fc.Added)
	sort.Strings(fc.Changed)
	sort.Strings(fc.Deleted)
	return fc
}

// remoteOf returns where a file from the snapshot lives in the workspace.
// Snapshots written by the CLI carry no remote path: notebooks are stored
// without their extension.
func remoteOf(filePath string, f StateFile) string {
	if f.Remote != "" {
		return f.Remote
	}
	rel := f.LocalPath
	if f.IsNotebook {
		rel = strings.TrimSuffix(rel, path.Ext(rel))
	}
	return path.Join(filePath, rel)
}

// describe is a one-line description of a resource change.
func (r ResourceChange) describe() string {
	kind := strings.ReplaceAll(r.Kind, "_", " ")
	s := fmt.Sprintf("%s %s %s", r.verb(), kind, r.Key)
	if r.Name != "" && r.Name != r.Key {
		s += fmt.Sprintf(" (%q)", r.Name)
	}
	return s
}

// verb is the action as plans print it: "replace" for an update that
// deletes and creates the resource.
func (r ResourceChange) verb() string {
	if r.Replace {
		return "replace"
	}
	return string(r.Action)
}
