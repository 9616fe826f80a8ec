package deploy

import (
	"context"
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/databricks/databricks-sdk-go"
)

// DeployedJobs returns the id of every job the target's deployment state
// records, by resource key, reading only resources.json. Jobs are found by
// the ids in state, never by name, so a job of the same name deployed by
// someone else is never run by mistake. A target that was never deployed
// is an error that says so.
func DeployedJobs(ctx context.Context, w *databricks.WorkspaceClient, statePath string) (map[string]int64, error) {
	rs, err := readDeployed(ctx, w, statePath)
	if err != nil {
		return nil, err
	}
	return jobIDs(rs)
}

// Deployed holds the ids of the resources a target's deployment state
// records, by resource key.
type Deployed struct {
	// Jobs are the job ids.
	Jobs map[string]int64
	// Pipelines are the pipeline ids.
	Pipelines map[string]string
}

// DeployedIDs returns the ids of the jobs and pipelines the target's
// deployment state records, reading resources.json once. As for
// DeployedJobs, resources are found by the ids in state, never by name, and
// a target that was never deployed is an error that says so.
func DeployedIDs(ctx context.Context, w *databricks.WorkspaceClient, statePath string) (Deployed, error) {
	rs, err := readDeployed(ctx, w, statePath)
	if err != nil {
		return Deployed{}, err
	}
	jobs, err := jobIDs(rs)
	if err != nil {
		return Deployed{}, err
	}
	return Deployed{Jobs: jobs, Pipelines: stringIDs(rs, "pipelines")}, nil
}

func readDeployed(ctx context.Context, w *databricks.WorkspaceClient, statePath string) (ResourcesState, error) {
	var rs ResourcesState
	data, err := sdkFS{w}.read(ctx, path.Join(statePath, resourcesFile))
	if isNotFound(err) {
		return rs, fmt.Errorf("no deployment state in %q: deploy the target first", statePath)
	}
	if err != nil {
		return rs, fmt.Errorf("failed to read %s: %w", resourcesFile, err)
	}
	if err := decodeJSON(data, &rs); err != nil {
		return rs, fmt.Errorf("failed to parse %s in %q: %w", resourcesFile, statePath, err)
	}
	return rs, nil
}

func jobIDs(rs ResourcesState) (map[string]int64, error) {
	ids := map[string]int64{}
	for key, id := range stringIDs(rs, "jobs") {
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("failed to parse the id %q of job %q in %s: %w", id, key, resourcesFile, err)
		}
		ids[key] = n
	}
	return ids, nil
}

// stringIDs returns the recorded id of every resource of one group
// (resources.<group>.<key>), leaving out nested entries such as
// permissions and grants.
func stringIDs(rs ResourcesState, group string) map[string]string {
	ids := map[string]string{}
	for addr, e := range rs.State {
		key, ok := strings.CutPrefix(addr, "resources."+group+".")
		if !ok || strings.Contains(key, ".") || e.ID == "" {
			continue
		}
		ids[key] = e.ID
	}
	return ids
}
