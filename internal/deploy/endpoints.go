package deploy

import (
	"context"
	"encoding/json"
	"fmt"
	"path"

	"github.com/brickci/brickci/internal/bundle"
	"github.com/databricks/databricks-sdk-go/service/iam"
	"github.com/databricks/databricks-sdk-go/service/serving"
)

// applyEndpoints creates, updates and deletes model serving endpoints. An
// endpoint's id in state is its name, as the CLI records it; a create or
// config update waits until the endpoint is no longer updating, bounded by
// Options.EndpointTimeout.
func (d *deployer) applyEndpoints(ctx context.Context, plan *PlanResult) error {
	for _, rc := range plan.Resources {
		if rc.Kind != KindServingEndpoint {
			continue
		}
		addr := endpointAddr(rc.Key)
		if rc.Action == Delete {
			if err := d.w.ServingEndpoints.Delete(ctx, serving.DeleteServingEndpointRequest{Name: rc.ID}); err != nil && !isNotFound(err) {
				return fmt.Errorf("failed to delete serving endpoint %q: %w", rc.ID, err)
			}
			delete(d.st.resources.State, addr)
			delete(d.st.resources.State, permAddr(addr))
			if err := d.saveResources(ctx); err != nil {
				return err
			}
			d.progress("deleted serving endpoint %s", rc.ID)
			continue
		}
		e := d.b.ServingEndpoints[rc.Key]
		req, norm, err := endpointSettings(e)
		if err != nil {
			return err
		}
		entry := d.st.resources.State[addr]
		var detail *serving.ServingEndpointDetailed
		switch {
		case rc.Action == Create || entry.ID == "" || entry.ID != req.Name:
			if entry.ID != "" && entry.ID != req.Name {
				if err := d.w.ServingEndpoints.Delete(ctx, serving.DeleteServingEndpointRequest{Name: entry.ID}); err != nil && !isNotFound(err) {
					return fmt.Errorf("failed to delete renamed serving endpoint %q: %w", entry.ID, err)
				}
				delete(d.st.resources.State, permAddr(addr))
			}
			wait, err := d.w.ServingEndpoints.Create(ctx, *req)
			if err != nil {
				return fmt.Errorf("failed to create serving endpoint %q: %w", req.Name, err)
			}
			// The name is recorded at once and the settings only once the
			// endpoint is ready: a deploy interrupted while waiting leaves
			// settings that match nothing, so the next deploy checks the
			// endpoint and waits for it instead of reporting it deployed.
			d.st.resources.State[addr] = ResourceEntry{ID: req.Name, State: map[string]any{}}
			d.st.resources.donePending(addr)
			if err := d.saveResources(ctx); err != nil {
				return err
			}
			d.progress("created serving endpoint %s; waiting until it is ready", req.Name)
			if detail, err = wait.GetWithTimeout(d.opts.EndpointTimeout); err != nil {
				return d.waitError(ctx, req.Name, err)
			}
			d.st.resources.State[addr] = ResourceEntry{ID: req.Name, State: norm}
			if err := d.saveResources(ctx); err != nil {
				return err
			}
		case rc.Action == Update && configChanged(entry.State, norm):
			if detail, err = d.updateEndpointConfig(ctx, req); err != nil {
				return err
			}
			entry.State = norm
			d.st.resources.State[addr] = entry
			if err := d.saveResources(ctx); err != nil {
				return err
			}
			d.progress("updated serving endpoint %s", req.Name)
		case rc.Action == Update:
			// Only tags, permissions or other non-config fields changed.
			entry.State = norm
			d.st.resources.State[addr] = entry
			if err := d.saveResources(ctx); err != nil {
				return err
			}
		}
		desired := acl(e.Permissions, d.opts.User, iam.PermissionLevelCanManage)
		if desired == nil && d.st.resources.State[permAddr(addr)].ID == "" {
			continue
		}
		objectID := d.st.resources.State[permAddr(addr)].ID
		if detail == nil && objectID == "" {
			if detail, err = d.w.ServingEndpoints.GetByName(ctx, req.Name); err != nil {
				return fmt.Errorf("failed to read serving endpoint %q: %w", req.Name, err)
			}
		}
		requestID := path.Base(objectID)
		if detail != nil {
			requestID = detail.Id
			objectID = "/serving-endpoints/" + detail.Id
		}
		if err := d.applyACL(ctx, addr, "serving-endpoints", requestID, objectID, desired); err != nil {
			return fmt.Errorf("failed to set permissions of serving endpoint %q: %w", req.Name, err)
		}
	}
	return nil
}

// waitError explains why waiting for a serving endpoint failed. The SDK's
// waiters report a cancelled context as a time-out, which would blame the
// endpoint for a deploy that was interrupted.
func (d *deployer) waitError(ctx context.Context, name string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("stopped waiting for serving endpoint %q: %w", name, ctx.Err())
	}
	return fmt.Errorf("serving endpoint %q did not become ready within %s: %w", name, d.opts.EndpointTimeout, err)
}

// updateEndpointConfig brings a serving endpoint's config to req's and
// returns the endpoint once it is no longer updating. An update still in
// progress, left by an interrupted deploy, is waited for first (the
// workspace refuses a second one), and a config that is already in place is
// not sent again.
func (d *deployer) updateEndpointConfig(ctx context.Context, req *serving.CreateServingEndpoint) (*serving.ServingEndpointDetailed, error) {
	cur, err := d.w.ServingEndpoints.GetByName(ctx, req.Name)
	if err != nil {
		return nil, fmt.Errorf("failed to read serving endpoint %q: %w", req.Name, err)
	}
	if cur.State != nil && cur.State.ConfigUpdate == serving.EndpointStateConfigUpdateInProgress {
		d.progress("serving endpoint %s is still being updated; waiting for it", req.Name)
		if cur, err = d.w.ServingEndpoints.WaitGetServingEndpointNotUpdating(ctx, req.Name, d.opts.EndpointTimeout, nil); err != nil {
			return nil, d.waitError(ctx, req.Name, err)
		}
	}
	in := serving.EndpointCoreConfigInput{Name: req.Name}
	if req.Config != nil {
		in = *req.Config
		in.Name = req.Name
	}
	applied, err := configApplied(in, cur)
	if err != nil {
		return nil, fmt.Errorf("failed to compare the config of serving endpoint %q: %w", req.Name, err)
	}
	if applied {
		return cur, nil
	}
	wait, err := d.w.ServingEndpoints.UpdateConfig(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("failed to update serving endpoint %q: %w", req.Name, err)
	}
	detail, err := wait.GetWithTimeout(d.opts.EndpointTimeout)
	if err != nil {
		return nil, d.waitError(ctx, req.Name, err)
	}
	return detail, nil
}

// configApplied reports whether every setting of want is what the
// endpoint's active config holds; settings the workspace fills in (served
// entity names, states, an implicit traffic config) are not compared. An
// endpoint whose last update failed never counts as applied.
func configApplied(want serving.EndpointCoreConfigInput, cur *serving.ServingEndpointDetailed) (bool, error) {
	if cur.Config == nil || (cur.State != nil && cur.State.ConfigUpdate == serving.EndpointStateConfigUpdateUpdateFailed) {
		return false, nil
	}
	w, err := normalise(want)
	if err != nil {
		return false, err
	}
	delete(w, "name")
	have, err := normalise(cur.Config)
	if err != nil {
		return false, err
	}
	return subsetOf(w, have), nil
}

// subsetOf reports whether want, decoded JSON, is contained in have: maps
// by key, lists element by element and of equal length, scalars equal.
func subsetOf(want, have any) bool {
	switch w := want.(type) {
	case map[string]any:
		h, ok := have.(map[string]any)
		if !ok {
			return false
		}
		for k, v := range w {
			if !subsetOf(v, h[k]) {
				return false
			}
		}
		return true
	case []any:
		h, ok := have.([]any)
		if !ok || len(h) != len(w) {
			return false
		}
		for i := range w {
			if !subsetOf(w[i], h[i]) {
				return false
			}
		}
		return true
	default:
		return fmt.Sprint(want) == fmt.Sprint(have)
	}
}

// configChanged reports whether the served entities, traffic or capture
// configuration differ, which is what UpdateConfig changes.
func configChanged(old, new map[string]any) bool {
	var fields []FieldChange
	diffValues("", old["config"], new["config"], &fields)
	return len(fields) > 0
}

// metadata is metadata.json, which jobs' deployment.metadata_file_path
// points at and the workspace UI reads to show where a deployment came
// from. Its shape is the Databricks CLI's (bundle/metadata), field for
// field and in the same order, at version 1.
type metadata struct {
	Version int            `json:"version"`
	Config  metadataConfig `json:"config"`
	Extra   metadataExtra  `json:"extra"`
}

type metadataConfig struct {
	Bundle    metadataBundle    `json:"bundle"`
	Workspace metadataWorkspace `json:"workspace"`
	Resources metadataResources `json:"resources"`
	Presets   metadataPresets   `json:"presets"`
}

// metadataBundle is config.bundle. Git is always present, empty when the
// checkout is unknown, as the CLI writes it.
type metadataBundle struct {
	Name   string      `json:"name,omitempty"`
	Target string      `json:"target,omitempty"`
	Mode   string      `json:"mode,omitempty"`
	Git    metadataGit `json:"git"`
}

// metadataGit holds the bundle.git values the CLI records; it does not
// record actual_branch.
type metadataGit struct {
	Branch         string `json:"branch,omitempty"`
	OriginURL      string `json:"origin_url,omitempty"`
	Commit         string `json:"commit,omitempty"`
	BundleRootPath string `json:"bundle_root_path,omitempty"`
}

type metadataWorkspace struct {
	FilePath string `json:"file_path"`
}

// metadataResources lists the deployed resources the UI links back to
// their files: the CLI records jobs, pipelines and dashboards only.
type metadataResources struct {
	Jobs map[string]metadataResource `json:"jobs,omitempty"`
}

type metadataResource struct {
	ID           string `json:"id,omitempty"`
	RelativePath string `json:"relative_path"`
}

// metadataPresets is config.presets; brickci copies files, so a deployment
// is never source-linked.
type metadataPresets struct {
	SourceLinkedDeployment bool `json:"source_linked_deployment"`
}

// metadataExtra is extra; git_folder_path is only set by deploys run from
// a Git folder inside the workspace, which brickci never is.
type metadataExtra struct {
	GitFolderPath string `json:"git_folder_path,omitempty"`
}

// buildMetadata is the metadata of the deployment of b with the resource
// ids in rs: every job of the bundle that has an id.
func buildMetadata(b *bundle.Bundle, rs ResourcesState) metadata {
	jobsMeta := map[string]metadataResource{}
	for k, j := range b.Jobs {
		e, ok := rs.State[jobAddr(k)]
		if !ok || e.ID == "" {
			continue
		}
		jobsMeta[k] = metadataResource{ID: e.ID, RelativePath: relativeLocation(b, j.Location)}
	}
	return metadata{
		Version: 1,
		Config: metadataConfig{
			Bundle: metadataBundle{Name: b.Name, Target: b.Target, Mode: b.Mode, Git: metadataGit{
				Branch: b.Git.Branch, OriginURL: b.Git.OriginURL, Commit: b.Git.Commit, BundleRootPath: b.Git.BundleRootPath,
			}},
			Workspace: metadataWorkspace{FilePath: b.Workspace.FilePath},
			Resources: metadataResources{Jobs: jobsMeta},
		},
	}
}

func (d *deployer) writeMetadata(ctx context.Context) error {
	data, err := d.metadataBytes()
	if err != nil {
		return err
	}
	return d.writeMetadataBytes(ctx, data)
}

// metadataBytes is metadata.json for the resources in state, as written.
func (d *deployer) metadataBytes() ([]byte, error) {
	data, err := json.MarshalIndent(buildMetadata(d.b, d.st.resources), "", "  ")
	if err != nil {
		return nil, fmt.Errorf("failed to encode %s: %w", metadataFile, err)
	}
	return data, nil
}

func (d *deployer) writeMetadataBytes(ctx context.Context, data []byte) error {
	if err := d.fs.write(ctx, path.Join(d.b.Workspace.StatePath, metadataFile), data, "", true); err != nil {
		return fmt.Errorf("failed to write %s: %w", metadataFile, err)
	}
	return nil
}

// relativeLocation is the file defining a resource, relative to the bundle
// root, or "" when unknown.
func relativeLocation(b *bundle.Bundle, loc bundle.Location) string {
	if loc.File == "" {
		return ""
	}
	if b.Dir != "" {
		if rel, ok := cutDir(loc.File, b.Dir); ok {
			return rel
		}
	}
	return path.Base(loc.File)
}
