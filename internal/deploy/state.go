package deploy

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path"
	"sort"
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

// ResourcesState is resources.json: the CLI's Terraform-free resource state.
// Each entry is keyed "resources.<group>.<key>" (and
// "resources.<group>.<key>.permissions" for an ACL) and holds the remote id
// and the settings last applied, which plans compare against so that a plan
// does not need a GET per resource.
type ResourcesState struct {
	StateVersion int                      `json:"state_version"`
	CLIVersion   string                   `json:"cli_version"`
	Lineage      string                   `json:"lineage"`
	Serial       int                      `json:"serial"`
	State        map[string]ResourceEntry `json:"state"`
	// Pending lists resource addresses whose create was sent but whose id
	// was not yet recorded. The next deploy adopts such a resource by its
	// name and deployment stamp instead of creating a duplicate. The CLI
	// ignores the field.
	Pending []string `json:"brickci_pending,omitempty"`
}

// ResourceEntry is one resource in ResourcesState.
type ResourceEntry struct {
	ID    string         `json:"__id__"`
	State map[string]any `json:"state"`
}

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
}

// CLIVersion is written into state files as cli_version.
const CLIVersion = "brickci"

func jobAddr(key string) string      { return "resources.jobs." + key }
func endpointAddr(key string) string { return "resources.model_serving_endpoints." + key }
func permAddr(addr string) string    { return addr + ".permissions" }

// readState reads resources.json and deployment.json: one export each. A
// missing file is an empty state.
func readState(ctx context.Context, fs workspaceFS, statePath string) (*remoteState, error) {
	st := &remoteState{
		resources:  ResourcesState{StateVersion: 1, CLIVersion: CLIVersion, State: map[string]ResourceEntry{}},
		deployment: DeploymentState{Version: 1, CLIVersion: CLIVersion},
	}
	data, err := fs.read(ctx, path.Join(statePath, resourcesFile))
	switch {
	case isNotFound(err):
	case err != nil:
		return nil, fmt.Errorf("failed to read %s: %w", resourcesFile, err)
	default:
		if err := decodeJSON(data, &st.resources); err != nil {
			return nil, fmt.Errorf("failed to parse %s in %q: %w", resourcesFile, statePath, err)
		}
		if st.resources.State == nil {
			st.resources.State = map[string]ResourceEntry{}
		}
		st.exists = true
	}
	data, err = fs.read(ctx, path.Join(statePath, deploymentFile))
	switch {
	case isNotFound(err):
	case err != nil:
		return nil, fmt.Errorf("failed to read %s: %w", deploymentFile, err)
	default:
		if err := json.Unmarshal(data, &st.deployment); err != nil {
			return nil, fmt.Errorf("failed to parse %s in %q: %w", deploymentFile, statePath, err)
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

func writeResources(ctx context.Context, fs workspaceFS, statePath string, rs *ResourcesState) error {
	rs.Serial++
	sort.Strings(rs.Pending)
	data, err := json.MarshalIndent(rs, "", "  ")
	if err != nil {
		return fmt.Errorf("failed to encode %s: %w", resourcesFile, err)
	}
	if err := fs.write(ctx, path.Join(statePath, resourcesFile), data, "", true); err != nil {
		return fmt.Errorf("failed to write %s: %w", resourcesFile, err)
	}
	return nil
}

func writeDeployment(ctx context.Context, fs workspaceFS, statePath string, ds *DeploymentState) error {
	sort.Slice(ds.Files, func(i, j int) bool { return ds.Files[i].LocalPath < ds.Files[j].LocalPath })
	data, err := json.MarshalIndent(ds, "", "  ")
	if err != nil {
		return fmt.Errorf("failed to encode %s: %w", deploymentFile, err)
	}
	if err := fs.write(ctx, path.Join(statePath, deploymentFile), data, "", true); err != nil {
		return fmt.Errorf("failed to write %s: %w", deploymentFile, err)
	}
	return nil
}
