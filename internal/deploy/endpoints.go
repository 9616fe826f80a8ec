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
			d.st.resources.Pending = removeString(d.st.resources.Pending, addr)
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
// points at: the CLI's shape, enough for the workspace UI to show that a
// job is managed by a bundle and where its files are.
type metadata struct {
	Version int            `json:"version"`
	Config  metadataConfig `json:"config"`
}

type metadataConfig struct {
	Bundle    map[string]any            `json:"bundle"`
	Workspace map[string]any            `json:"workspace"`
	Resources map[string]map[string]any `json:"resources"`
}

func (d *deployer) writeMetadata(ctx context.Context) error {
	jobsMeta := map[string]any{}
	for k, j := range d.b.Jobs {
		if e, ok := d.st.resources.State[jobAddr(k)]; ok {
			m := map[string]any{"id": e.ID}
			if rel := relativeLocation(d.b, j.Location); rel != "" {
				m["relative_path"] = rel
			}
			jobsMeta[k] = m
		}
	}
	bundleMeta := map[string]any{"name": d.b.Name, "target": d.b.Target}
	if g := d.b.Git; g != (bundle.Git{}) {
		// The CLI records the resolved bundle.git block.
		bundleMeta["git"] = g
	}
	md := metadata{Version: 1, Config: metadataConfig{
		Bundle:    bundleMeta,
		Workspace: map[string]any{"file_path": d.b.Workspace.FilePath},
		Resources: map[string]map[string]any{"jobs": jobsMeta},
	}}
	data, err := json.MarshalIndent(md, "", "  ")
	if err != nil {
		return fmt.Errorf("failed to encode %s: %w", metadataFile, err)
	}
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
