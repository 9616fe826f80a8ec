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
			d.st.resources.State[addr] = ResourceEntry{ID: req.Name, State: norm}
			d.st.resources.Pending = removeString(d.st.resources.Pending, addr)
			if err := d.saveResources(ctx); err != nil {
				return err
			}
			d.progress("created serving endpoint %s; waiting until it is ready", req.Name)
			if detail, err = wait.GetWithTimeout(d.opts.EndpointTimeout); err != nil {
				return fmt.Errorf("serving endpoint %q did not become ready within %s: %w", req.Name, d.opts.EndpointTimeout, err)
			}
		case rc.Action == Update && configChanged(entry.State, norm):
			in := serving.EndpointCoreConfigInput{Name: req.Name}
			if req.Config != nil {
				in = *req.Config
				in.Name = req.Name
			}
			wait, err := d.w.ServingEndpoints.UpdateConfig(ctx, in)
			if err != nil {
				return fmt.Errorf("failed to update serving endpoint %q: %w", req.Name, err)
			}
			if detail, err = wait.GetWithTimeout(d.opts.EndpointTimeout); err != nil {
				return fmt.Errorf("serving endpoint %q did not become ready within %s: %w", req.Name, d.opts.EndpointTimeout, err)
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
	md := metadata{Version: 1, Config: metadataConfig{
		Bundle:    map[string]any{"name": d.b.Name, "target": d.b.Target},
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
