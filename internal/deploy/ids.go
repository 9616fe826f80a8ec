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
	data, err := sdkFS{w}.read(ctx, path.Join(statePath, resourcesFile))
	if isNotFound(err) {
		return nil, fmt.Errorf("no deployment state in %q: deploy the target first", statePath)
	}
	if err != nil {
		return nil, fmt.Errorf("failed to read %s: %w", resourcesFile, err)
	}
	var rs ResourcesState
	if err := decodeJSON(data, &rs); err != nil {
		return nil, fmt.Errorf("failed to parse %s in %q: %w", resourcesFile, statePath, err)
	}
	ids := map[string]int64{}
	for addr, e := range rs.State {
		key, ok := strings.CutPrefix(addr, "resources.jobs.")
		if !ok || strings.Contains(key, ".") {
			continue
		}
		id, err := strconv.ParseInt(e.ID, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("failed to parse the id %q of job %q in %s: %w", e.ID, key, resourcesFile, err)
		}
		ids[key] = id
	}
	return ids, nil
}
