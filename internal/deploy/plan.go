package deploy

import (
	"context"
	"fmt"
	"path"
	"reflect"
	"runtime"
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
	// access control list appears as the path "permissions".
	Fields []FieldChange `json:"fields,omitempty"`
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
	order     []string
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
	order, err := jobOrder(b.Jobs)
	if err != nil {
		return nil, err
	}
	p := &PlanResult{Bundle: b.Name, Target: b.Target, FirstDeploy: !st.exists, st: st, files: files, order: order, deployer: deployer}
	p.Files = planFiles(files, st.deployment.Files)

	ids := map[string]string{}
	for k := range b.Jobs {
		if e, ok := st.resources.State[jobAddr(k)]; ok && e.ID != "" {
			ids[k] = e.ID
		}
	}
	// Building a job's settings goes through the SDK's types, which is
	// slow enough for a hundred jobs to matter: build them on every core.
	norms := make([]map[string]any, len(order))
	err = forEachParallel(context.Background(), runtime.GOMAXPROCS(0), indexes(len(order)), func(_ context.Context, i int) error {
		_, norm, err := jobSettings(b, b.Jobs[order[i]], ids)
		norms[i] = norm
		return err
	})
	if err != nil {
		return nil, err
	}
	for i, k := range order {
		j := b.Jobs[k]
		norm := norms[i]
		rc := ResourceChange{Kind: KindJob, Key: k, Name: stringField(norm, "name"), ID: ids[k]}
		desiredACL := acl(j.Permissions, deployer, iam.PermissionLevelIsOwner)
		rc.Action, rc.Fields = planResource(st, jobAddr(k), norm, desiredACL, "/jobs/"+ids[k])
		p.Resources = append(p.Resources, rc)
	}
	for _, k := range sortedKeys(b.ServingEndpoints) {
		e := b.ServingEndpoints[k]
		_, norm, err := endpointSettings(e)
		if err != nil {
			return nil, err
		}
		addr := endpointAddr(k)
		rc := ResourceChange{Kind: KindServingEndpoint, Key: k, Name: stringField(norm, "name"), ID: st.resources.State[addr].ID}
		desiredACL := acl(e.Permissions, deployer, iam.PermissionLevelCanManage)
		objectID := ""
		if perm, ok := st.resources.State[permAddr(addr)]; ok {
			objectID, _ = perm.State["object_id"].(string)
		}
		rc.Action, rc.Fields = planResource(st, addr, norm, desiredACL, objectID)
		if rc.Action == Update && rc.ID != "" && rc.ID != rc.Name {
			// The name is the endpoint's identity: a rename replaces it.
			rc.Fields = append([]FieldChange{{Path: "name", Old: rc.ID, New: rc.Name}}, rc.Fields...)
		}
		p.Resources = append(p.Resources, rc)
	}
	for _, addr := range sortedKeys(st.resources.State) {
		e := st.resources.State[addr]
		switch {
		case strings.HasPrefix(addr, "resources.jobs.") && !strings.HasSuffix(addr, ".permissions"):
			k := strings.TrimPrefix(addr, "resources.jobs.")
			if _, ok := b.Jobs[k]; !ok {
				p.Resources = append(p.Resources, ResourceChange{Kind: KindJob, Key: k, Name: stringField(e.State, "name"), Action: Delete, ID: e.ID})
			}
		case strings.HasPrefix(addr, "resources.model_serving_endpoints.") && !strings.HasSuffix(addr, ".permissions"):
			k := strings.TrimPrefix(addr, "resources.model_serving_endpoints.")
			if _, ok := b.ServingEndpoints[k]; !ok {
				p.Resources = append(p.Resources, ResourceChange{Kind: KindServingEndpoint, Key: k, Name: e.ID, Action: Delete, ID: e.ID})
			}
		}
	}
	arts, err := localArtifacts(b)
	if err != nil {
		return nil, err
	}
	planArtifacts(p, b, arts, st.deployment.Artifacts)
	return p, nil
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

func stringField(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// describe is a one-line description of a resource change.
func (r ResourceChange) describe() string {
	kind := strings.ReplaceAll(r.Kind, "_", " ")
	s := fmt.Sprintf("%s %s %s", r.Action, kind, r.Key)
	if r.Name != "" && r.Name != r.Key {
		s += fmt.Sprintf(" (%q)", r.Name)
	}
	return s
}
