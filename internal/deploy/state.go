package deploy

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"path"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// State file names inside the target's state path. They are the names the
// Databricks CLI uses, so a CLI deploy and a brickci deploy of the same
// target see one deployment.
const (
	resourcesFile  = "resources.json"
	deploymentFile = "deployment.json"
	lockFile       = "deploy.lock"
	metadataFile   = "metadata.json"
)

// deploymentVersion is the version of deployment.json the CLI writes and
// reads (bundle/deploy.DeploymentStateVersion).
const deploymentVersion = 1

// ResourcesState is resources.json: the CLI's Terraform-free resource state
// (bundle/direct/dstate in the Databricks CLI), written at state version 2.
// Each entry is keyed "resources.<group>.<key>" (and
// "resources.<group>.<key>.permissions" for an ACL) and holds the remote id,
// the settings last applied, which plans compare against so that a plan does
// not need a GET per resource, and the resources whose ids it used.
type ResourcesState struct {
	StateVersion int    `json:"state_version"`
	CLIVersion   string `json:"cli_version"`
	Lineage      string `json:"lineage"`
	Serial       int    `json:"serial"`
	// Features are the deployment state features a state depends on; only
	// a state at featureStateVersion has any, and brickci refuses those.
	Features map[string]struct{}      `json:"features,omitempty"`
	State    map[string]ResourceEntry `json:"state"`
	// Pending lists resource addresses whose create was sent but whose id
	// was not yet recorded. The next deploy adopts such a resource by its
	// name and deployment stamp instead of creating a duplicate. The CLI
	// ignores the field.
	Pending []string `json:"brickci_pending,omitempty"`
	// PendingNames holds the name each pending resource was created with,
	// so that one whose key is gone from the bundle by the next deploy (a
	// renamed or removed job) is still found, adopted and then deleted
	// rather than left behind. The CLI ignores the field.
	PendingNames map[string]string `json:"brickci_pending_names,omitempty"`
}

// ResourceEntry is one resource in ResourcesState.
type ResourceEntry struct {
	ID    string         `json:"__id__"`
	State map[string]any `json:"state"`
	// DependsOn names the resources whose values the settings use, by
	// address and the reference text, as the CLI records them.
	DependsOn []DependsOn `json:"depends_on,omitempty"`
}

// DependsOn is one dependency of a ResourceEntry: the address of the
// resource used and the reference through which it is used.
type DependsOn struct {
	Node  string `json:"node"`
	Label string `json:"label,omitempty"`
}

// Versions of resources.json. Version 1 (and 0, a file without the field)
// recorded permissions as {"object_id", "permissions": [{"permission_level",
// ...}]}; version 2 as {"object_id", "__embed__": [{"level", ...}]}.
// Version 3 is what a later CLI writes once a state records features; one
// without features reads as version 2 and keeps its number, as in the CLI.
const (
	currentStateVersion = 2
	featureStateVersion = 3
)

// permsKey is the field of a permissions entry's state holding the access
// control list at state version 2.
const permsKey = "__embed__"

// DeploymentState is deployment.json. Version, Seq, CLIVersion, Timestamp,
// Files (local_path, is_notebook) and ID are the CLI's fields; brickci adds
// the sha256 of every file and its workspace path so that unchanged files
// are never uploaded again (the CLI keeps that snapshot on the deploying
// machine, which a CI runner does not have).
type DeploymentState struct {
	Version    int         `json:"version"`
	Seq        int         `json:"seq"`
	CLIVersion string      `json:"cli_version"`
	Timestamp  time.Time   `json:"timestamp"`
	Files      []StateFile `json:"files"`
	ID         string      `json:"id"`
	// Artifacts are the built files uploaded to the artifact path.
	Artifacts []StateArtifact `json:"brickci_artifacts,omitempty"`
	// Resources records which resources.json the deploy that wrote this
	// file left behind. A reader that finds the same lineage and serial in
	// resources.json knows it holds a finished deploy's state and not one
	// half-way through (see probe). The CLI ignores the field.
	Resources *ResourcesRecord `json:"brickci_resources,omitempty"`
}

// ResourcesRecord names one version of resources.json: its lineage and
// serial, both empty when the file does not exist.
type ResourcesRecord struct {
	Lineage string `json:"lineage"`
	Serial  int    `json:"serial"`
}

// donePending records that the create of addr has its id in state.
func (r *ResourcesState) donePending(addr string) {
	r.Pending = removeString(r.Pending, addr)
	delete(r.PendingNames, addr)
	if len(r.Pending) == 0 {
		r.PendingNames = nil
	}
}

// StateFile is one synced file in DeploymentState.
type StateFile struct {
	LocalPath  string `json:"local_path"`
	IsNotebook bool   `json:"is_notebook"`
	Remote     string `json:"brickci_remote_path,omitempty"`
	SHA256     string `json:"brickci_sha256,omitempty"`
}

// remoteState is what a deploy reads before planning.
type remoteState struct {
	resources  ResourcesState
	deployment DeploymentState
	// exists is false on a first deploy (no resources.json).
	exists bool
	// resourcesExist is true once resources.json exists: read or written.
	resourcesExist bool
	// raw holds the bytes read of resources.json and deployment.json
	// (nil when missing).
	raw [2][]byte
}

// sameFiles reports whether st and o were read from identical state files.
func (st *remoteState) sameFiles(o *remoteState) bool {
	return bytes.Equal(st.raw[0], o.raw[0]) && bytes.Equal(st.raw[1], o.raw[1]) &&
		(st.raw[0] == nil) == (o.raw[0] == nil) && (st.raw[1] == nil) == (o.raw[1] == nil)
}

// record is the version of resources.json this state holds.
func (st *remoteState) record() ResourcesRecord {
	if !st.resourcesExist {
		return ResourcesRecord{}
	}
	return ResourcesRecord{Lineage: st.resources.Lineage, Serial: st.resources.Serial}
}

// finished reports whether deployment.json was written by the deploy that
// left resources.json as it is: the state is a finished deploy's, not one
// interrupted or still running between its resources.json writes and its
// final deployment.json write.
func (st *remoteState) finished() bool {
	r := st.deployment.Resources
	return r != nil && *r == st.record()
}

// Version is brickci's version; cmd/action sets it from the version the
// binary was built with. State files record it as cli_version in the form
// "brickci/<Version>", which tells a reader which tool wrote them and, not
// being a bare semantic version, does not make the CLI warn that the state
// comes from a newer CLI.
var Version = "dev"

// writerVersion is the cli_version brickci writes.
func writerVersion() string { return "brickci/" + Version }

// readState reads resources.json and deployment.json: one export each,
// sent together. A missing file is an empty state.
func readState(ctx context.Context, fs workspaceFS, statePath string) (*remoteState, error) {
	var (
		wg               sync.WaitGroup
		resData, depData []byte
		resErr, depErr   error
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		depData, depErr = fs.read(ctx, path.Join(statePath, deploymentFile))
	}()
	resData, resErr = fs.read(ctx, path.Join(statePath, resourcesFile))
	wg.Wait()
	return decodeState(statePath, resData, resErr, depData, depErr)
}

// decodeState builds the remote state from what reading resources.json and
// deployment.json returned.
func decodeState(statePath string, resData []byte, resErr error, depData []byte, depErr error) (*remoteState, error) {
	st := &remoteState{
		resources:  ResourcesState{StateVersion: currentStateVersion, CLIVersion: writerVersion(), State: map[string]ResourceEntry{}},
		deployment: DeploymentState{Version: deploymentVersion, CLIVersion: writerVersion()},
	}
	if resErr == nil {
		st.raw[0] = resData
	}
	if depErr == nil {
		st.raw[1] = depData
	}
	switch {
	case isNotFound(resErr):
	case resErr != nil:
		return nil, fmt.Errorf("failed to read %s: %w", resourcesFile, resErr)
	default:
		if err := decodeJSON(resData, &st.resources); err != nil {
			return nil, fmt.Errorf("failed to parse %s in %q: %w", resourcesFile, statePath, err)
		}
		if st.resources.State == nil {
			st.resources.State = map[string]ResourceEntry{}
		}
		if err := migrateState(&st.resources); err != nil {
			return nil, fmt.Errorf("failed to read %s in %q: %w", resourcesFile, statePath, err)
		}
		st.exists = true
		st.resourcesExist = true
	}
	switch {
	case isNotFound(depErr):
	case depErr != nil:
		return nil, fmt.Errorf("failed to read %s: %w", deploymentFile, depErr)
	default:
		if err := json.Unmarshal(depData, &st.deployment); err != nil {
			return nil, fmt.Errorf("failed to parse %s in %q: %w", deploymentFile, statePath, err)
		}
		if st.deployment.Version > deploymentVersion {
			return nil, fmt.Errorf("%s in %q has version %d, newer than the version %d brickci reads; upgrade brickci", deploymentFile, statePath, st.deployment.Version, deploymentVersion)
		}
		st.exists = true
	}
	return st, nil
}

// decodeJSON decodes with json.Number so that job ids and other large
// integers survive the round trip and compare exactly.
func decodeJSON(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	return dec.Decode(v)
}

// migrateState brings a resources.json read from the workspace to state
// version 2 in memory, as the CLI does on load: permissions entries of
// version 0 or 1 get the version 2 shape. A state newer than brickci
// understands is an error rather than something to overwrite.
func migrateState(rs *ResourcesState) error {
	switch {
	case rs.StateVersion == featureStateVersion && len(rs.Features) > 0:
		return fmt.Errorf("the state depends on features brickci does not support: %s; deploy this target with the Databricks CLI", strings.Join(slices.Sorted(maps.Keys(rs.Features)), ", "))
	case rs.StateVersion == featureStateVersion, rs.StateVersion == currentStateVersion:
		return nil
	case rs.StateVersion > featureStateVersion:
		return fmt.Errorf("state version %d is newer than the version %d brickci reads; upgrade brickci", rs.StateVersion, currentStateVersion)
	case rs.StateVersion < 0:
		return fmt.Errorf("state version %d is not a valid version", rs.StateVersion)
	}
	for addr, e := range rs.State {
		if !strings.HasSuffix(addr, ".permissions") || e.State == nil {
			continue
		}
		old, _ := e.State["permissions"].([]any)
		perms := make([]any, 0, len(old))
		for _, p := range old {
			m, ok := p.(map[string]any)
			if !ok {
				continue
			}
			n := map[string]any{}
			for k, v := range m {
				if k == "permission_level" {
					k = "level"
				}
				n[k] = v
			}
			perms = append(perms, n)
		}
		delete(e.State, "permissions")
		e.State[permsKey] = perms
		if len(e.DependsOn) == 0 {
			e.DependsOn = permDependsOn(strings.TrimSuffix(addr, ".permissions"))
		}
		rs.State[addr] = e
	}
	rs.StateVersion = currentStateVersion
	return nil
}

// writeResources writes resources.json with the next serial, as the CLI
// formats it (one-space indent).
func writeResources(ctx context.Context, fs workspaceFS, statePath string, rs *ResourcesState) error {
	rs.Serial++
	rs.CLIVersion = writerVersion()
	if rs.StateVersion < currentStateVersion {
		rs.StateVersion = currentStateVersion
	}
	sort.Strings(rs.Pending)
	data, err := json.MarshalIndent(rs, "", " ")
	if err != nil {
		return fmt.Errorf("failed to encode %s: %w", resourcesFile, err)
	}
	if err := fs.write(ctx, path.Join(statePath, resourcesFile), data, "", true); err != nil {
		return fmt.Errorf("failed to write %s: %w", resourcesFile, err)
	}
	return nil
}

// writeDeployment writes st's deployment.json, compact as the CLI writes
// it, recording the resources.json it goes with.
func writeDeployment(ctx context.Context, fs workspaceFS, statePath string, st *remoteState) error {
	ds := &st.deployment
	rec := st.record()
	ds.Resources = &rec
	sort.Slice(ds.Files, func(i, j int) bool { return ds.Files[i].LocalPath < ds.Files[j].LocalPath })
	data, err := json.Marshal(ds)
	if err != nil {
		return fmt.Errorf("failed to encode %s: %w", deploymentFile, err)
	}
	if err := fs.write(ctx, path.Join(statePath, deploymentFile), data, "", true); err != nil {
		return fmt.Errorf("failed to write %s: %w", deploymentFile, err)
	}
	return nil
}

// permDependsOn is the dependency of a permissions entry on its resource:
// the field of the resource the object id is made of (a serving endpoint's
// internal endpoint_id, a workspace model's model_id, any other resource's
// id), as the Databricks CLI names them.
func permDependsOn(addr string) []DependsOn {
	field := "id"
	switch {
	case strings.HasPrefix(addr, "resources.model_serving_endpoints."):
		field = "endpoint_id"
	case strings.HasPrefix(addr, "resources.models."):
		field = "model_id"
	}
	return []DependsOn{{Node: addr, Label: "${" + addr + "." + field + "}"}}
}

// permissionsState and statePermission give a permissions entry the field
// order the CLI writes (bundle/direct/dresources.PermissionsState), so that
// the bytes of resources.json are the CLI's and not those of a sorted map.
type permissionsState struct {
	ObjectID string            `json:"object_id"`
	Embed    []statePermission `json:"__embed__,omitempty"`
}

type statePermission struct {
	Level                string `json:"level,omitempty"`
	UserName             string `json:"user_name,omitempty"`
	ServicePrincipalName string `json:"service_principal_name,omitempty"`
	GroupName            string `json:"group_name,omitempty"`
}

// grantsState and stateGrant give a grants entry the field order the CLI
// writes (bundle/direct/dresources.GrantsState and
// catalog.PrivilegeAssignment).
type grantsState struct {
	SecurableType string       `json:"securable_type"`
	FullName      string       `json:"full_name"`
	Embed         []stateGrant `json:"__embed__,omitempty"`
}

type stateGrant struct {
	Principal  string   `json:"principal,omitempty"`
	Privileges []string `json:"privileges,omitempty"`
}

// MarshalJSON writes an entry; a permissions or grants state is written in
// the CLI's field order, any other state as its map.
func (e ResourceEntry) MarshalJSON() ([]byte, error) {
	type plain ResourceEntry
	if ps, ok := asPermissionsState(e.State); ok {
		return json.Marshal(struct {
			ID        string           `json:"__id__"`
			State     permissionsState `json:"state"`
			DependsOn []DependsOn      `json:"depends_on,omitempty"`
		}{e.ID, ps, e.DependsOn})
	}
	if gs, ok := asGrantsState(e.State); ok {
		return json.Marshal(struct {
			ID        string      `json:"__id__"`
			State     grantsState `json:"state"`
			DependsOn []DependsOn `json:"depends_on,omitempty"`
		}{e.ID, gs, e.DependsOn})
	}
	return json.Marshal(plain(e))
}

// asGrantsState converts a state holding exactly securable_type, full_name
// and __embed__ (principals with their privileges) into grantsState.
func asGrantsState(m map[string]any) (grantsState, bool) {
	typ, okType := m["securable_type"].(string)
	name, okName := m["full_name"].(string)
	list, okList := m[permsKey].([]any)
	if !okType || !okName || len(m) != 2+btoi(okList) {
		return grantsState{}, false
	}
	gs := grantsState{SecurableType: typ, FullName: name}
	for _, g := range list {
		gm, ok := g.(map[string]any)
		if !ok {
			return grantsState{}, false
		}
		var sg stateGrant
		for k, v := range gm {
			switch k {
			case "principal":
				if sg.Principal, ok = v.(string); !ok {
					return grantsState{}, false
				}
			case "privileges":
				privs, ok := v.([]any)
				if !ok {
					return grantsState{}, false
				}
				for _, p := range privs {
					s, ok := p.(string)
					if !ok {
						return grantsState{}, false
					}
					sg.Privileges = append(sg.Privileges, s)
				}
			default:
				return grantsState{}, false
			}
		}
		gs.Embed = append(gs.Embed, sg)
	}
	return gs, true
}

// asPermissionsState converts a state holding exactly object_id and
// __embed__ (with string fields only) into permissionsState.
func asPermissionsState(m map[string]any) (permissionsState, bool) {
	id, ok := m["object_id"].(string)
	list, okList := m[permsKey].([]any)
	if !ok || len(m) != 1+btoi(okList) {
		return permissionsState{}, false
	}
	ps := permissionsState{ObjectID: id}
	for _, p := range list {
		pm, ok := p.(map[string]any)
		if !ok {
			return permissionsState{}, false
		}
		var sp statePermission
		for k, v := range pm {
			s, ok := v.(string)
			if !ok {
				return permissionsState{}, false
			}
			switch k {
			case "level":
				sp.Level = s
			case "user_name":
				sp.UserName = s
			case "service_principal_name":
				sp.ServicePrincipalName = s
			case "group_name":
				sp.GroupName = s
			default:
				return permissionsState{}, false
			}
		}
		ps.Embed = append(ps.Embed, sp)
	}
	return ps, true
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
